// CloudflareConnector over a scripted connect() (test/fake-socket.ts):
// what it asks the runtime for, and how every connect ends, each with a
// typed TransportError and a socket that is closed when it is not handed
// over. The runtime's own failures are seen in test/workerd.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TransportError } from '@bitp2p/session'
import { CloudflareConnector, CloudflareTransport, DEFAULT_CF_CONNECT_TIMEOUT_MS } from '../src/index.js'
import { fakeConnect, flush } from './fake-socket.js'

const ADDR = { host: '127.0.0.1', port: 18444 }

/** The rejection of `p` (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p
  } catch (e) {
    return e as TransportError
  }
  throw new Error('expected a rejection')
}

afterEach(() => {
  vi.useRealTimers()
})

describe('CloudflareConnector', () => {
  it('asks the runtime for plain TCP without half-open, to the bare host; resolves once opened', async () => {
    const connect = fakeConnect()
    const p = new CloudflareConnector({ connect }).connect({ host: '[::1]', port: 8333 })
    expect(connect.sockets).toHaveLength(1)
    const s = connect.sockets[0]!
    expect(s.address).toEqual({ hostname: '::1', port: 8333 })
    expect(s.options).toEqual({ secureTransport: 'off', allowHalfOpen: false })
    s.openedD.resolve({ remoteAddress: '[::1]:8333' })
    const t = await p
    expect(t).toBeInstanceOf(CloudflareTransport)
    expect(t.remote).toEqual({ host: '::1', port: 8333 })
    expect(s.closeCalls).toBe(0)
  })

  it("an already-aborted signal: 'aborted' with its reason, and no socket", async () => {
    const connect = fakeConnect()
    const ac = new AbortController()
    ac.abort(new Error('stop'))
    const err = await rejection(new CloudflareConnector({ connect }).connect(ADDR, ac.signal))
    expect(err.name).toBe('TransportError')
    expect(err.kind).toBe('aborted')
    expect(err.cause).toBe(ac.signal.reason)
    expect(connect.sockets).toHaveLength(0)
  })

  it("an abort during the connect: 'aborted', and the socket is closed", async () => {
    const connect = fakeConnect()
    const ac = new AbortController()
    const p = new CloudflareConnector({ connect }).connect(ADDR, ac.signal)
    ac.abort(new Error('stop'))
    const err = await rejection(p)
    expect(err.kind).toBe('aborted')
    expect(connect.sockets[0]!.closeCalls).toBe(1)
    // A late open changes nothing: the promise has settled, the socket stays closed.
    connect.sockets[0]!.openedD.resolve({})
    await flush()
    expect(connect.sockets[0]!.closeCalls).toBe(1)
  })

  it("an invalid address: 'connect-failed' without asking the runtime", async () => {
    const connect = fakeConnect()
    const c = new CloudflareConnector({ connect })
    for (const addr of [
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.1', port: 65536 },
      { host: '127.0.0.1', port: 1.5 },
      { host: '', port: 8333 },
      { host: '[]', port: 8333 },
    ]) {
      const err = await rejection(c.connect(addr))
      expect(err.kind, JSON.stringify(addr)).toBe('connect-failed')
      expect(err.message).toMatch(/^invalid peer address /)
    }
    expect(connect.sockets).toHaveLength(0)
  })

  it("connect() throwing (no request context, too many connections): 'connect-failed' carrying the error", async () => {
    const boom = new Error('Too many open connections')
    const err = await rejection(
      new CloudflareConnector({
        connect: () => {
          throw boom
        },
      }).connect(ADDR),
    )
    expect(err.kind).toBe('connect-failed')
    expect(err.cause).toBe(boom)
    expect(err.message).toBe('connect to 127.0.0.1:18444 failed: Too many open connections')
  })

  it("opened rejecting (refused, unreachable, forbidden): 'connect-failed'; a runtime timeout: 'timeout'", async () => {
    const connect = fakeConnect()
    const c = new CloudflareConnector({ connect })
    const refused = new Error('proxy request failed, cannot connect to the specified address')
    const p1 = c.connect(ADDR)
    connect.sockets[0]!.openedD.reject(refused)
    const e1 = await rejection(p1)
    expect(e1.kind).toBe('connect-failed')
    expect(e1.cause).toBe(refused)
    expect(connect.sockets[0]!.closeCalls).toBe(1)

    const timedOut = new Error('connection timed out')
    const p2 = c.connect(ADDR)
    connect.sockets[1]!.openedD.reject(timedOut)
    const e2 = await rejection(p2)
    expect(e2.kind).toBe('timeout')
    expect(e2.cause).toBe(timedOut)
  })

  it("the socket closing before it opened: 'connect-failed'", async () => {
    const connect = fakeConnect()
    const p = new CloudflareConnector({ connect }).connect(ADDR)
    connect.sockets[0]!.closedD.resolve()
    const err = await rejection(p)
    expect(err.kind).toBe('connect-failed')
    expect(err.message).toBe('connect to 127.0.0.1:18444 failed: the socket closed before it opened')
  })

  it("no answer within connectTimeoutMs: 'timeout', and the socket is closed", async () => {
    vi.useFakeTimers()
    const connect = fakeConnect()
    const p = new CloudflareConnector({ connect, connectTimeoutMs: 1_000 }).connect(ADDR)
    const settled = vi.fn()
    p.then(settled, settled)
    await vi.advanceTimersByTimeAsync(999)
    expect(settled).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    const err = await rejection(p)
    expect(err.kind).toBe('timeout')
    expect(err.message).toBe('connect to 127.0.0.1:18444 timed out after 1000 ms')
    expect(connect.sockets[0]!.closeCalls).toBe(1)
  })

  it('the default timeout is 10 s; 0 means no timer of ours', async () => {
    expect(DEFAULT_CF_CONNECT_TIMEOUT_MS).toBe(10_000)
    vi.useFakeTimers()
    const connect = fakeConnect()
    const p = new CloudflareConnector({ connect, connectTimeoutMs: 0 }).connect(ADDR)
    const settled = vi.fn()
    p.then(settled, settled)
    await vi.advanceTimersByTimeAsync(24 * 3600_000)
    expect(settled).not.toHaveBeenCalled()
    connect.sockets[0]!.openedD.resolve({})
    await expect(p).resolves.toBeInstanceOf(CloudflareTransport)
  })

  it('without a connect option, uses the runtime module (outside a worker its connect() throws: connect-failed)', async () => {
    const err = await rejection(new CloudflareConnector().connect(ADDR))
    expect(err.kind).toBe('connect-failed')
    expect(err.message).toMatch(/only available in a Cloudflare-style worker/)
  })

  it('rejects bad options at construction', () => {
    expect(() => new CloudflareConnector({ connectTimeoutMs: -1 })).toThrow(RangeError)
    expect(() => new CloudflareConnector({ connectTimeoutMs: Number.NaN })).toThrow(RangeError)
    expect(() => new CloudflareConnector({ maxBufferedBytes: 0 })).toThrow(/maxBufferedBytes/)
  })
})
