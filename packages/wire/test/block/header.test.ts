import { describe, expect, it } from 'vitest'
import { blockHash, parseBlockHeader, serializeBlockHeader, type BlockHeader } from '../../src/block/header.js'
import { hashToHex, hexToHash } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'

// Mainnet genesis header fields (Bitcoin Core chainparams.cpp).
const genesis: BlockHeader = {
  version: 1,
  prevBlock: new Uint8Array(32),
  merkleRoot: hexToHash('4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b'),
  time: 1231006505,
  bits: 0x1d00ffff,
  nonce: 2083236893,
}

describe('block header', () => {
  it('serializes the genesis header to the bytes that hash to the genesis block hash', () => {
    const bytes = serializeBlockHeader(genesis)
    expect(bytes.length).toBe(80)
    expect(hashToHex(blockHash(genesis))).toBe('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
    expect(parseBlockHeader(bytes)).toEqual(genesis)
  })

  it('writes a negative version as two’s complement', () => {
    const h = { ...genesis, version: -2 }
    expect(parseBlockHeader(serializeBlockHeader(h)).version).toBe(-2)
  })

  it('refuses fields out of range instead of truncating them', () => {
    const bad: Partial<BlockHeader>[] = [
      { time: 2 ** 32 },
      { bits: -1 },
      { nonce: 1.5 },
      { version: 2 ** 31 },
      { prevBlock: new Uint8Array(31) },
      { merkleRoot: new Uint8Array(33) },
    ]
    for (const b of bad) {
      let err: unknown
      try {
        serializeBlockHeader({ ...genesis, ...b })
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(WireError)
      expect((err as WireError).code).toBe('ENCODE_RANGE')
    }
  })
})
