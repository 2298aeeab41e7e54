/**
 * wtxidrelay (BIP339, WTXID_RELAY_VERSION): empty; sent between version
 * and verack to announce and request transactions by wtxid (MSG_WTX)
 * instead of txid. Core ignores it from peers below WTXID_RELAY_VERSION and
 * disconnects a peer that sends it after verack.
 */
import { type Codec, emptyCodec } from './codec.js'

/** wtxidrelay: relay transactions by wtxid. */
export interface WtxidrelayMessage {
  readonly command: 'wtxidrelay'
}

/** wtxidrelay (BIP339): empty. */
export const wtxidrelayCodec: Codec<WtxidrelayMessage> = emptyCodec('wtxidrelay')
