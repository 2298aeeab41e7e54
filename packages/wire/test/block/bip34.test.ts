import { describe, expect, it } from 'vitest'
import { fromHex } from '../../src/bytes/hex.js'
import { coinbaseHeight, heightFromScriptSig } from '../../src/block/bip34.js'
import type { Transaction } from '../../src/tx/types.js'
import { wireErrorOf } from '../util.js'

const coinbase = (scriptHex: string): Transaction => ({
  version: 1,
  inputs: [{ prevout: { txid: new Uint8Array(32), index: 0xffffffff }, scriptSig: fromHex(scriptHex), sequence: 0xffffffff, witness: [] }],
  outputs: [],
  locktime: 0,
})

describe('BIP34 coinbase height', () => {
  it('reads a 3-byte little-endian push followed by other data', () => {
    // Push of 3 bytes 0a 4a 07, little-endian: 0x074a0a = 477,706.
    expect(coinbaseHeight(coinbase('030a4a07' + 'deadbeef'))).toBe(0x074a0a)
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
    }
    expect(wireErrorOf(() => coinbaseHeight({ version: 1, inputs: [], outputs: [], locktime: 0 })).code).toBe('INVALID_VALUE')
  })
})
