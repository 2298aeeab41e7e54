/**
 * @bitp2p/transport-mock/peers: the machinery of the virtual peers: the
 * frames each misbehaviour sends, the address helpers that spread peers
 * over netgroups, and the command labeler of the trace. VirtualPeer,
 * Simulation and BehaviorTransport are in the main entry.
 */
export { ipv4Group16 } from './peers/addresses.js'
export { addrFloodFrame, foreignMagic, frameCommand, invFloodFrame, isTriggered, txFloodFrame } from './peers/behavior.js'
export { CommandLabeler } from './peers/labeler.js'
