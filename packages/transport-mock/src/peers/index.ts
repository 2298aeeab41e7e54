/**
 * Virtual peers and simulations: nodes on the mock network that speak the
 * real protocol through the production driver, misbehave on demand, and a
 * seeded harness that runs one driver against many of them.
 */
export * from './addresses.js'
export * from './labeler.js'
export * from './behavior.js'
export * from './virtual-peer.js'
export * from './simulation.js'
