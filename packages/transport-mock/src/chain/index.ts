/**
 * Synthetic, valid Bitcoin data for virtual peers: mined block trees with
 * forks, transaction generators, and multi-gigabyte blocks as streams.
 */
export * from './script.js'
export * from './genesis.js'
export * from './miner.js'
export * from './synthetic-chain.js'
export * from './txgen.js'
export * from './stream-block.js'
