/**
 * mempool (BIP35): empty; asks the peer to announce (inv) the transactions
 * in its mempool. Core serves it only when it offers NODE_BLOOM
 * (-peerbloomfilters) or the peer has the "mempool" permission, and otherwise
 * disconnects the sender.
 */
import { type Codec, emptyCodec } from './codec.js'

/** mempool: request an inv of the peer's mempool. */
export interface MempoolMessage {
  readonly command: 'mempool'
}

/** mempool (BIP35): empty. */
export const mempoolCodec: Codec<MempoolMessage> = emptyCodec('mempool')
