// The published vectors: BIP173 (bech32), BIP350 (bech32m) and Bitcoin
// Core's key_io tests, each on every network the wire package knows.
import { describe, expect, it } from 'vitest'
import { bech32, bech32m } from '@scure/base'
import { NETWORKS, fromHex, mainnet, regtest, signet, testnet3, testnet4, toHex, type NetworkParams } from '@bitp2p/wire'
import { AddressError, addressToScript, decodeAddress, scriptToAddress, scriptType, type AddressErrorCode } from '../../src/index.js'
import {
  BIP173_INVALID_ADDRESSES,
  BIP173_INVALID_BECH32,
  BIP173_VALID_ADDRESSES,
  BIP173_VALID_BECH32,
  BIP350_INVALID_ADDRESSES,
  BIP350_INVALID_BECH32M,
  BIP350_VALID_ADDRESSES,
  BIP350_VALID_BECH32M,
  CORE_INVALID,
  CORE_VALID_ADDRESSES,
  type CoreChain,
} from './vectors.js'

/** The code decodeAddress throws, or 'OK'; anything but an AddressError fails the test. */
function outcome(address: string, network: NetworkParams): AddressErrorCode | 'OK' {
  try {
    decodeAddress(address, network)
    return 'OK'
  } catch (e) {
    if (!(e instanceof AddressError)) throw e
    return e.code
  }
}

/** The networks whose HRP starts the address (bc, tb or bcrt); mainnet when none does. */
function homeNetworks(address: string): NetworkParams[] {
  const lower = address.toLowerCase()
  const hrp = lower.slice(0, Math.max(0, lower.lastIndexOf('1')))
  const home = NETWORKS.filter((n) => n.bech32Hrp === hrp)
  return home.length > 0 ? home : [mainnet]
}

const CORE_CHAINS: Record<CoreChain, readonly NetworkParams[]> = {
  main: [mainnet],
  // Core's testnet4 vectors hold for testnet3 too: the same prefixes.
  testnet4: [testnet4, testnet3],
  signet: [signet],
  regtest: [regtest],
}

describe('BIP173 vectors', () => {
  it('the 7 valid bech32 strings decode with @scure/base; none is an address of a known network (UNKNOWN_PREFIX)', () => {
    expect(BIP173_VALID_BECH32).toHaveLength(7)
    for (const s of BIP173_VALID_BECH32) {
      expect(() => bech32.decode(s as `${string}1${string}`), s).not.toThrow()
      for (const n of NETWORKS) expect(outcome(s, n), `${s} on ${n.name}`).toBe('UNKNOWN_PREFIX')
    }
  })

  it('the 12 invalid bech32 strings are refused by @scure/base, and by decodeAddress with a typed error', () => {
    expect(BIP173_INVALID_BECH32).toHaveLength(12)
    const expected: Record<string, AddressErrorCode> = {
      // Not printable ASCII, too long, no separator, empty HRP, characters outside the alphabet.
      '\x201nwldj5': 'BAD_ENCODING',
      '\x7f1axkwrx': 'BAD_ENCODING',
      '\x801eym55h': 'BAD_ENCODING',
      an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx: 'BAD_ENCODING',
      pzry9x0s0muk: 'BAD_ENCODING',
      '1pzry9x0s0muk': 'BAD_ENCODING',
      x1b4n0q5v: 'BAD_ENCODING',
      li1dgmt3: 'BAD_ENCODING',
      'de1lg7wt\xff': 'BAD_ENCODING',
      '10a06t8': 'BAD_ENCODING',
      // Made only of base58 characters, so judged as base58: too short for an address.
      A1G7SGD8: 'BAD_PAYLOAD_LENGTH',
      '1qzzfhee': 'BAD_PAYLOAD_LENGTH',
    }
    for (const { address, reason } of BIP173_INVALID_BECH32) {
      expect(bech32.decodeUnsafe(address), `${JSON.stringify(address)}: ${reason}`).toBeUndefined()
      for (const n of NETWORKS) expect(outcome(address, n), `${JSON.stringify(address)} (${reason}) on ${n.name}`).toBe(expected[address])
    }
  })

  it('the 6 valid addresses: the 3 of version 0 decode to their scripts; the 3 of versions 1 and 2, in bech32, are now WRONG_CHECKSUM_VARIANT (BIP350)', () => {
    expect(BIP173_VALID_ADDRESSES).toHaveLength(6)
    let decoded = 0
    for (const { address, script } of BIP173_VALID_ADDRESSES) {
      const version = fromHex(script)[0]!
      for (const n of homeNetworks(address)) {
        if (version === 0) {
          expect(toHex(addressToScript(address, n)), `${address} on ${n.name}`).toBe(script)
          expect(scriptToAddress(fromHex(script), n)).toBe(address.toLowerCase())
          decoded++
        } else {
          expect(outcome(address, n), `${address} on ${n.name}`).toBe('WRONG_CHECKSUM_VARIANT')
        }
      }
    }
    // BC1QW508... on mainnet, each tb1q... on testnet3, testnet4 and signet.
    expect(decoded).toBe(1 + 3 + 3)
  })

  it('the 10 invalid addresses give the error their BIP names', () => {
    expect(BIP173_INVALID_ADDRESSES).toHaveLength(10)
    const expected: AddressErrorCode[] = [
      'UNKNOWN_PREFIX', // Invalid human-readable part
      'BAD_CHECKSUM', // Invalid checksum
      'BAD_WITNESS_VERSION', // Invalid witness version
      'BAD_PROGRAM_LENGTH', // Invalid program length
      'BAD_PROGRAM_LENGTH', // Invalid program length
      'BAD_PROGRAM_LENGTH', // Invalid program length for witness version 0 (per BIP141)
      'BAD_ENCODING', // Mixed case
      'BAD_PADDING', // zero padding of more than 4 bits
      'BAD_PADDING', // Non-zero padding in 8-to-5 conversion
      'BAD_ENCODING', // Empty data section
    ]
    BIP173_INVALID_ADDRESSES.forEach(({ address, reason }, i) => {
      for (const n of homeNetworks(address)) expect(outcome(address, n), `${address} (${reason}) on ${n.name}`).toBe(expected[i])
    })
  })
})

describe('BIP350 vectors', () => {
  it('the 7 valid bech32m strings decode with @scure/base (and not as bech32); none is an address of a known network', () => {
    expect(BIP350_VALID_BECH32M).toHaveLength(7)
    for (const s of BIP350_VALID_BECH32M) {
      expect(() => bech32m.decode(s as `${string}1${string}`), s).not.toThrow()
      expect(bech32.decodeUnsafe(s), s).toBeUndefined()
      for (const n of NETWORKS) expect(outcome(s, n), `${s} on ${n.name}`).toBe('UNKNOWN_PREFIX')
    }
  })

  it('the 14 invalid bech32m strings are refused by @scure/base, and by decodeAddress with a typed error', () => {
    expect(BIP350_INVALID_BECH32M).toHaveLength(14)
    const expected: Record<string, AddressErrorCode> = {
      '\x201xj0phk': 'BAD_ENCODING',
      '\x7f1g6xzxy': 'BAD_ENCODING',
      '\x801vctc34': 'BAD_ENCODING',
      an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4: 'BAD_ENCODING',
      y1b0jsk6g: 'BAD_ENCODING',
      lt1igcx5c0: 'BAD_ENCODING',
      '16plkw9': 'BAD_ENCODING',
      // Only base58 characters: judged as base58, too short for an address.
      qyrz8wqd2c9m: 'BAD_PAYLOAD_LENGTH',
      '1qyrz8wqd2c9m': 'BAD_PAYLOAD_LENGTH',
      in1muywd: 'BAD_PAYLOAD_LENGTH',
      mm1crxm3i: 'BAD_PAYLOAD_LENGTH',
      au1s5cgom: 'BAD_PAYLOAD_LENGTH',
      M1VUXWEZ: 'BAD_PAYLOAD_LENGTH',
      '1p2gdwpf': 'BAD_PAYLOAD_LENGTH',
    }
    for (const { address, reason } of BIP350_INVALID_BECH32M) {
      expect(bech32m.decodeUnsafe(address), `${JSON.stringify(address)}: ${reason}`).toBeUndefined()
      for (const n of NETWORKS) expect(outcome(address, n), `${JSON.stringify(address)} (${reason}) on ${n.name}`).toBe(expected[address])
    }
  })

  it('the 8 valid addresses decode to their scripts, and their scripts encode back to them (lowercase)', () => {
    expect(BIP350_VALID_ADDRESSES).toHaveLength(8)
    for (const { address, script } of BIP350_VALID_ADDRESSES) {
      for (const n of homeNetworks(address)) {
        const d = decodeAddress(address, n)
        expect(toHex(d.script), `${address} on ${n.name}`).toBe(script)
        expect(d.type).toBe(scriptType(fromHex(script)))
        expect(d.encoding).toBe(d.witnessVersion === 0 ? 'bech32' : 'bech32m')
        expect(scriptToAddress(fromHex(script), n)).toBe(address.toLowerCase())
      }
    }
    expect(BIP350_VALID_ADDRESSES.map((v) => scriptType(fromHex(v.script)))).toEqual([
      'p2wpkh',
      'p2wsh',
      'witness_unknown',
      'witness_unknown',
      'witness_unknown',
      'p2wsh',
      'p2tr',
      'p2tr',
    ])
  })

  it('the 15 invalid addresses give the error their BIP names', () => {
    expect(BIP350_INVALID_ADDRESSES).toHaveLength(15)
    const expected: AddressErrorCode[] = [
      'UNKNOWN_PREFIX', // Invalid human-readable part
      'WRONG_CHECKSUM_VARIANT', // Invalid checksum (Bech32 instead of Bech32m)
      'WRONG_CHECKSUM_VARIANT', // Invalid checksum (Bech32 instead of Bech32m)
      'WRONG_CHECKSUM_VARIANT', // Invalid checksum (Bech32 instead of Bech32m)
      'WRONG_CHECKSUM_VARIANT', // Invalid checksum (Bech32m instead of Bech32)
      'WRONG_CHECKSUM_VARIANT', // Invalid checksum (Bech32m instead of Bech32)
      'BAD_ENCODING', // Invalid character in checksum
      'BAD_WITNESS_VERSION', // Invalid witness version
      'BAD_PROGRAM_LENGTH', // Invalid program length (1 byte)
      'BAD_PROGRAM_LENGTH', // Invalid program length (41 bytes)
      'BAD_PROGRAM_LENGTH', // Invalid program length for witness version 0 (per BIP141)
      'BAD_ENCODING', // Mixed case
      'BAD_PADDING', // zero padding of more than 4 bits
      'BAD_PADDING', // Non-zero padding in 8-to-5 conversion
      'BAD_ENCODING', // Empty data section
    ]
    BIP350_INVALID_ADDRESSES.forEach(({ address, reason }, i) => {
      for (const n of homeNetworks(address)) expect(outcome(address, n), `${address} (${reason}) on ${n.name}`).toBe(expected[i])
    })
  })
})

describe("Bitcoin Core's key_io vectors", () => {
  it('the 54 valid addresses (base58 and segwit, main, testnet4, signet, regtest) decode to their scripts and encode back', () => {
    expect(CORE_VALID_ADDRESSES).toHaveLength(54)
    expect(CORE_VALID_ADDRESSES.filter((v) => scriptType(fromHex(v.script)) === 'p2pkh')).toHaveLength(11)
    expect(CORE_VALID_ADDRESSES.filter((v) => scriptType(fromHex(v.script)) === 'p2sh')).toHaveLength(11)
    for (const { address, script, chain } of CORE_VALID_ADDRESSES) {
      for (const n of CORE_CHAINS[chain]) {
        expect(toHex(addressToScript(address, n)), `${address} on ${n.name}`).toBe(script)
        expect(scriptToAddress(fromHex(script), n), `${script} on ${n.name}`).toBe(address)
        // Core's "tryCaseFlip": a segwit address may be written in uppercase.
        if (address.startsWith(n.bech32Hrp + '1')) expect(toHex(addressToScript(address.toUpperCase(), n))).toBe(script)
      }
    }
  })

  it('a valid address is WRONG_NETWORK on every network with other prefixes, and the same script on those that share them', () => {
    let wrong = 0
    for (const { address, script, chain } of CORE_VALID_ADDRESSES) {
      const home = CORE_CHAINS[chain][0]!
      const type = scriptType(fromHex(script))
      for (const n of NETWORKS) {
        const shares =
          type === 'p2pkh'
            ? n.base58PubKeyHashPrefix === home.base58PubKeyHashPrefix
            : type === 'p2sh'
              ? n.base58ScriptHashPrefix === home.base58ScriptHashPrefix
              : n.bech32Hrp === home.bech32Hrp
        if (shares) {
          expect(toHex(addressToScript(address, n)), `${address} on ${n.name}`).toBe(script)
        } else {
          expect(outcome(address, n), `${address} on ${n.name}`).toBe('WRONG_NETWORK')
          wrong++
        }
      }
    }
    expect(wrong).toBeGreaterThan(CORE_VALID_ADDRESSES.length)
  })

  it('the 79 invalid strings are refused on every network with an AddressError, judged on their content on their own network', () => {
    expect(CORE_INVALID).toHaveLength(79)
    for (const s of CORE_INVALID) {
      for (const n of NETWORKS) expect(outcome(s, n), `${s} on ${n.name}`).not.toBe('OK')
      for (const n of homeNetworks(s)) {
        if (n.bech32Hrp !== undefined && s.toLowerCase().startsWith(n.bech32Hrp + '1')) expect(outcome(s, n), `${s} on ${n.name}`).not.toBe('WRONG_NETWORK')
      }
    }
  })
})
