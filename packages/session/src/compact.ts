/**
 * @bitp2p/session/compact: BIP152 compact block relay. New blocks arrive
 * as `cmpctblock` (pushed in high-bandwidth mode, asked for after an
 * announcement in low-bandwidth mode) and are rebuilt from the transactions
 * already relayed to us, with `getblocktxn` for the missing ones and the
 * full block as the fallback. CompactRelay is the service (a driver over a
 * PeerSource, fed by a MempoolMonitor); CompactBlockMachine is its sans-IO
 * policy and CompactTxPool its bounded store of candidates.
 * @module @bitp2p/session/compact
 */

export {
  cmpctblockBytes,
  CompactBlockMachine,
  CompactTxPool,
  type CompactAction,
  type CompactBlockConfig,
  type CompactCandidate,
  type CompactFailureReason,
  type CompactFallbackReason,
  type CompactStage,
  type CompactVersion,
  type ReconstructionKind,
  type ReconstructionStats,
} from './core/compact-block.js'
export { CompactRelay, type CompactBlockEvent, type CompactRelayEvents, type CompactRelayOptions } from './driver/services/compact-relay.js'
