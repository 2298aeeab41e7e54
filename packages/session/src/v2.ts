/**
 * @bitp2p/session/v2: BIP324's v2 encrypted transport for the session.
 *
 * Pass `v2` to Peer.connect / Peer.accept (or a Pool, which takes it by
 * default) and connections speak v2 first. It is its own entry point so an
 * app that never speaks v2 carries none of its ciphers or curve code.
 *
 * ```ts
 * import { Peer } from '@bitp2p/session'
 * import { v2 } from '@bitp2p/session/v2'
 * const peer = await Peer.connect(addr, { connector, network, v2 })
 * peer.transportVersion // 2, or 1 after a v1 fallback
 * ```
 * @module @bitp2p/session/v2
 */
import type { V2Support } from './core/codec.js'
import { V2Codec } from './core/codec-v2.js'

export { V2Codec, type V2CodecOptions } from './core/codec-v2.js'
export type { V2CodecContext, V2Support } from './core/codec.js'
export { TransportMemory } from './core/transport-memory.js'

/** The v2 transport: give it to a Peer or a Pool as `v2`. */
export const v2: V2Support = {
  codecFor: (role, ctx) => new V2Codec({ role, ...ctx }),
}
