import { describe, expect, it } from 'vitest'
import { bsv, mainnet, regtest, signet, testnet3, testnet4, txid, verifyBlock, bytesEqual, hashToHex } from '@bitp2p/wire'
import { genesisBlock, satoshiGenesisCoinbase } from '../../src/chain/genesis.js'

describe('genesis coinbase', () => {
  it("hashes to the merkle root of Satoshi's genesis header", () => {
    expect(hashToHex(txid(satoshiGenesisCoinbase()))).toBe('4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b')
  })

  it('gives a verifying genesis block for the networks that share it, none for testnet4', () => {
    for (const params of [mainnet, testnet3, signet, regtest, bsv]) {
      const block = genesisBlock(params)!
      expect(block).toBeDefined()
      expect(bytesEqual(block.header.merkleRoot, params.genesis.merkleRoot)).toBe(true)
      expect(() => verifyBlock(block)).not.toThrow()
    }
    expect(genesisBlock(testnet4)).toBeUndefined()
  })
})
