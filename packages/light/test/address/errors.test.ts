// Every AddressError code, with the detail it carries, and the fixed order
// of the checks (one string, one error).
import { describe, expect, it } from 'vitest'
import { base58, bech32, bech32m, createBase58check } from '@scure/base'
import { sha256 } from '@noble/hashes/sha2.js'
import { bsv, mainnet, regtest, signet, testnet3, testnet4, type NetworkParams } from '@bitp2p/wire'
import {
  AddressError,
  MAX_BASE58_ADDRESS_LENGTH,
  MAX_BECH32_ADDRESS_LENGTH,
  addressToScript,
  decodeAddress,
  isAddressError,
  type AddressErrorCode,
  type AddressErrorDetail,
} from '../../src/index.js'

const base58check = createBase58check(sha256)

/** The AddressError decodeAddress throws (the test fails if it returns or throws anything else). */
function errorOf(address: string, network: NetworkParams): AddressError {
  try {
    decodeAddress(address, network)
  } catch (e) {
    if (e instanceof AddressError) return e
    throw e
  }
  throw new Error(`${address} decoded on ${network.name}`)
}

function expectError(address: string, network: NetworkParams, code: AddressErrorCode, detail: AddressErrorDetail = {}): AddressError {
  const e = errorOf(address, network)
  expect(e.code, `${address} on ${network.name}: ${e.message}`).toBe(code)
  expect(e.detail).toMatchObject({ network: network.name, ...detail })
  expect(e.message.length).toBeGreaterThan(0)
  return e
}

/** A segwit address written by @scure/base with any version word, any payload words, either checksum. */
function segwit(hrp: string, version: number, program: Uint8Array, variant: 'bech32' | 'bech32m'): string {
  return (variant === 'bech32' ? bech32 : bech32m).encode(hrp, [version, ...bech32.toWords(program)])
}

const P2WPKH = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'
const SATOSHI_P2PKH = '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa'
const hash20 = Uint8Array.from({ length: 20 }, (_, i) => i + 1)

describe('AddressError', () => {
  it('is an Error named AddressError; isAddressError knows it, also by name (a second copy of the package)', () => {
    const e = errorOf('', mainnet)
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('AddressError')
    expect(isAddressError(e)).toBe(true)
    expect(isAddressError({ name: 'AddressError', code: 'BAD_ENCODING' })).toBe(true)
    expect(isAddressError(new Error('x'))).toBe(false)
    expect(isAddressError(null)).toBe(false)
    expect(isAddressError('AddressError')).toBe(false)
  })

  it('addressToScript throws the same errors as decodeAddress', () => {
    expect(() => addressToScript('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', mainnet)).toThrow(AddressError)
    expect(() => addressToScript('', mainnet)).toThrow(/empty/)
  })
})

describe('BAD_ENCODING', () => {
  it('an empty string', () => {
    expectError('', mainnet, 'BAD_ENCODING')
  })

  it('not a string at all (a caller without types)', () => {
    expectError(undefined as unknown as string, mainnet, 'BAD_ENCODING', { actual: 'undefined' })
    expectError(42 as unknown as string, mainnet, 'BAD_ENCODING', { actual: 'number' })
  })

  it('longer than BIP173 allows: refused before any character is looked at', () => {
    expect(MAX_BECH32_ADDRESS_LENGTH).toBe(90)
    expectError('bc1' + 'q'.repeat(88), mainnet, 'BAD_ENCODING', { actual: 91, limit: 90 })
    expectError('\u0000'.repeat(1_000_000), mainnet, 'BAD_ENCODING', { actual: 1_000_000, limit: 90 })
  })

  it('a character outside printable ASCII (33..126), with its position', () => {
    expectError('bc1q w508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', mainnet, 'BAD_ENCODING', { position: 4, actual: 32 })
    expectError('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t\u00e9', mainnet, 'BAD_ENCODING', { position: 41, actual: 0xe9 })
    expectError('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN\n', mainnet, 'BAD_ENCODING', { position: 33, actual: 10 })
  })

  it('mixed case in a bech32 address (all upper or all lower is fine)', () => {
    expect(decodeAddress(P2WPKH.toUpperCase(), mainnet).type).toBe('p2wpkh')
    expectError('bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', mainnet, 'BAD_ENCODING')
    expectError('Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', mainnet, 'BAD_ENCODING')
  })

  it("a character outside bech32's alphabet (b, i, o, 1 after the separator), with its position", () => {
    expectError('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb', mainnet, 'BAD_ENCODING', { position: 41, actual: 'b' })
    expectError('BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3TI', mainnet, 'BAD_ENCODING', { position: 41, actual: 'I' })
  })

  it('a checksum shorter than 6 characters, or nothing before it', () => {
    expectError('bc1qqqq', mainnet, 'BAD_ENCODING', { actual: 4 })
    expectError('bc1gmk9yu', mainnet, 'BAD_ENCODING', { actual: 6 })
  })

  it('a base58 string longer than any base58 address can be', () => {
    expect(MAX_BASE58_ADDRESS_LENGTH).toBe(35)
    expectError('1'.repeat(36), mainnet, 'BAD_ENCODING', { actual: 36, limit: 35 })
    expectError(SATOSHI_P2PKH + 'z', mainnet, 'BAD_PAYLOAD_LENGTH')
  })

  it('neither bech32 of a known network nor base58 (0, O, I, l are not base58)', () => {
    expectError('0A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', mainnet, 'BAD_ENCODING', { position: 0, actual: '0' })
    expectError('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNl', mainnet, 'BAD_ENCODING', { position: 33, actual: 'l' })
  })
})

describe('BAD_CHECKSUM', () => {
  it('bech32: one character changed', () => {
    expectError('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', mainnet, 'BAD_CHECKSUM')
  })

  it('base58check: one character changed', () => {
    expect(decodeAddress(SATOSHI_P2PKH, mainnet).type).toBe('p2pkh')
    expectError('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb', mainnet, 'BAD_CHECKSUM')
  })

  it('is judged before the network: a mistyped testnet address on mainnet is BAD_CHECKSUM, not WRONG_NETWORK', () => {
    const tb = segwit('tb', 0, hash20, 'bech32')
    expectError(tb, mainnet, 'WRONG_NETWORK')
    expectError(tb.slice(0, -1) + (tb.endsWith('q') ? 'p' : 'q'), mainnet, 'BAD_CHECKSUM')
  })
})

describe('WRONG_CHECKSUM_VARIANT (BIP350)', () => {
  it('a version 0 program with a bech32m checksum', () => {
    expectError(segwit('bc', 0, hash20, 'bech32m'), mainnet, 'WRONG_CHECKSUM_VARIANT', { expected: 'bech32', actual: 'bech32m' })
  })

  it('a version 1 (taproot) or 16 program with a bech32 checksum', () => {
    expectError(segwit('bc', 1, new Uint8Array(32), 'bech32'), mainnet, 'WRONG_CHECKSUM_VARIANT', { expected: 'bech32m', actual: 'bech32' })
    expectError(segwit('bcrt', 16, new Uint8Array(2), 'bech32'), regtest, 'WRONG_CHECKSUM_VARIANT', { expected: 'bech32m', actual: 'bech32' })
  })
})

describe('UNKNOWN_PREFIX', () => {
  it('a valid bech32 string whose human-readable part no known network uses', () => {
    expectError(segwit('ltc', 0, hash20, 'bech32'), mainnet, 'UNKNOWN_PREFIX', { actual: 'ltc' })
    expectError(segwit('tc', 1, new Uint8Array(32), 'bech32m'), testnet4, 'UNKNOWN_PREFIX', { actual: 'tc' })
  })

  it('a valid base58check address whose version byte no known network uses', () => {
    // 48: Litecoin's P2PKH ('L...').
    expectError(base58check.encode(Uint8Array.of(48, ...hash20)), mainnet, 'UNKNOWN_PREFIX', { actual: 48 })
  })
})

describe('WRONG_NETWORK', () => {
  it("a segwit address of another network's HRP names the networks it belongs to", () => {
    expectError(segwit('tb', 0, hash20, 'bech32'), mainnet, 'WRONG_NETWORK', { expected: 'bc', actual: 'tb', networks: ['testnet3', 'testnet4', 'signet'] })
    expectError(P2WPKH, regtest, 'WRONG_NETWORK', { expected: 'bcrt', actual: 'bc', networks: ['mainnet'] })
    expectError(segwit('bcrt', 1, new Uint8Array(32), 'bech32m'), signet, 'WRONG_NETWORK', { expected: 'tb', actual: 'bcrt', networks: ['regtest'] })
  })

  it('a segwit address on a network without segwit (BSV)', () => {
    expectError(P2WPKH, bsv, 'WRONG_NETWORK', { expected: 'no segwit', actual: 'bc', networks: ['mainnet'] })
  })

  it("a base58 address of another network's version byte", () => {
    expectError(SATOSHI_P2PKH, testnet3, 'WRONG_NETWORK', { expected: '111 or 196', actual: 0, networks: ['mainnet', 'bsv'] })
    expectError(base58check.encode(Uint8Array.of(196, ...hash20)), mainnet, 'WRONG_NETWORK', {
      expected: '0 or 5',
      actual: 196,
      networks: ['testnet3', 'testnet4', 'signet', 'regtest'],
    })
  })

  it('the test networks share their prefixes: one address, the same script on testnet3, testnet4, signet (and base58 on regtest)', () => {
    const tb = segwit('tb', 1, new Uint8Array(32).fill(7), 'bech32m')
    const scripts = [testnet3, testnet4, signet].map((n) => addressToScript(tb, n))
    expect(scripts[1]).toEqual(scripts[0])
    expect(scripts[2]).toEqual(scripts[0])
    const m = base58check.encode(Uint8Array.of(111, ...hash20))
    expect(addressToScript(m, regtest)).toEqual(addressToScript(m, signet))
  })
})

describe('BAD_WITNESS_VERSION', () => {
  it('a version above 16', () => {
    expectError(segwit('bc', 17, new Uint8Array(32), 'bech32m'), mainnet, 'BAD_WITNESS_VERSION', { actual: 17, expected: '0..16' })
    expectError(segwit('bc', 31, new Uint8Array(32), 'bech32m'), mainnet, 'BAD_WITNESS_VERSION', { actual: 31 })
  })
})

describe('BAD_PADDING', () => {
  it('more than 4 bits of padding (a whole extra 5-bit group)', () => {
    // 20 bytes are 160 bits, 32 groups exactly; one more group leaves 5 bits over.
    const words = [0, ...bech32.toWords(hash20), 0]
    expectError(bech32.encode('bc', words), mainnet, 'BAD_PADDING', { actual: 5, limit: 4 })
  })

  it('padding bits that are not zero', () => {
    // 32 bytes = 256 bits in 52 groups: the last group carries 4 bits of padding.
    const words = [0, ...bech32.toWords(new Uint8Array(32))]
    words[words.length - 1] = 0b00001
    expectError(bech32.encode('bc', words), mainnet, 'BAD_PADDING')
  })
})

describe('BAD_PROGRAM_LENGTH', () => {
  it('a program shorter than 2 or longer than 40 bytes', () => {
    expectError(segwit('bc', 1, new Uint8Array(1), 'bech32m'), mainnet, 'BAD_PROGRAM_LENGTH', { actual: 1, expected: '2..40' })
    expectError(segwit('bc', 2, new Uint8Array(41), 'bech32m'), mainnet, 'BAD_PROGRAM_LENGTH', { actual: 41, expected: '2..40' })
    expectError(segwit('bc', 0, new Uint8Array(0), 'bech32'), mainnet, 'BAD_PROGRAM_LENGTH', { actual: 0 })
  })

  it('a version 0 program that is neither 20 nor 32 bytes (BIP141)', () => {
    for (const n of [2, 19, 21, 31, 33, 40]) {
      expectError(segwit('bc', 0, new Uint8Array(n), 'bech32'), mainnet, 'BAD_PROGRAM_LENGTH', { actual: n, expected: '20 or 32' })
    }
  })
})

describe('BAD_PAYLOAD_LENGTH', () => {
  it('a base58check payload that is not a version byte and a 20-byte hash', () => {
    expectError(base58check.encode(Uint8Array.of(0, ...hash20, 0)), mainnet, 'BAD_PAYLOAD_LENGTH', { actual: 26, expected: 25 })
    expectError(base58check.encode(Uint8Array.of(0, ...hash20.subarray(1))), mainnet, 'BAD_PAYLOAD_LENGTH', { actual: 24, expected: 25 })
    expectError(base58.encode(new Uint8Array(3)), mainnet, 'BAD_PAYLOAD_LENGTH', { actual: 3 })
  })
})

describe('the order of the checks', () => {
  it('one string with several faults gets the first one, in the documented order', () => {
    // Mixed case and a wrong checksum: case comes first.
    expectError('bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', mainnet, 'BAD_ENCODING')
    // Version 17 on another network: the network comes first.
    expectError(segwit('tb', 17, new Uint8Array(32), 'bech32m'), mainnet, 'WRONG_NETWORK')
    // Version 17 with a bech32 checksum: the version comes before the variant (BIP173's own vector).
    expectError(segwit('bc', 17, new Uint8Array(32), 'bech32'), mainnet, 'BAD_WITNESS_VERSION')
    // A 1-byte version 3 program in bech32: the length comes before the variant (BIP173's own vector).
    expectError(segwit('bc', 3, new Uint8Array(1), 'bech32'), mainnet, 'BAD_PROGRAM_LENGTH')
    // Base58: a wrong length (26 bytes, no valid checksum either) is found before the checksum is computed.
    expectError(base58.encode(Uint8Array.of(...new Uint8Array(25), 1)), mainnet, 'BAD_PAYLOAD_LENGTH', { actual: 26 })
  })
})
