/**
 * The services users come for, each over a PeerSource: header sync, the
 * mempool monitor, the broadcaster and the block fetcher.
 */
export * from './source.js'
export * from './event-queue.js'
export * from './header-sync.js'
export * from '../../core/tx-request.js'
export * from './mempool.js'
export * from './broadcaster.js'
export * from './block-fetcher.js'
