/**
 * The slice of the Workers TCP socket API (`connect()` from
 * `cloudflare:sockets`) this package uses, typed here so that the package
 * needs no runtime type package and can be driven by a stand-in in tests.
 * workerd's and Cloudflare's sockets satisfy it as they are.
 */

/** Where `connect()` dials: a host name or IP literal (IPv6 without brackets) and a port. */
export interface SocketAddress {
  readonly hostname: string
  readonly port: number
}

/** The options of `connect()` this package sets. */
export interface SocketOptions {
  /** 'off': plain TCP, as Bitcoin P2P is (BIP324 encrypts above the transport). */
  readonly secureTransport?: 'off' | 'on' | 'starttls'
  /** false: the peer's FIN ends the whole connection, as on the TCP transport. */
  readonly allowHalfOpen?: boolean
}

/**
 * An outbound TCP socket of a worker: two byte streams and two promises.
 * `opened` resolves once the connection is up and rejects if it could not
 * be made; `closed` settles when the socket is gone. `close()` closes both
 * streams at once (queued bytes are not flushed).
 */
export interface CloudflareSocket {
  /** Bytes from the peer. Done at the peer's FIN; errors on a reset. */
  readonly readable: ReadableStream<Uint8Array>
  /** Bytes to the peer. Each write's promise settles once the runtime took the chunk. */
  readonly writable: WritableStream<Uint8Array>
  /** Resolves (with the runtime's SocketInfo) once connected; rejects when the connect failed. */
  readonly opened: Promise<unknown>
  /** Settles once the socket is closed (rejects when it ended in an error). */
  readonly closed: Promise<void>
  /** Close the socket: both streams at once, without flushing. */
  close(): Promise<void>
}

/** `connect()` of `cloudflare:sockets`, or a function that behaves like it. */
export type ConnectFunction = (address: SocketAddress, options?: SocketOptions) => CloudflareSocket
