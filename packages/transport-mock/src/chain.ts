/**
 * @bitp2p/transport-mock/chain: the building blocks of the synthetic chain
 * (script opcodes and templates, coinbase, header mining, block assembly),
 * for tests that build blocks by hand. SyntheticChain, TxFactory and the
 * block stream are in the main entry.
 */
export { satoshiGenesisCoinbase } from './chain/genesis.js'
export { blockSubsidy, type BlockTemplate, buildBlock, buildCoinbase, type BuiltBlock, type CoinbaseOptions, commitmentFor, halvingIntervalOf, type HeaderTemplate, type MinedHeader, mineHeader } from './chain/miner.js'
export { COMPRESSED_PUBKEY_BYTES, FAKE_SIGNATURE_BYTES, fakePubkey, fakeSignature, fillerBytes, fitVarBytes, HASH160_BYTES, heightScript, isP2pkh, isP2wpkh, OP_0, OP_1, OP_16, OP_CHECKSIG, OP_DUP, OP_EQUAL, OP_EQUALVERIFY, OP_HASH160, OP_PUSHDATA1, OP_PUSHDATA2, OP_PUSHDATA4, OP_RETURN, p2pkhScript, p2shScript, p2wpkhScript, pushData, randomBytes, SIGHASH_ALL } from './chain/script.js'
export { minStreamTxBytes } from './chain/stream-block.js'
