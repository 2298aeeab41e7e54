/**
 * Small helpers shared by the interop steps. Runtime-neutral: no vitest, no
 * node:* import, no `process`, so the steps run under Node (vitest), Deno
 * and Bun alike. A failed check throws InteropError with what was expected
 * and what was seen.
 */
import { Peer, type ConnectOptions, type PeerEvents, type PeerOptions } from '@bitp2p/session'
import { regtest } from '@bitp2p/wire'
import { TcpConnector } from '@bitp2p/transport-tcp'
import type { InteropNode } from './node.js'
import { scaled } from '../harness/timing.js'

/** How long any single wait of a step may take before the step fails. */
export const STEP_WAIT_MS = scaled(15_000)
/** TCP connect deadline to bcoin on loopback. */
export const CONNECT_TIMEOUT_MS = scaled(5_000)
/** Deadline of one ping round trip to bcoin on loopback (well under a millisecond on an idle machine). */
export const PING_TIMEOUT_MS = scaled(5_000)

/** A check of an interop step failed. */
export class InteropError extends Error {
  override readonly name = 'InteropError'
}

/** Throws InteropError(message) unless `cond`. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InteropError(message)
}

/** Throws unless `actual === expected`, showing both. */
export function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new InteropError(`${what}: expected ${String(expected)}, got ${String(actual)}`)
}

/** Milliseconds since `start` (a performance.now() reading), to 0.01 ms. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100
}

/** Options for a Peer talking regtest to bcoin; `extra` overrides. */
export function regtestPeerOptions(extra: Partial<PeerOptions> = {}): PeerOptions {
  return { network: regtest, ...extra }
}

/** Connect a Peer to `node` over real TCP and complete the handshake. */
export function connectPeer(node: InteropNode, extra: Partial<ConnectOptions> = {}): Promise<Peer> {
  return Peer.connect(node.p2p, {
    connector: new TcpConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS }),
    ...regtestPeerOptions(extra),
  })
}

/**
 * The next `event` of `peer` whose arguments pass `accept`, within
 * `timeoutMs`. Rejects if the timeout passes or the peer closes first.
 */
export function nextEvent<K extends keyof PeerEvents>(
  peer: Peer,
  event: K,
  what: string,
  accept: (...args: PeerEvents[K]) => boolean = () => true,
  timeoutMs = STEP_WAIT_MS,
): Promise<PeerEvents[K]> {
  return new Promise((resolve, reject) => {
    const onEvent = (...args: PeerEvents[K]): void => {
      if (!accept(...args)) return
      done()
      resolve(args)
    }
    const onClose = (reason: PeerEvents['close'][0]): void => {
      done()
      reject(new InteropError(`${what}: the peer closed first (${reason.kind})`))
    }
    const timer = setTimeout(() => {
      done()
      reject(new InteropError(`${what}: not within ${timeoutMs} ms`))
    }, timeoutMs)
    const done = (): void => {
      clearTimeout(timer)
      peer.off(event, onEvent)
      peer.off('close', onClose)
    }
    peer.on(event, onEvent)
    if (event !== 'close') peer.once('close', onClose)
  })
}

/** Polls `probe` until it returns true; throws after `timeoutMs`. Resolves with the time waited. */
export async function waitUntil(probe: () => Promise<boolean> | boolean, what: string, timeoutMs = STEP_WAIT_MS, pollMs = 20): Promise<number> {
  const start = performance.now()
  for (;;) {
    if (await probe()) return since(start)
    if (performance.now() - start > timeoutMs) throw new InteropError(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/** Resolves with what `p` settles to, or rejects after `timeoutMs`. */
export function within<T>(p: Promise<T>, what: string, timeoutMs = STEP_WAIT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new InteropError(`${what}: not within ${timeoutMs} ms`)), timeoutMs)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e) => {
        clearTimeout(timer)
        reject(e)
      },
    )
  })
}
