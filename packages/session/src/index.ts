/**
 * @bitp2p/session: sans-IO peer state machines and the drivers that run them.

 * @module @bitp2p/session
 */
export * from './transport.js'
export * from './realtime-clock.js'
export * from './random.js'
export * from './fsm/reasons.js'
export * from './fsm/misbehavior.js'
export * from './fsm/errors.js'
export * from './fsm/outbox.js'
export * from './fsm/handshake.js'
export * from './fsm/ping.js'
export * from './fsm/requests.js'
export * from './fsm/peer.js'
export * from './peer.js'
export * from './chain/index.js'
export * from './pool/netgroup.js'
export * from './pool/addrman.js'
export * from './pool/backoff.js'
export * from './pool/banlist.js'
export * from './services/index.js'
export * from './pool/addr-rate.js'
export * from './pool/meter.js'
export * from './pool/machine.js'
export * from './pool/crawler.js'
export * from './pool/pool.js'
