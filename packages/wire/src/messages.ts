/**
 * @bitp2p/wire/messages: the interface of every P2P message, with the
 * enumerations their fields use. A `KnownMessage` (from `@bitp2p/wire`) is
 * the union of these; `MessageOf<'inv'>` names one without this entry.
 * @module @bitp2p/wire/messages
 */

export type { CodecMessage } from './messages/registry.js'
export type { PingMessage, PongMessage } from './messages/ping.js'
export type { VerackMessage, VersionLastField, VersionMessage } from './messages/version.js'
export type { AddrMessage, GetaddrMessage } from './messages/addr.js'
export type { AddrV2Entry, Addrv2Message, AddrV2SkippedEntry, Sendaddrv2Message } from './messages/addrv2.js'
export type { GetdataMessage, InvMessage, NotfoundMessage } from './messages/inventory.js'
export type { GetblocksMessage, GetheadersMessage } from './messages/locator.js'
export type { HeadersMessage, SendheadersMessage } from './messages/headers.js'
export { RejectCode, rejectCodeName, type RejectMessage } from './messages/reject.js'
export type { FeefilterMessage } from './messages/feefilter.js'
export type { MempoolMessage } from './messages/mempool.js'
export type { WtxidrelayMessage } from './messages/wtxidrelay.js'
export type { SendtxrcnclMessage } from './messages/txrcncl.js'
export type { FilteraddMessage, FilterclearMessage, FilterloadMessage, MerkleblockMessage } from './messages/bloom.js'
export type { CfcheckptMessage, CfheadersMessage, CfilterMessage, GetcfcheckptMessage, GetcfheadersMessage, GetcfiltersMessage } from './messages/filters.js'
export {
  CMPCT_VERSION_1,
  CMPCT_VERSION_2,
  type BlocktxnMessage,
  type CmpctblockMessage,
  type GetblocktxnMessage,
  type PrefilledTransaction,
  type SendcmpctMessage,
} from './messages/compact.js'
export type { TxMessage } from './messages/tx.js'
export type { BlockMessage } from './messages/block.js'
