/**
 * @bitp2p/transport-ws: Bitcoin P2P over WebSocket for browsers, Deno, Bun and edge
 * workers, through a bridge. The Node bridge server is '@bitp2p/bridge'.
 * @module @bitp2p/transport-ws
 */
export {
  WsConnector,
  WsTransport,
  bridgeCloseError,
  DEFAULT_WS_CONNECT_TIMEOUT_MS,
  DEFAULT_CLIENT_MAX_FRAME_BYTES,
  DRAIN_POLL_MS,
  type WsConnectorOptions,
  type WebSocketLike,
  type WebSocketConstructor,
  type BridgeCloseInfo,
} from './client.js'
export {
  BridgeCloseCode,
  BRIDGE_CLOSE_NAMES,
  closeCodeName,
  bridgeUrl,
  clientSubprotocols,
  isValidToken,
  SUBPROTOCOL_V1,
  SUBPROTOCOL_REFUSED,
  TOKEN_SUBPROTOCOL_PREFIX,
  PEER_QUERY_PARAM,
  MAX_TOKEN_LENGTH,
  type BridgeCloseCodeValue,
} from './protocol.js'
