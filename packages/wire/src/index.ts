/**
 * @bitp2p/wire: Bitcoin P2P bytes <-> typed messages.
 * Uint8Array only; no Node built-ins; depends only on @noble/hashes.
 */
export * from './errors.js'
export * from './protocol.js'
export * from './bytes/reader.js'
export * from './bytes/writer.js'
export * from './bytes/hex.js'
export * from './hash/sha256.js'
export * from './framing/header.js'
export * from './framing/decoder.js'
export * from './framing/message-decoder.js'
export * from './messages/codec.js'
export * from './messages/context.js'
export * from './messages/registry.js'
export * from './messages/ping.js'
export * from './block/header.js'
export * from './tx/types.js'
