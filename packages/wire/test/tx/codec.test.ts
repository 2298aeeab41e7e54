import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteReader } from '../../src/bytes/reader.js'
import { ByteWriter } from '../../src/bytes/writer.js'
import { toHex } from '../../src/bytes/hex.js'
import {
  decodeTx,
  decodeTxWithLayout,
  DEFAULT_TX_LIMITS,
  encodeTx,
  MAX_SCRIPT_SIZE,
  MAX_TX_INPUTS,
  MAX_TX_OUTPUTS,
  MAX_WITNESS_ITEMS,
  parseTx,
  serializeTx,
  txLimits,
} from '../../src/tx/codec.js'
import type { Transaction } from '../../src/tx/types.js'
import { wireErrorOf, hex } from '../util.js'

// A small segwit transaction, annotated field by field.
const VERSION = '02000000'
const INPUT = [
  '1111111111111111111111111111111111111111111111111111111111111111', // prevout txid
  '01000000', // prevout index 1
  '00', // empty scriptSig
  'fdffffff', // sequence 0xfffffffd
].join('')
const OUTPUT = [
  'e803000000000000', // 1000 sat
  '16', // 22-byte script
  '0014' + '22'.repeat(20), // P2WPKH
].join('')
const WITNESS = ['02', '03' + 'aabbcc', '02' + 'ddee'].join('') // two items: 3 and 2 bytes
const LOCKTIME = '65000000' // 101
const SEGWIT_TX = hex(VERSION, '0001', '01', INPUT, '01', OUTPUT, WITNESS, LOCKTIME)
const LEGACY_FORM = hex(VERSION, '01', INPUT, '01', OUTPUT, LOCKTIME)

describe('tx codec: a known segwit transaction', () => {
  it('decodes every field', () => {
    const tx = parseTx(SEGWIT_TX)
    expect(tx.version).toBe(2)
    expect(tx.locktime).toBe(101)
    expect(tx.inputs).toHaveLength(1)
    const input = tx.inputs[0]!
    expect(toHex(input.prevout.txid)).toBe('11'.repeat(32))
    expect(input.prevout.index).toBe(1)
    expect(input.scriptSig).toHaveLength(0)
    expect(input.sequence).toBe(0xfffffffd)
    expect(input.witness.map(toHex)).toEqual(['aabbcc', 'ddee'])
    expect(tx.outputs).toHaveLength(1)
    expect(tx.outputs[0]!.value).toBe(1000n)
    expect(toHex(tx.outputs[0]!.scriptPubKey)).toBe('0014' + '22'.repeat(20))
  })

  it('serializes back to the same bytes, and to the legacy form without witness', () => {
    const tx = parseTx(SEGWIT_TX)
    expect(toHex(serializeTx(tx))).toBe(toHex(SEGWIT_TX))
    expect(toHex(serializeTx(tx, { witness: false }))).toBe(toHex(LEGACY_FORM))
  })

  it('decodes byte fields as views into the input (no copies)', () => {
    const tx = parseTx(SEGWIT_TX)
    expect(tx.outputs[0]!.scriptPubKey.buffer).toBe(SEGWIT_TX.buffer)
    expect(tx.inputs[0]!.witness[0]!.buffer).toBe(SEGWIT_TX.buffer)
    expect(tx.inputs[0]!.prevout.txid.buffer).toBe(SEGWIT_TX.buffer)
  })

  it('reports the layout of the parts (witness section, locktime)', () => {
    const framed = hex('abcd', toHex(SEGWIT_TX), 'ef')
    const r = new ByteReader(framed, 2)
    const { layout } = decodeTxWithLayout(r)
    expect(layout.start).toBe(2)
    expect(layout.end).toBe(2 + SEGWIT_TX.length)
    expect(layout.segwit).toBe(true)
    expect(toHex(framed.subarray(layout.witnessStart, layout.witnessEnd))).toBe(WITNESS)
    expect(r.offset).toBe(layout.end)
    // The legacy form is the transaction with marker, flag and witness cut out.
    const cut = hex(
      toHex(framed.subarray(layout.start, layout.start + 4)),
      toHex(framed.subarray(layout.start + 6, layout.witnessStart)),
      toHex(framed.subarray(layout.witnessEnd, layout.end)),
    )
    expect(toHex(cut)).toBe(toHex(LEGACY_FORM))
  })

  it('a legacy transaction has an empty witness section just before the locktime', () => {
    const { tx, layout } = decodeTxWithLayout(new ByteReader(LEGACY_FORM))
    expect(layout.segwit).toBe(false)
    expect(layout.witnessStart).toBe(layout.witnessEnd)
    expect(layout.witnessEnd).toBe(LEGACY_FORM.length - 4)
    expect(tx.inputs[0]!.witness).toHaveLength(0)
  })
})

describe('tx codec: hostile and malformed input', () => {
  it('truncation at every offset of a segwit tx is TRUNCATED', () => {
    for (let n = 0; n < SEGWIT_TX.length; n++) {
      const e = wireErrorOf(() => parseTx(SEGWIT_TX.subarray(0, n)))
      expect(e.code, `prefix of ${n} bytes`).toBe('TRUNCATED')
    }
  })

  it('bytes after the transaction are TRAILING_BYTES', () => {
    const e = wireErrorOf(() => parseTx(hex(toHex(SEGWIT_TX), '00')))
    expect(e.code).toBe('TRAILING_BYTES')
    expect(e.detail.offset).toBe(SEGWIT_TX.length)
  })

  it('a segwit flag other than 1 is INVALID_VALUE at the flag', () => {
    for (const flag of ['00', '02', '03', 'ff']) {
      const e = wireErrorOf(() => parseTx(hex(VERSION, '00', flag, '01', INPUT, '01', OUTPUT, WITNESS, LOCKTIME)))
      expect(e.code).toBe('INVALID_VALUE')
      expect(e.detail.offset).toBe(5)
      expect(e.detail.actual).toBe(parseInt(flag, 16))
    }
  })

  it('a segwit-marked tx whose witness stacks are all empty is INVALID_VALUE (superfluous witness record)', () => {
    const bytes = hex(VERSION, '0001', '02', INPUT, INPUT, '01', OUTPUT, '00', '00', LOCKTIME)
    const e = wireErrorOf(() => parseTx(bytes))
    expect(e.code).toBe('INVALID_VALUE')
    expect(e.detail.field).toBe('witness')
    expect(e.detail.offset).toBe(bytes.length - 6)
    // One empty item is a witness (a stack of one element), so this is fine.
    expect(parseTx(hex(VERSION, '0001', '02', INPUT, INPUT, '01', OUTPUT, '00', '0100', LOCKTIME)).inputs[1]!.witness).toHaveLength(1)
  })

  it('a segwit marker with no inputs at all is INVALID_VALUE (no witness can exist)', () => {
    expect(wireErrorOf(() => parseTx(hex(VERSION, '0001', '00', '01', OUTPUT, LOCKTIME))).code).toBe('INVALID_VALUE')
  })

  it('0xffffffff inputs fails on the count, before reading or allocating anything', () => {
    const bytes = hex(VERSION, 'feffffffff', INPUT)
    // OVERSIZE for the count, at the count: no input was read, and nothing
    // sized by the count was allocated (that would have thrown a RangeError
    // or never returned, not this WireError).
    const e = wireErrorOf(() => parseTx(bytes))
    expect(e.code).toBe('OVERSIZE')
    expect(e.detail.field).toBe('tx inputs')
    expect(e.detail.limit).toBe(MAX_TX_INPUTS)
    expect(e.detail.offset).toBe(4)
  })

  it('a count under the limit but larger than the bytes present is TRUNCATED before allocation', () => {
    // 65,535 inputs of at least 41 bytes each, but one input present.
    const e = wireErrorOf(() => parseTx(hex(VERSION, 'fdffff', INPUT, '00', LOCKTIME)))
    expect(e.code).toBe('TRUNCATED')
    expect(e.detail.field).toBe('tx inputs')
    expect(e.detail.expected).toBe(65535 * 41)
  })

  it('hostile outputs, witness items and script lengths fail on their count', () => {
    const outs = wireErrorOf(() => parseTx(hex(VERSION, '01', INPUT, 'ff0000000001000000', LOCKTIME)))
    expect([outs.code, outs.detail.field]).toEqual(['OVERSIZE', 'tx outputs'])
    const items = wireErrorOf(() => parseTx(hex(VERSION, '0001', '01', INPUT, '01', OUTPUT, 'feffffffff', LOCKTIME)))
    expect([items.code, items.detail.field, items.detail.limit]).toEqual(['OVERSIZE', 'witness items', MAX_WITNESS_ITEMS])
    const script = wireErrorOf(() => parseTx(hex(VERSION, '01', '11'.repeat(32), '00000000', 'fd0010', 'ffffffff')))
    expect([script.code, script.detail.field]).toEqual(['TRUNCATED', 'scriptSig'])
    const huge = wireErrorOf(() => parseTx(hex(VERSION, '01', '11'.repeat(32), '00000000', 'ff0000000001000000', 'ffffffff')))
    expect([huge.code, huge.detail.field, huge.detail.limit]).toEqual(['OVERSIZE', 'scriptSig', MAX_SCRIPT_SIZE])
  })

  it('a CompactSize not in shortest form is NON_CANONICAL', () => {
    const e = wireErrorOf(() => parseTx(hex(VERSION, 'fd0100', INPUT, '01', OUTPUT, LOCKTIME)))
    expect(e.code).toBe('NON_CANONICAL')
    expect(e.detail.offset).toBe(4)
  })

  it('limits derive from the payload size and from the minimal input and output sizes', () => {
    expect(MAX_TX_INPUTS).toBe(Math.floor(4_000_000 / 41))
    expect(MAX_TX_OUTPUTS).toBe(Math.floor(4_000_000 / 9))
    expect(DEFAULT_TX_LIMITS).toEqual(txLimits(4_000_000))
    // A tighter context rejects what the default accepts.
    const many = hex(VERSION, '03', INPUT, INPUT, INPUT, '01', OUTPUT, LOCKTIME)
    expect(parseTx(many).inputs).toHaveLength(3)
    expect(wireErrorOf(() => parseTx(many, txLimits(100))).detail.field).toBe('tx inputs')
  })
})

// --- properties ---

const bytesArb = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max })
const inputArb = (withWitness: boolean) =>
  fc.record({
    prevout: fc.record({ txid: fc.uint8Array({ minLength: 32, maxLength: 32 }), index: fc.nat({ max: 0xffffffff }) }),
    scriptSig: bytesArb(300),
    sequence: fc.nat({ max: 0xffffffff }),
    witness: withWitness ? fc.array(bytesArb(80), { maxLength: 4 }) : fc.constant([] as Uint8Array[]),
  })
const outputArb = fc.record({
  value: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  scriptPubKey: bytesArb(300),
})
const txArb = (withWitness: boolean): fc.Arbitrary<Transaction> =>
  fc.record({
    version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    // A transaction without inputs cannot be told from a segwit marker; Core's readers share that limit.
    inputs: fc.array(inputArb(withWitness), { minLength: 1, maxLength: 5 }),
    outputs: fc.array(outputArb, { maxLength: 5 }),
    locktime: fc.nat({ max: 0xffffffff }),
  })

const stripWitness = (tx: Transaction): Transaction => ({ ...tx, inputs: tx.inputs.map((i) => ({ ...i, witness: [] })) })
const hasAnyWitness = (tx: Transaction) => tx.inputs.some((i) => i.witness.length > 0)

describe('tx codec: round trips (fast-check)', () => {
  it('without witness: decode(encode(tx)) = tx and encode(decode(b)) = b', () => {
    fc.assert(
      fc.property(txArb(false), (tx) => {
        const bytes = serializeTx(tx)
        const back = parseTx(bytes)
        expect(back).toEqual(tx)
        expect(toHex(serializeTx(back))).toBe(toHex(bytes))
      }),
      { numRuns: 300 },
    )
  })

  it('with witness: BIP144 form when any stack is non-empty; the legacy form drops witnesses', () => {
    fc.assert(
      fc.property(txArb(true), (tx) => {
        const bytes = serializeTx(tx)
        const segwit = hasAnyWitness(tx)
        expect(bytes[4] === 0 && bytes[5] === 1).toBe(segwit)
        expect(parseTx(bytes)).toEqual(segwit ? tx : stripWitness(tx))
        const legacy = serializeTx(tx, { witness: false })
        expect(parseTx(legacy)).toEqual(stripWitness(tx))
        // encodeTx into a shared writer gives the same bytes as serializeTx.
        const w = new ByteWriter(1)
        encodeTx(w, tx)
        expect(toHex(w.finish())).toBe(toHex(bytes))
        // decodeTx reads exactly one transaction from a longer buffer.
        const r = new ByteReader(hex(toHex(bytes), toHex(bytes)))
        decodeTx(r)
        expect(r.offset).toBe(bytes.length)
      }),
      { numRuns: 300 },
    )
  })

  it('encoding rejects values outside their fields with ENCODE_RANGE', () => {
    const base: Transaction = parseTx(LEGACY_FORM)
    expect(wireErrorOf(() => serializeTx({ ...base, version: 2 ** 31 })).code).toBe('ENCODE_RANGE')
    expect(wireErrorOf(() => serializeTx({ ...base, locktime: -1 })).code).toBe('ENCODE_RANGE')
    expect(wireErrorOf(() => serializeTx({ ...base, outputs: [{ value: 1n << 63n, scriptPubKey: new Uint8Array() }] })).code).toBe('ENCODE_RANGE')
    const badTxid = { ...base.inputs[0]!, prevout: { txid: new Uint8Array(31), index: 0 } }
    expect(wireErrorOf(() => serializeTx({ ...base, inputs: [badTxid] })).code).toBe('ENCODE_RANGE')
  })
})
