/// <reference types="node" />
// Reading the tests' sinks back: the raw log of handler runs (fixtures/
// sink-handler.mjs) and the block-stats bucket (the example handler), and
// checking them against the chain.
import { expect } from 'vitest'
import { fileURLToPath } from 'node:url'
import { jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import { blockSubsidy, type BlockStats } from '../src/index.js'
import { REGTEST_HALVING_INTERVAL } from '../src/limits.js'
import type { ChainTruth } from './chain.js'
import { readAll, retrying, until } from './nats-util.js'

/** The handler module the tests' workers load. */
export const SINK_HANDLER = fileURLToPath(new URL('./fixtures/sink-handler.mjs', import.meta.url))
/** A handler that always throws. */
export const THROWING_HANDLER = fileURLToPath(new URL('./fixtures/throwing-handler.mjs', import.meta.url))

/** One run of the handler, as the sink handler logs it. */
export interface LogEntry {
  readonly worker: string
  readonly msgId: string
  readonly hash: string
  readonly height: number
  readonly part: number
  readonly parts: number
  readonly deliveryCount: number
  readonly txids: readonly string[]
  readonly hang: boolean
  readonly gate: boolean
}

/** Every handler run logged in namespace `ns` (none before a worker made the log). */
export async function readLog(nc: NatsConnection, ns: string): Promise<LogEntry[]> {
  return (await readAll(nc, `${ns}-testlog`, { mustExist: false })).map((m) => m.json<LogEntry>())
}

/**
 * The block-stats entries of `hashes` (display hex) in namespace `ns`, by
 * hash (absent ones left out). Direct gets only, each retried until the
 * bucket answers (after a cluster node fails, its stream elects a leader).
 */
export async function readStats(nc: NatsConnection, ns: string, hashes: readonly string[]): Promise<Map<string, BlockStats>> {
  const kv = await new Kvm(nc).open(`${ns}-block-stats`)
  const out = new Map<string, BlockStats>()
  for (const h of hashes) {
    let e: Awaited<ReturnType<typeof kv.get>> | undefined
    await until(async () => {
      e = await kv.get(h).catch(() => undefined)
      return e !== undefined
    }, `the block-stats bucket to answer for ${h}`)
    if (e && e.operation === 'PUT') out.set(h, e.json<BlockStats>())
  }
  return out
}

/**
 * True once the block work queue of `ns` is empty (a work queue deletes a
 * message when it is acknowledged) and its consumer has nothing delivered
 * unacknowledged. The stream is asked, not only the consumer: after a
 * consumer leader changes, its num_pending can read 0 while messages wait.
 */
export async function consumerIdle(nc: NatsConnection, ns: string): Promise<boolean> {
  // Making the manager asks the account info: retried as well, as the calls below (a cluster may still be electing).
  const jsm = await retrying(() => jetstreamManager(nc), 'the JetStream manager').catch(() => undefined)
  if (jsm === undefined) return false
  const stream = await retrying(() => jsm.streams.info(`${ns}-blocks`), 'the block stream').catch(() => undefined)
  const info = await retrying(() => jsm.consumers.info(`${ns}-blocks`, `${ns}-indexers`), 'the consumer').catch(() => undefined)
  return stream?.state.messages === 0 && info !== undefined && info.num_ack_pending === 0
}

/** Entries with one entry per part (the first of each msgId). */
export function byPart(log: readonly LogEntry[]): Map<string, LogEntry> {
  const m = new Map<string, LogEntry>()
  for (const e of log) if (!m.has(e.msgId)) m.set(e.msgId, e)
  return m
}

/**
 * The sinks hold the chain exactly: one entry per part, together every
 * txid of every block once (count and set), and each block's stats
 * complete with the chain's transaction count and claimed fees.
 */
export function expectChainAtSink(truth: ChainTruth, log: readonly LogEntry[], stats: Map<string, BlockStats>): void {
  const parts = [...byPart(log).values()]
  const txids = parts.flatMap((e) => e.txids)
  expect(txids.length).toBe(truth.txids.length)
  expect(new Set(txids).size).toBe(txids.length)
  expect([...txids].sort()).toEqual([...truth.txids].sort())
  expect(stats.size).toBe(truth.blocks.length)
  truth.blocks.forEach((b, height) => {
    const s = stats.get(b.hash)
    expect(s, `stats of block ${height}`).toBeDefined()
    expect(s!.complete).toBe(true)
    expect(s!.height).toBe(height)
    expect(s!.txs).toBe(b.txids.length)
    expect(s!.blockTxCount).toBe(b.txids.length)
    expect(s!.partsDone).toEqual(Array.from({ length: s!.partCount }, (_, i) => i))
    expect(s!.coinbaseSats).toBe(String(b.coinbaseSats))
    expect(s!.claimedFeeSats).toBe(String(b.coinbaseSats - blockSubsidy(height, REGTEST_HALVING_INTERVAL)))
    // Blocks with wallet transactions pay fees (bcoin's miner claims them all); others none.
    if (height > 0) expect(BigInt(s!.claimedFeeSats!) > 0n).toBe(b.txids.length > 1)
  })
}
