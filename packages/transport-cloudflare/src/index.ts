/**
 * @bitp2p/transport-cloudflare: Bitcoin P2P over TCP from Cloudflare-style
 * workers (Cloudflare Workers, workerd), with `connect()` of
 * `cloudflare:sockets`: no bridge. Importing it outside such a runtime
 * fails (`cloudflare:sockets` does not resolve); use
 * @bitp2p/transport-tcp on Node, Deno and Bun, @bitp2p/transport-ws in
 * browsers.
 * @module @bitp2p/transport-cloudflare
 */
export { CloudflareConnector, DEFAULT_CF_CONNECT_TIMEOUT_MS, type CloudflareConnectorOptions } from './connector.js'
export {
  CloudflareTransport,
  resolveTransportOptions,
  DEFAULT_CF_CLOSE_LINGER_MS,
  DEFAULT_MAX_WRITE_CHUNK_BYTES,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  DEFAULT_MAX_BUFFERED_BYTES,
  type CloudflareTransportOptions,
  type SendBufferOverflow,
} from './transport.js'
export { connectError, streamError } from './errors.js'
export type { CloudflareSocket, ConnectFunction, SocketAddress, SocketOptions } from './socket.js'
