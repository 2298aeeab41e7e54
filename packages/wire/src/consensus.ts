/**
 * @bitp2p/wire/consensus: the consensus arithmetic and checks a header or
 * block needs: compact targets, proof of work and chain work, merkle root
 * and witness commitment checks, BIP34 coinbase heights, weights, and the
 * BSV fork heights.
 * @module @bitp2p/wire/consensus
 */

export { isFeerateInMoneyRange, MAX_MONEY } from './messages/feefilter.js'
export { txBaseSize, WITNESS_SCALE_FACTOR } from './tx/id.js'
export { blockWtxids, checkMerkleResult, checkMerkleRoot } from './block/block.js'
export { checkWitnessCommitment, findWitnessCommitment, WITNESS_COMMITMENT_HEADER, witnessCommitment, witnessCommitmentIndex } from './block/witness.js'
export { BIP34_MAINNET_HEIGHT, BIP34_MIN_BLOCK_VERSION, coinbaseHeight, heightFromScriptSig, type Bip34Network } from './block/bip34.js'
export { BSV_DAA_HEIGHT, BSV_GENESIS_HEIGHT, BSV_UAHF_HEIGHT, type DifficultyAdjustment } from './network/params.js'
export {
  bitsToTarget,
  bitsToTargetStrict,
  checkProofOfWork,
  hashToBigInt,
  targetToBits,
  TWO_POW_256,
  workFromBits,
  type CompactTarget,
  type PowCheck,
  type PowFailure,
} from './network/pow.js'
