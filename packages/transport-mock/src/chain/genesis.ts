/**
 * The genesis block's one transaction, so a synthetic chain can serve the
 * genesis block itself (getdata for block 0), not only its header.
 *
 * Mainnet, testnet3, signet, regtest and BSV share Satoshi's coinbase
 * ("The Times 03/Jan/2009 ..."); their genesis headers differ only in time,
 * bits and nonce. Other networks (testnet4) have their own coinbase, which
 * is not reproduced here: genesisBlock() returns undefined for them.
 */
import { bytesEqual, fromHex, txid, type Block, type NetworkParams, type Transaction } from '@bitp2p/wire'

/** scriptSig of Satoshi's coinbase: bits push, 0x04 push, then the headline. */
const SATOSHI_COINBASE_SCRIPT_SIG =
  '04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73'
/** Its only output: pay-to-pubkey to an uncompressed key. */
const SATOSHI_COINBASE_SCRIPT_PUBKEY =
  '4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac'
/** 50 BTC. */
const SATOSHI_COINBASE_VALUE = 5_000_000_000n
/** The null prevout index of every coinbase. */
const COINBASE_PREVOUT_INDEX = 0xffffffff
const FINAL_SEQUENCE = 0xffffffff

/** The coinbase of the genesis block shared by mainnet, testnet3, signet, regtest and BSV. */
export function satoshiGenesisCoinbase(): Transaction {
  return {
    version: 1,
    inputs: [
      {
        prevout: { txid: new Uint8Array(32), index: COINBASE_PREVOUT_INDEX },
        scriptSig: fromHex(SATOSHI_COINBASE_SCRIPT_SIG),
        sequence: FINAL_SEQUENCE,
        witness: [],
      },
    ],
    outputs: [{ value: SATOSHI_COINBASE_VALUE, scriptPubKey: fromHex(SATOSHI_COINBASE_SCRIPT_PUBKEY) }],
    locktime: 0,
  }
}

/**
 * The whole genesis block of `params` when its merkle root is the txid of
 * Satoshi's coinbase; undefined otherwise (the header alone is in params).
 */
export function genesisBlock(params: Pick<NetworkParams, 'genesis'>): Block | undefined {
  const coinbase = satoshiGenesisCoinbase()
  if (!bytesEqual(txid(coinbase), params.genesis.merkleRoot)) return undefined
  return { header: params.genesis, txs: [coinbase] }
}
