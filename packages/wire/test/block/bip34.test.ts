import { describe, expect, it } from 'vitest'
import { fromHex, hashToHex } from '../../src/bytes/hex.js'
import { BIP34_MIN_BLOCK_VERSION, coinbaseHeight, heightFromScriptSig } from '../../src/block/bip34.js'
import { type Block, parseBlock, verifyBlock } from '../../src/block/block.js'
import { blockHash } from '../../src/block/header.js'
import { mainnet, regtest, testnet3 } from '../../src/network/params.js'
import type { Transaction } from '../../src/tx/types.js'
import { wireErrorOf } from '../util.js'
import { BLOCKS_PRESENT, readBlock, readFixtures, SKIP_MESSAGE } from './blocks-data.js'

const coinbase = (scriptHex: string): Transaction => ({
  version: 1,
  inputs: [{ prevout: { txid: new Uint8Array(32), index: 0xffffffff }, scriptSig: fromHex(scriptHex), sequence: 0xffffffff, witness: [] }],
  outputs: [],
  locktime: 0,
})

/** A block of `version` whose coinbase scriptSig is `scriptHex` (header hashes zero: only version and coinbase matter here). */
const blockWith = (version: number, scriptHex: string): Block => ({
  header: { version, prevBlock: new Uint8Array(32), merkleRoot: new Uint8Array(32), time: 0, bits: 0, nonce: 0 },
  txs: [coinbase(scriptHex)],
})

/**
 * Testnet3 block 1 (hash 00000000b873e797...8e1206), as served by any
 * testnet3 node: version 1, one coinbase whose scriptSig pushes the block
 * time (0x4d49e720), then 0x7f, then "/P2SH/". The test checks the header
 * hash and the merkle root, so the bytes are known to be that block.
 */
const TESTNET3_BLOCK_1 =
  '0100000043497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000' +
  'bac8b0fa927c0ac8234287e33c5f74d38d354820e24756ad709d7038fc5f31f0' +
  '20e7494d' + 'ffff001d' + '03e4b672' + // time, bits, nonce
  '01' + // one transaction
  '01000000' + '01' + '00'.repeat(32) + 'ffffffff' +
  '0e' + '0420e7494d' + '017f' + '062f503253482f' + // scriptSig: push(time) push(0x7f) "/P2SH/"
  'ffffffff' + '01' + '00f2052a01000000' +
  '23' + '21021aeaf2f8638a129a3156fbe7e5ef635226b0bafd495ff03afe2c843d7e3a4b51' + 'ac' +
  '00000000'

/**
 * Mainnet block 1 (hash 00000000839a8e68...eb6048): version 1, coinbase
 * scriptSig 04ffff001d 0104, a push of the `bits` 0x1d00ffff = 486604799
 * that reads like a height.
 */
const MAINNET_BLOCK_1 =
  '010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000' +
  '982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e' +
  '61bc6649' + 'ffff001d' + '01e36299' +
  '01' +
  '01000000' + '01' + '00'.repeat(32) + 'ffffffff' +
  '07' + '04ffff001d' + '0104' +
  'ffffffff' + '01' + '00f2052a01000000' +
  '43' + '410496b538e853519c726a2c91e61ec11600ae1390813a627c66fb8be7947be63c52da7589379515d4e0a604f8141781e62294721166bf621e73a82cbf2342c858ee' + 'ac' +
  '00000000'

describe('BIP34 coinbase height', () => {
  it('reads a 3-byte little-endian push followed by other data', () => {
    // Push of 3 bytes 0a 4a 07, little-endian: 0x074a0a = 477,706.
    expect(coinbaseHeight(blockWith(2, '030a4a07' + 'deadbeef'))).toBe(0x074a0a)
    expect(heightFromScriptSig(fromHex('03a0bb0d'))).toBe(0x0dbba0) // 900,000
  })

  it('small heights use OP_0 and OP_1..OP_16', () => {
    expect(heightFromScriptSig(fromHex('00'))).toBe(0)
    expect(heightFromScriptSig(fromHex('51'))).toBe(1)
    expect(heightFromScriptSig(fromHex('60ff'))).toBe(16)
  })

  it('a height whose top bit is set needs a 0x00 sign byte', () => {
    expect(heightFromScriptSig(fromHex('028000'))).toBe(0x80)
    expect(heightFromScriptSig(fromHex('05ffffffff00'))).toBe(0xffffffff)
  })

  it('malformed openings are typed errors', () => {
    const cases: [string, string][] = [
      ['', 'TRUNCATED'], // empty scriptSig
      ['03a0bb', 'TRUNCATED'], // push runs past the script
      ['4c03a0bb0d', 'INVALID_VALUE'], // OP_PUSHDATA1 is not minimal
      ['04a0bb0d00', 'INVALID_VALUE'], // zero padding
      ['0100', 'INVALID_VALUE'], // zero as a push
      ['0281ff', 'INVALID_VALUE'], // negative
      ['0110', 'INVALID_VALUE'], // 16 must be OP_16
      ['4f', 'INVALID_VALUE'], // OP_1NEGATE
      ['06010203040506', 'INVALID_VALUE'], // push longer than any u32 height
    ]
    for (const [script, code] of cases) {
      expect(wireErrorOf(() => heightFromScriptSig(fromHex(script))).code, script).toBe(code)
      expect(wireErrorOf(() => coinbaseHeight(blockWith(2, script))).code, script).toBe(code)
    }
    const noInput: Block = { ...blockWith(2, '51'), txs: [{ version: 1, inputs: [], outputs: [], locktime: 0 }] }
    expect(wireErrorOf(() => coinbaseHeight(noInput)).code).toBe('INVALID_VALUE')
    expect(wireErrorOf(() => coinbaseHeight({ ...noInput, txs: [] })).code).toBe('INVALID_VALUE')
  })

  describe('only blocks of version 2 or more carry a height', () => {
    it('testnet3 block 1 (version 1, real bytes) has no height, with or without the network', () => {
      const block = parseBlock(fromHex(TESTNET3_BLOCK_1))
      expect(hashToHex(blockHash(block.header))).toBe('00000000b873e79784647a6c82962c70d228557d24a747ea4d1b8bbe878e1206')
      expect(hashToHex(block.header.prevBlock)).toBe(testnet3.genesisHashHex)
      verifyBlock(block) // the coinbase is the one the header commits to
      expect(block.header.version).toBe(1)
      // Its scriptSig does open with a push: the block time, not a height.
      expect(heightFromScriptSig(block.txs[0]!.inputs[0]!.scriptSig)).toBe(0x4d49e720)
      expect(coinbaseHeight(block)).toBeUndefined()
      expect(coinbaseHeight(block, testnet3)).toBeUndefined()
    })

    it('mainnet block 1 (version 1, real bytes) has no height, though its coinbase pushes 486604799', () => {
      const block = parseBlock(fromHex(MAINNET_BLOCK_1))
      expect(hashToHex(blockHash(block.header))).toBe('00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048')
      expect(hashToHex(block.header.prevBlock)).toBe(mainnet.genesisHashHex)
      verifyBlock(block)
      expect(heightFromScriptSig(block.txs[0]!.inputs[0]!.scriptSig)).toBe(486604799)
      expect(coinbaseHeight(block)).toBeUndefined()
      expect(coinbaseHeight(block, mainnet)).toBeUndefined()
    })

    it('the version threshold is 2, signed: versionbits blocks count, negative versions do not', () => {
      expect(BIP34_MIN_BLOCK_VERSION).toBe(2)
      expect(coinbaseHeight(blockWith(1, '03a0bb0d'))).toBeUndefined()
      expect(coinbaseHeight(blockWith(0, '03a0bb0d'))).toBeUndefined()
      expect(coinbaseHeight(blockWith(-1, '03a0bb0d'))).toBeUndefined()
      expect(coinbaseHeight(blockWith(2, '03a0bb0d'))).toBe(900_000)
      expect(coinbaseHeight(blockWith(0x20000000, '03a0bb0d'))).toBe(900_000)
    })
  })

  it("with the network, a height below its BIP34 activation is not reported (consensus did not bind it)", () => {
    // A version-2 block claiming height 200,000 on mainnet (BIP34 from 227,931).
    const early = blockWith(2, '03400d03')
    expect(coinbaseHeight(early)).toBe(200_000)
    expect(coinbaseHeight(early, mainnet)).toBeUndefined()
    expect(coinbaseHeight(blockWith(2, '035b7a03'), mainnet)).toBe(227_931) // exactly the activation height
    // Regtest enforces BIP34 from height 1.
    expect(coinbaseHeight(blockWith(0x20000000, '51'), regtest)).toBe(1)
    expect(coinbaseHeight(blockWith(0x20000000, '00'), regtest)).toBeUndefined()
  })

  describe.skipIf(!BLOCKS_PRESENT)(`real mainnet blocks keep their heights${BLOCKS_PRESENT ? '' : ` (${SKIP_MESSAGE})`}`, () => {
    for (const f of readFixtures()) {
      it(`${f.file}: height ${f.height}, with and without mainnet`, () => {
        const block = parseBlock(readBlock(f.file))
        expect(block.header.version).toBeGreaterThanOrEqual(2)
        expect(coinbaseHeight(block)).toBe(f.height)
        expect(coinbaseHeight(block, mainnet)).toBe(f.height)
      })
    }
  })
})
