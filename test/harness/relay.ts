/**
 * A recording relay on loopback (test harness): what a client sends to the
 * relay goes to the target and back, and both directions are kept, so a
 * test can look at exactly what crossed (e.g. that a v2 session shows no
 * network magic and no command name). Relays to 127.0.0.1 only.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { PeerAddress } from '@bitp2p/session'

/** A loopback relay: what a client sends to `address` goes to the target, and back; both directions are recorded. */
export interface Relay {
  /** Where clients connect (127.0.0.1). */
  readonly address: PeerAddress
  /** Client to target, every chunk in order. */
  readonly up: Uint8Array[]
  /** Target to client. */
  readonly down: Uint8Array[]
  /** Connections relayed so far. */
  readonly connections: number
  /** Close the listener and every relayed connection. */
  close(): Promise<void>
}

/** Start a Relay to `target` (which must be on 127.0.0.1: this relays nowhere else). */
export async function startRelay(target: PeerAddress): Promise<Relay> {
  if (target.host !== '127.0.0.1') throw new Error(`the relay only relays to 127.0.0.1, not ${target.host}`)
  const up: Uint8Array[] = []
  const down: Uint8Array[] = []
  const sockets = new Set<Socket>()
  let connections = 0
  const server: Server = createServer((client) => {
    connections++
    const upstream = createConnection({ host: target.host, port: target.port })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => s.destroy())
    }
    client.on('data', (d) => {
      up.push(new Uint8Array(d))
      upstream.write(d)
    })
    upstream.on('data', (d) => {
      down.push(new Uint8Array(d))
      client.write(d)
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as { port: number }).port
  return {
    address: { host: '127.0.0.1', port },
    up,
    down,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** The chunks as one array. */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let o = 0
  for (const c of chunks) {
    out.set(c, o)
    o += c.length
  }
  return out
}

/** Index of the first occurrence of `needle` in `hay`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0
  const first = needle[0]!
  outer: for (let i = hay.indexOf(first); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

/** A command as v1 framing carries it: ASCII, NUL-padded to 12 bytes. */
export function v1CommandField(command: string): Uint8Array {
  const out = new Uint8Array(12)
  for (let i = 0; i < command.length; i++) out[i] = command.charCodeAt(i)
  return out
}
