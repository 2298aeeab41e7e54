/// <reference types="node" />
// Helpers of the JetStream tests: waiting on conditions (never on a fixed
// sleep), and reading a whole stream back.
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { scaled } from '../../../test/harness/timing.js'

/** Polling step of `until`. */
const POLL_MS = 25

/**
 * Poll `cond` until it holds; throws after `ms` (a hang net: pass it
 * scaled), naming `what` (called then, so it can describe the state).
 * Resolves with the time waited.
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string | (() => string), ms = scaled(20_000)): Promise<number> {
  const t0 = performance.now()
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
  return performance.now() - t0
}

/**
 * `fn()`, again after a failure that passes (no JetStream answer: a
 * cluster electing a leader) until it succeeds; throws after `ms`.
 */
export async function retrying<T>(fn: () => Promise<T>, what: string, ms = scaled(30_000)): Promise<T> {
  const t0 = performance.now()
  for (;;) {
    try {
      return await fn()
    } catch (e) {
      const name = (e as Error)?.name
      const passing =
        name === 'TimeoutError' || name === 'NoRespondersError' || name === 'RequestError' || name === 'JetStreamNotEnabled' || /no responders|timeout|leader|not enabled/i.test((e as Error)?.message ?? '')
      if (!passing || performance.now() - t0 > ms) throw e
      await new Promise((r) => setTimeout(r, POLL_MS * 4))
    }
  }
}

/** Every message of `stream` (limits retention), in order, through an ordered consumer (none when it does not exist and `mustExist` is false). */
export async function readAll(nc: NatsConnection, stream: string, { mustExist = true } = {}): Promise<JsMsg[]> {
  const jsm = await jetstreamManager(nc)
  const info = await retrying(() => jsm.streams.info(stream), `info of ${stream}`).catch((e) => {
    if (!mustExist && (e as Error)?.name === 'StreamNotFoundError') return undefined
    throw e
  })
  const total = info?.state.messages ?? 0
  const out: JsMsg[] = []
  if (total === 0) return out
  const c = await retrying(() => jetstream(nc).consumers.get(stream), `a reader of ${stream}`)
  while (out.length < total) {
    const batch = await c.fetch({ max_messages: Math.min(500, total - out.length), expires: scaled(5_000) })
    for await (const m of batch) out.push(m)
  }
  return out
}

/** Messages a stream holds now. */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc)
  return (await retrying(() => jsm.streams.info(stream), `info of ${stream}`)).state.messages
}

/** Stream limits of the tests: small, so that many namespaces fit the server's reservation limit. */
export const TEST_STREAMS = { deadMaxBytes: 4 * 1024 * 1024, mempoolMaxBytes: 4 * 1024 * 1024 } as const
