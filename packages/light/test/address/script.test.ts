// scriptType and scriptToAddress on scripts written out byte by byte.
import { describe, expect, it } from 'vitest'
import { bsv, fromHex, mainnet, regtest, testnet3 } from '@bitp2p/wire'
import { MAX_WITNESS_PROGRAM_BYTES, MAX_WITNESS_VERSION, MIN_WITNESS_PROGRAM_BYTES, addressToScript, decodeAddress, scriptToAddress, scriptType, type AddressNetwork } from '../../src/index.js'

const H20 = '751e76e8199196d454941c45d1b3a323f1433bd6'
const H32 = '1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262'

describe('scriptType', () => {
  it('recognises each template', () => {
    expect(scriptType(fromHex(`76a914${H20}88ac`))).toBe('p2pkh')
    expect(scriptType(fromHex(`a914${H20}87`))).toBe('p2sh')
    expect(scriptType(fromHex(`0014${H20}`))).toBe('p2wpkh')
    expect(scriptType(fromHex(`0020${H32}`))).toBe('p2wsh')
    expect(scriptType(fromHex(`5120${H32}`))).toBe('p2tr')
  })

  it('other witness programs (versions 1 to 16, 2 to 40 bytes) are witness_unknown', () => {
    expect(MIN_WITNESS_PROGRAM_BYTES).toBe(2)
    expect(MAX_WITNESS_PROGRAM_BYTES).toBe(40)
    expect(MAX_WITNESS_VERSION).toBe(16)
    expect(scriptType(fromHex(`5114${H20}`))).toBe('witness_unknown') // v1, 20 bytes
    expect(scriptType(fromHex('51024e73'))).toBe('witness_unknown') // v1, 2 bytes: pay-to-anchor
    expect(scriptType(fromHex('5202751e'))).toBe('witness_unknown') // v2
    expect(scriptType(fromHex(`6028${H20}${H20}`))).toBe('witness_unknown') // v16, 40 bytes
  })

  it('everything else is nonstandard, including near misses of each template', () => {
    const nonstandard = [
      '', // empty
      `2102${H32}ac`, // P2PK (bare key)
      `6a14${H20}`, // OP_RETURN data
      `512102${H32}2103${H32}52ae`, // bare 1-of-2 multisig
      `76a914${H20}88ac00`, // P2PKH with a trailing byte
      `76a914${H20}87ac`, // P2PKH with OP_EQUAL for OP_EQUALVERIFY
      `76a913${H20.slice(2)}88ac`, // P2PKH pushing 19 bytes
      `a914${H20}88`, // P2SH with OP_EQUALVERIFY
      `a914${H20}8700`, // P2SH with a trailing byte
      `0015${H20}00`, // version 0, 21 bytes
      `0010${H32.slice(0, 32)}`, // version 0, 16 bytes
      `0014${H20}00`, // push of 20 followed by a byte: not one push of the rest
      `0015${H20}`, // push says 21, 20 follow
      `0101ff`, // a 1-byte program
      `5129${H20}${H20}00`, // a 41-byte program
      `4f14${H20}`, // OP_1NEGATE is not a version
      `5014${H20}`, // OP_RESERVED is not a version
      `6114${H20}`, // OP_NOP is not a version
      `00`, // OP_0 alone
    ]
    for (const hex of nonstandard) expect(scriptType(fromHex(hex)), hex).toBe('nonstandard')
  })

  it('reads a view into a larger buffer without looking outside it', () => {
    const buffer = fromHex(`ff0014${H20}ff`)
    expect(scriptType(buffer.subarray(1, 23))).toBe('p2wpkh')
    expect(scriptType(buffer.subarray(1, 22))).toBe('nonstandard')
  })
})

describe('scriptToAddress', () => {
  it('base58 for P2PKH and P2SH with the network version byte; bech32 for v0, bech32m for v1+', () => {
    expect(scriptToAddress(fromHex(`76a914${H20}88ac`), mainnet)).toBe('1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH')
    expect(scriptToAddress(fromHex('76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac'), mainnet)).toBe('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa')
    expect(scriptToAddress(fromHex(`0014${H20}`), mainnet)).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4')
    expect(scriptToAddress(fromHex(`0014${H20}`), regtest)).toMatch(/^bcrt1q/)
    expect(scriptToAddress(fromHex('5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433'), testnet3)).toBe(
      'tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c',
    )
    expect(scriptToAddress(fromHex('51024e73'), mainnet)).toBe('bc1pfeessrawgf')
  })

  it('undefined for a script without an address', () => {
    for (const hex of ['', `2102${H32}ac`, `6a14${H20}`, `0015${H20}00`, `0010${H32.slice(0, 32)}`]) {
      expect(scriptToAddress(fromHex(hex), mainnet), hex).toBeUndefined()
    }
  })

  it('BSV: base58 as on mainnet, no segwit addresses', () => {
    expect(scriptToAddress(fromHex(`76a914${H20}88ac`), bsv)).toBe('1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH')
    expect(scriptToAddress(fromHex(`a914${H20}87`), bsv)).toBe(scriptToAddress(fromHex(`a914${H20}87`), mainnet))
    expect(scriptToAddress(fromHex(`0014${H20}`), bsv)).toBeUndefined()
    expect(scriptToAddress(fromHex(`5120${H32}`), bsv)).toBeUndefined()
  })

  it('a custom network: its own HRP and version bytes; undefined where BIP173 would make the string too long', () => {
    const custom: AddressNetwork = { name: 'custom', bech32Hrp: 'x'.repeat(40), base58PubKeyHashPrefix: 30, base58ScriptHashPrefix: 22 }
    const short = scriptToAddress(fromHex(`0014${H20}`), custom)!
    expect(short).toHaveLength(40 + 1 + 33 + 6)
    expect(decodeAddress(short, custom).type).toBe('p2wpkh')
    // 40 + '1' + 65 data characters + 6 > 90.
    expect(scriptToAddress(fromHex(`6028${H20}${H20}`), custom)).toBeUndefined()
    const d = scriptToAddress(fromHex(`76a914${H20}88ac`), custom)!
    expect(d).toMatch(/^D/)
    expect(addressToScript(d, custom)).toEqual(fromHex(`76a914${H20}88ac`))
  })
})
