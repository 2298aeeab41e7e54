/**
 * @bitp2p/transport-tcp: TCP transports over node:net, for Node, Deno and Bun.
 * Browsers have no raw TCP: importing this package there fails (node:net
 * does not resolve); use @bitp2p/transport-ws instead.
 */
export { TcpConnector, DEFAULT_CONNECT_TIMEOUT_MS, type TcpConnectorOptions } from './connector.js'
export { TcpListener, type TcpListenOptions } from './listener.js'
export {
  TcpTransport,
  configureSocket,
  DEFAULT_CLOSE_LINGER_MS,
  DEFAULT_KEEPALIVE_INITIAL_DELAY_MS,
  type TcpSocketOptions,
  type TcpTransportOptions,
} from './transport.js'
export { unmapIPv4 } from './address.js'
