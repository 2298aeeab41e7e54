import { createServer, type Server } from 'node:net'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TcpConnector, TcpListener, type TcpTransport } from '../src/index.js'
import { acceptQueue, closed, rejection, sleep, until } from './helpers.js'
import { scaled } from '../../../test/harness/timing.js'

/** Can this machine bind the IPv6 loopback? (Containers often have no ::1.) */
async function canListen(host: string): Promise<boolean> {
  const s = createServer()
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false))
    s.listen({ host, port: 0 }, () => resolve(true))
  })
  if (ok) await new Promise((r) => s.close(r))
  return ok
}

/** A loopback port with nothing listening on it (bound, then released). */
async function closedPort(): Promise<number> {
  const s: Server = createServer()
  await new Promise<void>((r) => s.listen({ host: '127.0.0.1', port: 0 }, r))
  const { port } = s.address() as { port: number }
  await new Promise((r) => s.close(r))
  return port
}

const hasIPv6 = await canListen('::1')

describe('TcpConnector on 127.0.0.1', () => {
  let listener: TcpListener
  let accept: () => Promise<TcpTransport>
  beforeAll(async () => {
    listener = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
    accept = acceptQueue(listener)
  })
  afterAll(() => listener.close())

  it('connects and reports the remote it was given', async () => {
    const t = await new TcpConnector().connect(listener.address)
    const b = await accept()
    expect(t.remote).toEqual({ host: '127.0.0.1', port: listener.address.port })
    expect(b.remote.host).toBe('127.0.0.1')
    t.close()
    expect(await closed(t)).toBeUndefined()
    expect((await closed(b))?.kind).toBe('remote')
  })

  it("rejects with 'connect-failed' (ECONNREFUSED) on a closed port", async () => {
    const port = await closedPort()
    const err = await rejection(new TcpConnector().connect({ host: '127.0.0.1', port }))
    expect(err.name).toBe('TransportError')
    expect(err.kind).toBe('connect-failed')
    expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED')
  })

  it("rejects an invalid port with 'connect-failed' instead of throwing", async () => {
    const err = await rejection(new TcpConnector().connect({ host: '127.0.0.1', port: 70_000 }))
    expect(err.kind).toBe('connect-failed')
  })

  it("rejects an already-aborted signal with 'aborted' and its reason", async () => {
    const ac = new AbortController()
    const reason = new Error('shutting down')
    ac.abort(reason)
    const before = listener.connections
    const err = await rejection(new TcpConnector().connect(listener.address, ac.signal))
    expect(err.kind).toBe('aborted')
    expect(err.cause).toBe(reason)
    await sleep(50)
    expect(listener.connections).toBe(before)
  })

  it("rejects with 'aborted' when the signal fires during the connect", async () => {
    const ac = new AbortController()
    const p = new TcpConnector().connect(listener.address, ac.signal)
    // 'connect' is reported on a later event-loop turn, so this abort lands mid-connect.
    ac.abort()
    const err = await rejection(p)
    expect(err.kind).toBe('aborted')
    // If the kernel had completed the handshake, the listener sees that socket close.
    await until(() => listener.connections === 0, () => `the listener to see the aborted socket close (${listener.connections} open)`)
  })

  it('ignores an abort after the connect succeeded', async () => {
    const ac = new AbortController()
    const t = await new TcpConnector().connect(listener.address, ac.signal)
    const b = await accept()
    ac.abort()
    const got = new Promise<Uint8Array>((r) => b.onData(r))
    t.send(Uint8Array.of(42))
    expect(await got).toEqual(Uint8Array.of(42))
    t.close()
    await closed(b)
  })

  it('rejects a negative connect timeout at construction', () => {
    expect(() => new TcpConnector({ connectTimeoutMs: -1 })).toThrow(RangeError)
  })

  // A real connect timeout without leaving loopback: a listener whose thread
  // is blocked never accept()s, so once its accept queue (backlog 1: two
  // connections on Linux) is full the kernel drops further SYNs and the next
  // connect hangs until our timer fires. The listener lives in a worker
  // thread that blocks itself in Atomics.wait right after listen().
  it("rejects with 'timeout' when the SYN is never answered (full accept queue on loopback)", async () => {
    // The first connects must complete inside it (the queue takes them), so it is a deadline, scaled.
    const CONNECT_TIMEOUT_MS = scaled(300)
    const flag = new Int32Array(new SharedArrayBuffer(4))
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads')
       const s = require('node:net').createServer()
       s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
         parentPort.postMessage(s.address().port)
         Atomics.wait(new Int32Array(workerData), 0, 0)
         s.close()
         process.exit(0)
       })`,
      { eval: true, workerData: flag.buffer },
    )
    const port = await new Promise<number>((r) => worker.once('message', r))
    const connector = new TcpConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS })
    const opened: TcpTransport[] = []
    let timedOut: { err: { kind: string; name: string }; ms: number } | undefined
    try {
      for (let i = 0; i < 8 && timedOut === undefined; i++) {
        const t0 = performance.now()
        try {
          opened.push(await connector.connect({ host: '127.0.0.1', port }))
        } catch (e) {
          timedOut = { err: e as { kind: string; name: string }, ms: performance.now() - t0 }
        }
      }
    } finally {
      for (const t of opened) t.destroy()
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      await new Promise((r) => worker.once('exit', r))
    }
    expect(opened.length).toBeGreaterThanOrEqual(1) // the queue took some connections first
    expect(timedOut?.err.name).toBe('TransportError')
    expect(timedOut?.err.kind).toBe('timeout')
    expect(timedOut?.ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 10) // never early
  })
})

describe.skipIf(!hasIPv6)('TcpConnector on ::1 (IPv6 loopback)', () => {
  let listener: TcpListener
  let accept: () => Promise<TcpTransport>
  beforeAll(async () => {
    listener = await TcpListener.listen({ host: '::1', port: 0 })
    accept = acceptQueue(listener)
  })
  afterAll(() => listener?.close())

  it('listens on ::1 and reports it', () => {
    expect(listener.address.host).toBe('::1')
    expect(listener.address.port).toBeGreaterThan(0)
  })

  for (const host of ['::1', '[::1]']) {
    it(`connects to host '${host}' and carries bytes both ways`, async () => {
      const t = await new TcpConnector().connect({ host, port: listener.address.port })
      const b = await accept()
      expect(t.remote.host).toBe('::1')
      expect(b.remote.host).toBe('::1')
      const atB = new Promise<Uint8Array>((r) => b.onData(r))
      const atA = new Promise<Uint8Array>((r) => t.onData(r))
      t.send(Uint8Array.of(6))
      expect(await atB).toEqual(Uint8Array.of(6))
      b.send(Uint8Array.of(4))
      expect(await atA).toEqual(Uint8Array.of(4))
      t.close()
      expect((await closed(b))?.kind).toBe('remote')
    })
  }
})

if (!hasIPv6) {
  describe('TcpConnector on ::1', () => {
    it.skip('skipped: this machine cannot bind the IPv6 loopback ::1', () => {})
  })
}
