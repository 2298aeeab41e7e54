import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { blockHash, BLOCK_HEADER_BYTES, parseBlockHeader } from '../../src/block/header.js'
import { hashToHex } from '../../src/bytes/hex.js'
import {
  bitsToTarget,
  bitsToTargetStrict,
  checkProofOfWork,
  hashToBigInt,
  POW_HASH_BYTES,
  targetToBits,
  TWO_POW_256,
  workFromBits,
} from '../../src/network/pow.js'
import { mainnet, regtest } from '../../src/network/params.js'
import { errorOf } from '../util.js'

/** 32 little-endian bytes of a 256-bit number: the internal byte order of a hash. */
function bigIntToHash(n: bigint): Uint8Array {
  const out = new Uint8Array(POW_HASH_BYTES)
  for (let i = 0; i < POW_HASH_BYTES; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

// Bitcoin Core src/test/arith_uint256_tests.cpp, test case bignum_SetCompact:
// [nCompact, GetHex() after SetCompact, GetCompact() (with the negative flag
// for the two negative rows: GetCompact(true)), fNegative, fOverflow].
const CORE_SET_COMPACT: ReadonlyArray<readonly [number, string, number, boolean, boolean]> = [
  [0x00000000, '0', 0x00000000, false, false],
  [0x00123456, '0', 0x00000000, false, false],
  [0x01003456, '0', 0x00000000, false, false],
  [0x02000056, '0', 0x00000000, false, false],
  [0x03000000, '0', 0x00000000, false, false],
  [0x04000000, '0', 0x00000000, false, false],
  [0x00923456, '0', 0x00000000, false, false],
  [0x01803456, '0', 0x00000000, false, false],
  [0x02800056, '0', 0x00000000, false, false],
  [0x03800000, '0', 0x00000000, false, false],
  [0x04800000, '0', 0x00000000, false, false],
  [0x01123456, '12', 0x01120000, false, false],
  [0x01fedcba, '7e', 0x01fe0000, true, false],
  [0x02123456, '1234', 0x02123400, false, false],
  [0x03123456, '123456', 0x03123456, false, false],
  [0x04123456, '12345600', 0x04123456, false, false],
  [0x04923456, '12345600', 0x04923456, true, false],
  [0x05009234, '92340000', 0x05009234, false, false],
  [0x20123456, '1234560000000000000000000000000000000000000000000000000000000000', 0x20123456, false, false],
]

describe('bitsToTarget / targetToBits: Core SetCompact vectors', () => {
  it.each(CORE_SET_COMPACT.map((r) => [r[0].toString(16).padStart(8, '0'), ...r] as const))(
    '0x%s',
    (_label, bits, hex, compact, negative, overflow) => {
      const t = bitsToTarget(bits)
      expect(t.target).toBe(BigInt('0x' + hex))
      expect(t.negative).toBe(negative)
      expect(t.overflow).toBe(overflow)
      expect(targetToBits(t.target, negative)).toBe(compact)
    },
  )

  it('0xff123456 overflows and is not negative', () => {
    const t = bitsToTarget(0xff123456)
    expect(t.overflow).toBe(true)
    expect(t.negative).toBe(false)
  })

  it('never produces the sign bit: 0x80 encodes as 0x02008000', () => {
    expect(targetToBits(0x80n)).toBe(0x02008000)
  })

  it('mainnet genesis bits 0x1d00ffff is 0xffff * 2^208', () => {
    expect(bitsToTarget(0x1d00ffff).target).toBe(0xffffn << 208n)
    expect(targetToBits(0xffffn << 208n)).toBe(0x1d00ffff)
  })

  it('the largest target encodes with size 33 and decodes back to its top 16 bits', () => {
    const max = TWO_POW_256 - 1n
    const bits = targetToBits(max)
    expect(bits).toBe(0x2100ffff)
    const t = bitsToTarget(bits)
    expect(t.overflow).toBe(false)
    expect(t.target).toBe(0xffffn << 240n)
  })
})

describe('bitsToTargetStrict', () => {
  it('returns the target of valid bits', () => {
    expect(bitsToTargetStrict(0x02123456)).toBe(0x1234n)
    expect(bitsToTargetStrict(0)).toBe(0n)
  })

  it('rejects negative and overflowing compact values with INVALID_VALUE', () => {
    for (const bits of [0x01fedcba, 0x04923456, 0xff123456, 0x21010000, 0x23000001]) {
      const e = errorOf(() => bitsToTargetStrict(bits))
      expect(e?.code, bits.toString(16)).toBe('INVALID_VALUE')
      expect(e?.detail.actual).toBe(bits)
    }
  })
})

describe('argument checks', () => {
  it('bits must be a u32', () => {
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) {
      expect(errorOf(() => bitsToTarget(bad))?.code).toBe('ENCODE_RANGE')
      expect(errorOf(() => workFromBits(bad))?.code).toBe('ENCODE_RANGE')
    }
  })

  it('targets must be in [0, 2^256)', () => {
    expect(errorOf(() => targetToBits(-1n))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => targetToBits(TWO_POW_256))?.code).toBe('ENCODE_RANGE')
  })
})

describe('hashToBigInt', () => {
  it('reads internal byte order little-endian', () => {
    const one = new Uint8Array(32)
    one[0] = 1
    expect(hashToBigInt(one)).toBe(1n)
    const top = new Uint8Array(32)
    top[31] = 0x80
    expect(hashToBigInt(top)).toBe(1n << 255n)
    // The display hex of a hash is the big-endian number.
    expect(hashToBigInt(mainnet.genesisHash)).toBe(BigInt('0x' + mainnet.genesisHashHex))
  })

  it('rejects anything but 32 bytes', () => {
    expect(errorOf(() => hashToBigInt(new Uint8Array(31)))?.code).toBe('INVALID_VALUE')
    expect(errorOf(() => hashToBigInt(new Uint8Array(33)))?.code).toBe('INVALID_VALUE')
  })

  it('round-trips with the little-endian encoding', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: TWO_POW_256 - 1n }), (n) => {
        expect(hashToBigInt(bigIntToHash(n))).toBe(n)
      }),
    )
  })
})

describe('checkProofOfWork', () => {
  const zeroHash = new Uint8Array(32)

  it('reports each of Core CheckProofOfWork failures', () => {
    const cases: ReadonlyArray<readonly [number, string]> = [
      [0x04923456, 'NEGATIVE_TARGET'],
      [0x00123456, 'ZERO_TARGET'],
      [0xff123456, 'TARGET_OVERFLOW'],
      // 0x1ffff * 2^208 > 2^224 - 1
      [0x1d01ffff, 'TARGET_ABOVE_POW_LIMIT'],
    ]
    for (const [bits, reason] of cases) {
      const r = checkProofOfWork(zeroHash, bits, mainnet)
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.reason).toBe(reason)
        expect(r.powLimit).toBe(mainnet.powLimit)
        expect(r.hashValue).toBeUndefined()
      }
    }
  })

  it('a hash equal to the target passes; one more fails with HASH_ABOVE_TARGET', () => {
    const bits = 0x1c0ffff0
    const target = bitsToTarget(bits).target
    const at = checkProofOfWork(bigIntToHash(target), bits, mainnet)
    expect(at).toEqual({ ok: true, target, hashValue: target })
    const over = checkProofOfWork(bigIntToHash(target + 1n), bits, mainnet)
    expect(over).toEqual({ ok: false, reason: 'HASH_ABOVE_TARGET', target, powLimit: mainnet.powLimit, hashValue: target + 1n })
  })

  it('the mainnet genesis hash does not meet a harder target', () => {
    const r = checkProofOfWork(mainnet.genesisHash, 0x1b0404cb, mainnet)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toBe('HASH_ABOVE_TARGET')
  })

  it('the same target may pass regtest and fail mainnet (powLimit is per network)', () => {
    expect(checkProofOfWork(zeroHash, 0x207fffff, regtest).ok).toBe(true)
    const r = checkProofOfWork(zeroHash, 0x207fffff, mainnet)
    expect(r.ok ? 'ok' : r.reason).toBe('TARGET_ABOVE_POW_LIMIT')
  })
})

describe('workFromBits (Core GetBlockProof)', () => {
  it('mainnet genesis bits 0x1d00ffff are worth 0x100010001 hashes', () => {
    expect(workFromBits(mainnet.genesis.bits)).toBe(0x100010001n)
  })

  it('a regtest block is worth 2', () => {
    expect(workFromBits(regtest.powLimitBits)).toBe(2n)
  })

  it('invalid targets are worth nothing', () => {
    expect(workFromBits(0)).toBe(0n)
    expect(workFromBits(0x04923456)).toBe(0n)
    expect(workFromBits(0xff123456)).toBe(0n)
  })

  it("equals Core's formula ~target / (target + 1) + 1 for every valid compact value", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const t = bitsToTarget(bits)
        fc.pre(!t.negative && !t.overflow && t.target !== 0n)
        const notTarget = TWO_POW_256 - 1n - t.target
        expect(workFromBits(bits)).toBe(notTarget / (t.target + 1n) + 1n)
      }),
    )
  })

  it('harder targets are worth more', () => {
    expect(workFromBits(0x1b0404cb) > workFromBits(0x1d00ffff)).toBe(true)
  })
})

describe('compact round trips (fast-check)', () => {
  const anyTarget = fc.bigInt({ min: 0n, max: TWO_POW_256 - 1n })
  // Targets of every magnitude, not only ~2^255: pick a bit length first.
  const scaledTarget = fc
    .tuple(fc.integer({ min: 0, max: 256 }), anyTarget)
    .map(([bitsLen, n]) => (bitsLen === 0 ? 0n : n % (1n << BigInt(bitsLen))))

  it('targetToBits(bitsToTarget(b)) is stable for normalized bits', () => {
    fc.assert(
      fc.property(scaledTarget, (t) => {
        const normalized = targetToBits(t)
        const decoded = bitsToTarget(normalized)
        expect(decoded.negative).toBe(false)
        expect(decoded.overflow).toBe(false)
        expect(targetToBits(decoded.target)).toBe(normalized)
      }),
    )
  })

  it('encoding keeps the top 3 significant bytes and truncates the rest', () => {
    fc.assert(
      fc.property(scaledTarget, (t) => {
        const bits = targetToBits(t)
        expect(bits & 0x00800000).toBe(0)
        const back = bitsToTarget(bits).target
        expect(back <= t).toBe(true)
        const size = bits >>> 24
        const unit = size > 3 ? 1n << BigInt(8 * (size - 3)) : 1n
        expect(t - back < unit).toBe(true)
      }),
    )
  })

  it('every valid compact value decodes to a target that re-encodes to the same target', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const t = bitsToTarget(bits)
        fc.pre(!t.negative && !t.overflow)
        expect(bitsToTarget(targetToBits(t.target)).target).toBe(t.target)
      }),
    )
  })
})

// Real mainnet blocks, copied into shared/data (see its README for sources).
const BLOCKS_DIR = new URL('../../../../../shared/data/blocks/', import.meta.url)
const BLOCKS: ReadonlyArray<readonly [string, string]> = [
  ['block300025.raw', '0000000000000000821c4e0acc40f88bedbce3b73ba2358b5ade58a9022cc78c'],
  ['block426884.raw', '00000000000000000431d0ead6e0bd9f90ff0d469e9b05d51e3d04971f472973'],
  ['block482683.raw', '000000000000000000c238240ef6dcb26c37e75e16514e6ffc0aef7eee73e747'],
  ['block702861.raw', '000000000000000000000c835b2adcaedc20fdf6ee440009c249452c726dafae'],
]
const haveBlocks = BLOCKS.every(([f]) => existsSync(fileURLToPath(new URL(f, BLOCKS_DIR))))

describe('real mainnet headers (shared/data/blocks)', () => {
  const note = haveBlocks ? 'data present' : 'SKIPPED: /work/shared/data/blocks/*.raw not found'
  it.skipIf(!haveBlocks)(`meet their targets, within the mainnet powLimit (${note})`, () => {
    for (const [file, expectedHash] of BLOCKS) {
      const bytes = readFileSync(fileURLToPath(new URL(file, BLOCKS_DIR)))
      const header = parseBlockHeader(new Uint8Array(bytes.buffer, bytes.byteOffset, BLOCK_HEADER_BYTES))
      const hash = blockHash(header)
      expect(hashToHex(hash), file).toBe(expectedHash)
      const r = checkProofOfWork(hash, header.bits, mainnet)
      expect(r.ok, file).toBe(true)
      const { target } = bitsToTarget(header.bits)
      expect(target < mainnet.powLimit).toBe(true)
      // Real bits are normalized compact values.
      expect(targetToBits(target)).toBe(header.bits)
      expect(workFromBits(header.bits) > workFromBits(mainnet.powLimitBits)).toBe(true)
    }
  })
})
