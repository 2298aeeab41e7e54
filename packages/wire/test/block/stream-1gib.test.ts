// A synthetic block of more than 1 GiB, generated chunk by chunk (never held
// whole), streamed through BlockStreamParser: every transaction's offset,
// length, txid and wtxid, the merkle root and the witness commitment are
// checked, and the process's resident memory must stay flat.
//
// The generator hashes with node:crypto (the parser under test uses the
// pure-JS default). Transactions are a few templates of 100 KB to 1 MB that
// differ only in their last 4 bytes (the locktime), so each template's
// SHA-256 state before the locktime is computed once and copied per
// transaction.
import { describe, expect, it } from 'vitest'
import { createHash, type Hash } from 'node:crypto'
import { bytesEqual, toHex } from '../../src/bytes/hex.js'
import { ByteWriter, compactSizeLength } from '../../src/bytes/writer.js'
import { serializeBlockHeader } from '../../src/block/header.js'
import { MerkleBuilder } from '../../src/block/merkle.js'
import { BlockStreamParser } from '../../src/block/stream.js'
import { forWork } from '../../../../test/harness/timing.js'

const GIB = 1024 * 1024 * 1024
/** Wall-clock budget per MiB planned, hashed and parsed (about 11 ms on an idle machine): the test's hang net. */
const MIB_BUDGET_MS = 120
/** An odd chunk size, so chunk boundaries fall everywhere inside transactions. */
const CHUNK_BYTES = 64 * 1024 + 13
const RSS_GROWTH_LIMIT = 256 * 1024 * 1024
const HEIGHT = 1_234_567

interface Template {
  /** Every byte of the transaction but the 4-byte locktime. */
  readonly prefix: Uint8Array
  readonly segwit: boolean
  /** SHA-256 state after the txid preimage minus the locktime. */
  readonly txidState: Hash
  /** SHA-256 state after the whole serialization minus the locktime (segwit only). */
  readonly wtxidState: Hash | undefined
}

function le32(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24)
}
function finish(state: Hash, tail: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(state.copy().update(tail).digest()).digest())
}
function sha256d(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(createHash('sha256').update(h.digest()).digest())
}

/** A transaction of exactly `size` bytes with one big output script; returns its parts. */
function makeTemplate(size: number, segwit: boolean, seed: number): Template {
  const witness = segwit ? [new Uint8Array(72).fill(seed), new Uint8Array(33).fill(seed + 1)] : []
  const build = (scriptLen: number) => {
    const w = new ByteWriter(size + 16)
    const body = new ByteWriter(size + 16)
    body.compactSize(1).hash(new Uint8Array(32).fill(seed)).u32le(seed).varBytes(new Uint8Array(107).fill(0x30)).u32le(0xfffffffe)
    body.compactSize(2)
    body.u64le(1000n + BigInt(seed)).varBytes(new Uint8Array(scriptLen).fill(0x6a ^ seed))
    body.u64le(546n).varBytes(Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(seed)))
    const bodyBytes = body.finish()
    w.i32le(2)
    if (segwit) w.u8(0).u8(1)
    w.bytes(bodyBytes)
    if (segwit) {
      w.compactSize(witness.length)
      for (const item of witness) w.varBytes(item)
    }
    return { prefix: w.finish(), body: bodyBytes }
  }
  // Size the big script so the whole transaction (with its locktime) is `size` bytes.
  let scriptLen = size - 400
  let parts = build(scriptLen)
  scriptLen += size - (parts.prefix.length + 4)
  parts = build(scriptLen)
  expect(parts.prefix.length + 4).toBe(size)
  const txidState = createHash('sha256').update(le32(2)).update(parts.body)
  const wtxidState = segwit ? createHash('sha256').update(parts.prefix) : undefined
  return { prefix: parts.prefix, segwit, txidState, wtxidState }
}

function makeCoinbase(witnessRoot: Uint8Array): { bytes: Uint8Array; txid: Uint8Array } {
  const reserved = new Uint8Array(32)
  const commitment = sha256d(witnessRoot, reserved)
  const body = new ByteWriter(200)
  body
    .compactSize(1)
    .hash(new Uint8Array(32))
    .u32le(0xffffffff)
    .varBytes(Uint8Array.of(0x03, HEIGHT & 0xff, (HEIGHT >> 8) & 0xff, HEIGHT >> 16, 0x2f, 0x62, 0x69, 0x74, 0x70, 0x32, 0x70))
    .u32le(0xffffffff)
  body.compactSize(2)
  body.u64le(625_000_000n).varBytes(Uint8Array.of(0x51))
  body.u64le(0n).varBytes(Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed, ...commitment))
  const bodyBytes = body.finish()
  const w = new ByteWriter(300)
  w.i32le(2).u8(0).u8(1).bytes(bodyBytes).compactSize(1).varBytes(reserved).u32le(0)
  return { bytes: w.finish(), txid: sha256d(le32(2), bodyBytes, le32(0)) }
}

interface Plan {
  readonly head: Uint8Array
  readonly coinbase: Uint8Array
  readonly templates: Template[]
  /** Template index of transaction i + 1. */
  readonly order: number[]
  readonly txids: Uint8Array[]
  readonly wtxids: Uint8Array[]
  readonly merkleRoot: Uint8Array
  readonly total: number
}

function plan(minBytes: number): Plan {
  const sizes = [100_003, 262_147, 524_309, 786_433, 1_000_003]
  const templates = sizes.map((s, i) => makeTemplate(s, i % 2 === 1, i + 1))
  const order: number[] = []
  const txids: Uint8Array[] = [new Uint8Array(0)]
  const wtxids: Uint8Array[] = [new Uint8Array(32)]
  let body = 0
  for (let i = 1; body < minBytes; i++) {
    const t = (i * 7) % templates.length
    order.push(t)
    const tpl = templates[t]!
    const lock = le32(i)
    const txid = finish(tpl.txidState, lock)
    txids.push(txid)
    wtxids.push(tpl.segwit ? finish(tpl.wtxidState!, lock) : txid)
    body += tpl.prefix.length + 4
  }
  const witness = new MerkleBuilder()
  for (const h of wtxids) witness.add(h)
  const coinbase = makeCoinbase(witness.root())
  txids[0] = coinbase.txid
  wtxids[0] = sha256d(coinbase.bytes)
  const merkle = new MerkleBuilder()
  for (const h of txids) merkle.add(h)
  const merkleRoot = merkle.root()
  const header = serializeBlockHeader({ version: 0x20000000, prevBlock: new Uint8Array(32).fill(7), merkleRoot, time: 1_700_000_000, bits: 0x207fffff, nonce: 42 })
  const count = order.length + 1
  const head = new ByteWriter(100).bytes(header).compactSize(count).finish()
  const total = head.length + coinbase.bytes.length + body
  expect(head.length).toBe(80 + compactSizeLength(count))
  return { head, coinbase: coinbase.bytes, templates, order, txids, wtxids, merkleRoot, total }
}

/** The block's bytes as a sequence of pieces (shared buffers, nothing assembled). */
function* pieces(p: Plan): Generator<Uint8Array> {
  yield p.head
  yield p.coinbase
  for (let i = 0; i < p.order.length; i++) {
    yield p.templates[p.order[i]!]!.prefix
    yield le32(i + 1)
  }
}

/** Fixed-size chunks cut from the pieces, in one reused buffer. */
function* chunks(p: Plan, size: number): Generator<Uint8Array> {
  const buf = new Uint8Array(size)
  let fill = 0
  for (const piece of pieces(p)) {
    let at = 0
    while (at < piece.length) {
      const n = Math.min(size - fill, piece.length - at)
      buf.set(piece.subarray(at, at + n), fill)
      fill += n
      at += n
      if (fill === size) {
        yield buf
        fill = 0
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill)
}

describe('BlockStreamParser on a 1 GiB block', () => {
  it('streams every transaction with bounded memory', { timeout: forWork(GIB / (1024 * 1024), MIB_BUDGET_MS) }, () => {
    const t0 = performance.now()
    const p = plan(GIB)
    expect(p.total).toBeGreaterThan(GIB)
    const tPlan = performance.now()

    globalThis.gc?.()
    const baseline = process.memoryUsage().rss
    let peak = baseline
    const parser = new BlockStreamParser({ maxBlockBytes: 2 ** 40, totalLength: BigInt(p.total), maxTxBytes: 1_100_000 })
    let nextIndex = 0
    let nextOffset = p.head.length
    let pushed = 0
    let n = 0
    for (const chunk of chunks(p, CHUNK_BYTES)) {
      for (const ev of parser.push(chunk)) {
        if (ev.type === 'error') throw ev.error
        if (ev.type === 'header') {
          expect(ev.txCount).toBe(p.txids.length)
          expect(toHex(ev.header.merkleRoot)).toBe(toHex(p.merkleRoot))
          continue
        }
        const i = nextIndex++
        const length = i === 0 ? p.coinbase.length : p.templates[p.order[i - 1]!]!.prefix.length + 4
        if (ev.index !== i || ev.offset !== nextOffset || ev.length !== length) {
          expect({ index: ev.index, offset: ev.offset, length: ev.length }).toEqual({ index: i, offset: nextOffset, length })
        }
        if (!bytesEqual(ev.txid, p.txids[i]!) || !bytesEqual(ev.wtxid, p.wtxids[i]!)) {
          expect([toHex(ev.txid), toHex(ev.wtxid)], `tx ${i}`).toEqual([toHex(p.txids[i]!), toHex(p.wtxids[i]!)])
        }
        nextOffset += length
      }
      pushed += chunk.length
      if (++n % 512 === 0) peak = Math.max(peak, process.memoryUsage().rss)
    }
    const end = parser.end()
    peak = Math.max(peak, process.memoryUsage().rss)
    const tEnd = performance.now()

    expect(pushed).toBe(p.total)
    expect(nextIndex).toBe(p.txids.length)
    expect(end.length).toBe(p.total)
    expect(end.txCount).toBe(p.txids.length)
    expect(toHex(end.merkleRoot)).toBe(toHex(p.merkleRoot))
    expect(end.hasWitness).toBe(true)
    expect(end.verified).toBe(true)
    const growth = peak - baseline
    const mb = (b: number) => (b / 1024 / 1024).toFixed(1)
    console.log(
      `1 GiB stream: ${mb(p.total)} MiB, ${p.txids.length} txs, chunks of ${CHUNK_BYTES} B; ` +
        `plan ${(tPlan - t0).toFixed(0)} ms, stream ${(tEnd - tPlan).toFixed(0)} ms ` +
        `(${(p.total / 1024 / 1024 / ((tEnd - tPlan) / 1000)).toFixed(0)} MiB/s); ` +
        `rss baseline ${mb(baseline)} MiB, peak ${mb(peak)} MiB, growth ${mb(growth)} MiB`,
    )
    expect(growth).toBeLessThan(RSS_GROWTH_LIMIT)
  })
})
