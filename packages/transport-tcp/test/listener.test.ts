import { describe, expect, it } from 'vitest'
import { TcpConnector, TcpListener, type TcpTransport } from '../src/index.js'
import { acceptQueue, closed, rejection, sleep, until } from './helpers.js'

describe('TcpListener', () => {
  it('resolves port 0 to the real port', async () => {
    const l = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
    expect(l.address.host).toBe('127.0.0.1')
    expect(l.address.port).toBeGreaterThan(0)
    await l.close()
  })

  it('rejects when the port is taken (EADDRINUSE)', async () => {
    const a = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
    const err = await rejection(TcpListener.listen({ host: '127.0.0.1', port: a.address.port }))
    expect((err as unknown as { code?: string }).code).toBe('EADDRINUSE')
    await a.close()
  })

  it('hands over transports accepted before onConnection, in arrival order', async () => {
    const l = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
    const c = new TcpConnector()
    const outs: TcpTransport[] = []
    for (let i = 0; i < 3; i++) {
      const t = await c.connect(l.address)
      t.send(Uint8Array.of(i))
      outs.push(t)
    }
    await until(() => l.connections === 3, () => `three accepted connections (have ${l.connections})`)
    const accept = acceptQueue(l)
    for (let i = 0; i < 3; i++) {
      const b = await accept()
      const first = await new Promise<Uint8Array>((r) => b.onData(r))
      expect(first).toEqual(Uint8Array.of(i))
    }
    for (const t of outs) t.close()
    await l.close()
  })

  it('closes connections beyond maxConnections on arrival, and accepts again once one closes', async () => {
    const l = await TcpListener.listen({ host: '127.0.0.1', port: 0, maxConnections: 2 })
    const accept = acceptQueue(l)
    const c = new TcpConnector()
    const a1 = await c.connect(l.address)
    const b1 = await accept()
    const a2 = await c.connect(l.address)
    await accept()
    // The third TCP connect completes (the kernel answers it), then the listener closes it.
    const a3 = await c.connect(l.address)
    a3.onData(() => {})
    const err3 = await closed(a3)
    expect(['remote', 'reset']).toContain(err3?.kind)
    expect(l.connections).toBe(2)
    expect(l.dropped).toBe(1)

    a1.close()
    await closed(b1)
    // The listener forgets a connection on its socket's 'close', which can come a turn after onClose.
    await until(() => l.connections === 1, () => `one open connection (have ${l.connections})`)
    const a4 = await c.connect(l.address)
    const b4 = await accept()
    const got = new Promise<Uint8Array>((r) => b4.onData(r))
    a4.send(Uint8Array.of(4))
    expect(await got).toEqual(Uint8Array.of(4))
    expect(l.connections).toBe(2)
    expect(l.dropped).toBe(1)
    a2.close()
    a4.close()
    await l.close()
  })

  it('close() stops listening and closes every accepted transport', async () => {
    const l = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
    const accept = acceptQueue(l)
    const c = new TcpConnector()
    const a = await c.connect(l.address)
    const b = await accept()
    a.onData(() => {})
    const bClosed = closed(b)
    const aClosed = closed(a)
    await l.close()
    const errB = await bClosed
    expect(errB?.kind).toBe('local')
    expect((errB?.cause as Error).message).toBe('listener closed')
    expect(['remote', 'reset']).toContain((await aClosed)?.kind)
    expect(l.connections).toBe(0)
    const err = await rejection(c.connect(l.address))
    expect(err.kind).toBe('connect-failed')
    // Idempotent.
    await l.close()
  })
})
