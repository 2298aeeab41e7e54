/**
 * @bitp2p/session: sans-IO peer state machines and the drivers that run them.
 */
export * from './transport.js'
export * from './realtime-clock.js'
export * from './random.js'
