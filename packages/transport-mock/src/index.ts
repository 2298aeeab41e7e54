/**
 * @bitp2p/transport-mock: a deterministic in-memory network for tests and
 * simulations. Virtual clock, seeded faults, and a hashed delivery trace.
 */
export * from './scheduler.js'
export * from './trace.js'
export * from './network.js'
export * from './chain/index.js'
export * from './peers/index.js'
