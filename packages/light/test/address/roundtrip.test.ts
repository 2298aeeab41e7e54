// Properties, seeded: script -> address -> script for every type on every
// network; what any other network says about the same address; and hostile
// strings, which only ever get an AddressError.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { NETWORKS, type NetworkParams } from '@bitp2p/wire'
import { AddressError, decodeAddress, scriptToAddress, scriptType, type AddressType, type DecodedAddress } from '../../src/index.js'

/** An address type, a script of that type written out per its template, and its program (or hash). */
interface Case {
  readonly type: AddressType
  readonly script: Uint8Array
  readonly program: Uint8Array
  readonly version?: number
}

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

const p2pkh = bytes(20).map((h): Case => ({ type: 'p2pkh', program: h, script: Uint8Array.of(0x76, 0xa9, 0x14, ...h, 0x88, 0xac) }))
const p2sh = bytes(20).map((h): Case => ({ type: 'p2sh', program: h, script: Uint8Array.of(0xa9, 0x14, ...h, 0x87) }))
/** <OP_0 | OP_1..OP_16> <push program>. */
const witness = (version: number, program: Uint8Array, type: AddressType): Case => ({
  type,
  version,
  program,
  script: Uint8Array.of(version === 0 ? 0 : 0x50 + version, program.length, ...program),
})
const p2wpkh = bytes(20).map((p) => witness(0, p, 'p2wpkh'))
const p2wsh = bytes(32).map((p) => witness(0, p, 'p2wsh'))
const p2tr = bytes(32).map((p) => witness(1, p, 'p2tr'))
/** Versions 1..16 with any 2..40-byte program, except v1 with 32 bytes (taproot). */
const future = fc
  .tuple(fc.integer({ min: 1, max: 16 }), fc.uint8Array({ minLength: 2, maxLength: 40 }))
  .filter(([v, p]) => !(v === 1 && p.length === 32))
  .map(([v, p]) => witness(v, p, 'witness_unknown'))

const anyCase = fc.oneof(p2pkh, p2sh, p2wpkh, p2wsh, p2tr, future)
const anyNetwork = fc.constantFrom(...NETWORKS)

/** The prefix an address of this type carries on `n`: HRP or version byte. */
function prefixOf(type: AddressType, n: NetworkParams): string | number | undefined {
  return type === 'p2pkh' ? n.base58PubKeyHashPrefix : type === 'p2sh' ? n.base58ScriptHashPrefix : n.bech32Hrp
}

function tryDecode(address: string, n: NetworkParams): DecodedAddress | AddressError {
  try {
    return decodeAddress(address, n)
  } catch (e) {
    if (e instanceof AddressError) return e
    throw e
  }
}

describe('round trip, every type on every network', () => {
  it('script -> address -> the same script, type, program and version; uppercase segwit too', () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(anyCase, anyNetwork, (c, n) => {
        expect(scriptType(c.script)).toBe(c.type)
        const address = scriptToAddress(c.script, n)
        if (prefixOf(c.type, n) === undefined) {
          // BSV has no segwit addresses.
          expect(address).toBeUndefined()
          return
        }
        expect(address).toBeDefined()
        const d = decodeAddress(address!, n)
        expect(d.script).toEqual(c.script)
        expect(d.type).toBe(c.type)
        expect(d.program).toEqual(c.program)
        expect(d.witnessVersion).toBe(c.version)
        expect(d.encoding).toBe(c.version === undefined ? 'base58check' : c.version === 0 ? 'bech32' : 'bech32m')
        if (c.version !== undefined) {
          expect(address).toBe(address!.toLowerCase())
          expect(address!.startsWith(`${n.bech32Hrp}1`)).toBe(true)
          expect(decodeAddress(address!.toUpperCase(), n).script).toEqual(c.script)
        }
        seen.add(`${c.type}@${n.name}`)
      }),
      { seed: 0xadd7e55, numRuns: 2000 },
    )
    // Every type met every network (segwit types: every network with an HRP).
    const expected = NETWORKS.flatMap((n) => (['p2pkh', 'p2sh', 'p2wpkh', 'p2wsh', 'p2tr', 'witness_unknown'] as const).filter((t) => prefixOf(t, n) !== undefined).map((t) => `${t}@${n.name}`))
    expect([...seen].sort()).toEqual(expected.sort())
  })

  it('an address of one network is the same script on a network with the same prefix, and WRONG_NETWORK on any other', () => {
    fc.assert(
      fc.property(anyCase, anyNetwork, anyNetwork, (c, home, other) => {
        const address = scriptToAddress(c.script, home)
        fc.pre(address !== undefined)
        const r = tryDecode(address!, other)
        if (prefixOf(c.type, other) === prefixOf(c.type, home)) {
          expect(r).not.toBeInstanceOf(AddressError)
          expect((r as DecodedAddress).script).toEqual(c.script)
        } else {
          expect(r).toBeInstanceOf(AddressError)
          expect((r as AddressError).code).toBe('WRONG_NETWORK')
          expect((r as AddressError).detail.networks).toContain(home.name)
        }
      }),
      { seed: 0x0e7, numRuns: 1000 },
    )
  })
})

describe('hostile strings', () => {
  it('one character changed in a valid address never decodes (bech32 detects it always, base58check with 2^-32 odds)', () => {
    const printable = fc.integer({ min: 33, max: 126 }).map((c) => String.fromCharCode(c))
    fc.assert(
      fc.property(anyCase, anyNetwork, fc.nat(), printable, (c, n, at, ch) => {
        const address = scriptToAddress(c.script, n)
        fc.pre(address !== undefined)
        const i = at % address!.length
        fc.pre(address![i] !== ch)
        const changed = address!.slice(0, i) + ch + address!.slice(i + 1)
        expect(tryDecode(changed, n)).toBeInstanceOf(AddressError)
      }),
      { seed: 0x5ab5, numRuns: 3000 },
    )
  })

  it('any string gets a decoded address or an AddressError, never another exception; what decodes encodes back to itself', () => {
    const bech32ish = fc
      .tuple(fc.constantFrom('bc1', 'tb1', 'bcrt1', 'BC1', 'TB1'), fc.string({ unit: fc.constantFrom(...'qpzry9x8gf2tvdw0s3jn54khce6mua7lQP'), maxLength: 70 }))
      .map(([h, d]) => h + d)
    const base58ish = fc.string({ unit: fc.constantFrom(...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl'), maxLength: 40 })
    const anyString = fc.oneof(bech32ish, base58ish, fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 }))
    fc.assert(
      fc.property(anyString, anyNetwork, (s, n) => {
        const r = tryDecode(s, n)
        if (r instanceof AddressError) return
        expect(scriptType(r.script)).toBe(r.type)
        expect(scriptToAddress(r.script, n)).toBe(r.encoding === 'base58check' ? s : s.toLowerCase())
      }),
      { seed: 0xbad5, numRuns: 5000 },
    )
  })

  it('any bytes: scriptType never throws, and a script it names has an address that decodes back to it', () => {
    const counts = new Map<string, number>()
    const standardish = fc.oneof(
      fc.uint8Array({ maxLength: 50 }),
      // Near the templates: a (would-be) version opcode, a push length that is right or one off, the bytes.
      fc
        .tuple(fc.constantFrom(0x00, 0x4f, 0x50, 0x51, 0x52, 0x60, 0x61), fc.oneof(bytes(20), bytes(32), fc.uint8Array({ maxLength: 45 })), fc.boolean())
        .map(([op, rest, honest]) => Uint8Array.of(op, honest ? rest.length : rest.length + 1, ...rest)),
    )
    fc.assert(
      fc.property(standardish, (script) => {
        const type = scriptType(script)
        counts.set(type, (counts.get(type) ?? 0) + 1)
        const address = scriptToAddress(script, NETWORKS[0]!)
        if (type === 'nonstandard') {
          expect(address).toBeUndefined()
          return
        }
        expect(decodeAddress(address!, NETWORKS[0]!).script).toEqual(script)
      }),
      { seed: 0x5c41, numRuns: 5000 },
    )
    // The generator reaches the segwit types and the nonstandard near misses.
    for (const t of ['p2wpkh', 'p2wsh', 'p2tr', 'witness_unknown', 'nonstandard'] as const) expect(counts.get(t), t).toBeGreaterThan(0)
  })
})
