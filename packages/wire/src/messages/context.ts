import { PROTOCOL_VERSION } from '../protocol.js'
import type { CodecContext } from './codec.js'

/** Bitcoin's MAX_BLOCK_SERIALIZED_SIZE. */
export const MAX_BLOCK_SERIALIZED_SIZE = 4_000_000

/** Context for Bitcoin networks at our protocol version. */
export const DEFAULT_CODEC_CONTEXT: CodecContext = Object.freeze({
  protocolVersion: PROTOCOL_VERSION,
  maxBlockPayload: MAX_BLOCK_SERIALIZED_SIZE,
})
