/**
 * @bitp2p/transport-mock: a deterministic in-memory network for tests and
 * simulations. Virtual clock, seeded faults, and a hashed delivery trace;
 * synthetic chains and transactions; scripted virtual peers.
 *
 * The machinery behind these sits behind subpaths:
 * `@bitp2p/transport-mock/chain` (script, coinbase and block builders),
 * `@bitp2p/transport-mock/peers` (misbehaviour frames, address helpers,
 * the trace labeler) and `@bitp2p/transport-mock/limits` (every tunable).
 */
export { type RunOptions, VirtualClock, type VirtualClockOptions } from './scheduler.js'
export { type DeliverHook, Trace, type TraceEvent, type TraceKind, type TraceOptions } from './trace.js'
export { DEFAULT_LINK, type LinkOptions, MockConnection, MockConnector, type MockConnectorOptions, MockListener, MockNetwork, type MockNetworkOptions, MockTransport, type PartitionOptions, Pipe, type ResolvedLink } from './network.js'
export { genesisBlock } from './chain/genesis.js'
export { streamSyntheticBlock, syntheticBlockBytes, SyntheticBlockStream, type SyntheticBlockStreamOptions, type SyntheticBlockSummary } from './chain/stream-block.js'
export { type ExtendOptions, type ForkOptions, type SyntheticBlock, SyntheticChain, type SyntheticChainOptions } from './chain/synthetic-chain.js'
export { type BigTxPayload, type SyntheticOutputKind, type SyntheticUtxo, TxFactory, type TxFactoryOptions } from './chain/txgen.js'
export { spreadHost } from './peers/addresses.js'
export { BehaviorTransport, type BehaviorTransportOptions, type MisbehaviorTrigger, VIRTUAL_PEER_BEHAVIORS, type VirtualPeerBehavior } from './peers/behavior.js'
export { Simulation, type SimulationOptions, type VisitAllOptions, type VisitAllSummary, type VisitOptions, type VisitResult, type VisitStep } from './peers/simulation.js'
export { type MempoolEntry, mempoolEntry, VirtualPeer, type VirtualPeerDriverOptions, type VirtualPeerOptions, type VirtualPeerStats } from './peers/virtual-peer.js'
