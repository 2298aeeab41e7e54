/**
 * @bitp2p/session: sans-IO peer state machines and the drivers that run them.
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
