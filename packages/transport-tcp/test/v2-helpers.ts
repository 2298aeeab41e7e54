/**
 * Helpers of the v2 interop tests: a Connector that records every attempt
 * (so a test can count the refused v2 attempt before a v1 fallback and see
 * how it ended), and a loopback TCP relay that records both directions of a
 * session (so a test can look for plaintext on the wire).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { Connector, PeerAddress, Transport, TransportError } from '@bitp2p/session'
import { TcpConnector } from '../src/index.js'

/** One connect() of a RecordingConnector. */
export interface Attempt {
  /** Length of each send() on the transport, in order (the first is v2's key and garbage, or v1's version). */
  readonly sends: number[]
  /** Bytes received, in all. */
  received: number
  /** Set once the transport closed: how (undefined: a clean local close). */
  closed: { readonly error: TransportError | undefined } | undefined
}

/** A Transport that passes everything through to `inner` and records it in `attempt`. */
class RecordingTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly attempt: Attempt,
  ) {}
  get remote(): PeerAddress {
    return this.inner.remote
  }
  get bufferedAmount(): number {
    return this.inner.bufferedAmount
  }
  send(bytes: Uint8Array): void {
    this.attempt.sends.push(bytes.length)
    this.inner.send(bytes)
  }
  close(reason?: unknown): void {
    this.inner.close(reason)
  }
  onData(cb: (bytes: Uint8Array) => void): void {
    this.inner.onData((b) => {
      this.attempt.received += b.length
      cb(b)
    })
  }
  onClose(cb: (err?: TransportError) => void): void {
    this.inner.onClose((err) => {
      this.attempt.closed = { error: err }
      cb(err)
    })
  }
  onDrain(cb: () => void): void {
    this.inner.onDrain(cb)
  }
}

/** A TcpConnector that records every attempt (see Attempt). */
export class RecordingConnector implements Connector {
  readonly attempts: Attempt[] = []
  private readonly inner: TcpConnector
  constructor(connectTimeoutMs: number) {
    this.inner = new TcpConnector({ connectTimeoutMs })
  }
  async connect(addr: PeerAddress, signal?: AbortSignal): Promise<Transport> {
    const attempt: Attempt = { sends: [], received: 0, closed: undefined }
    this.attempts.push(attempt)
    return new RecordingTransport(await this.inner.connect(addr, signal), attempt)
  }
}

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
