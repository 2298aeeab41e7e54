/**
 * Helpers of the v2 interop tests: a Connector that records every attempt
 * (so a test can count the refused v2 attempt before a v1 fallback and see
 * how it ended), and a loopback TCP relay that records both directions of a
 * session (so a test can look for plaintext on the wire).
 */
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

export { indexOfBytes, joinChunks, startRelay, v1CommandField, type Relay } from '../../../test/harness/relay.js'
