/**
 * BIP34: the block height at the start of the coinbase scriptSig.
 *
 * Core requires the scriptSig to begin with exactly `CScript() << height`:
 * OP_0 for 0, OP_1..OP_16 for 1..16, otherwise one direct push of the
 * minimal little-endian script number (sign bit in the top byte). Any other
 * opening (OP_PUSHDATA1, a zero-padded number, a negative number) is not
 * what Core would compare equal, so it is reported as INVALID_VALUE; a push
 * running past the end of the script is TRUNCATED.
 */
import { WireError } from '../errors.js'
import type { Transaction } from '../tx/types.js'

/** Mainnet height from which BIP34 is enforced. */
export const BIP34_MAINNET_HEIGHT = 227_931
/**
 * Longest height push accepted: 5 bytes hold every u32 height (a positive
 * number with its top bit set needs an extra 0x00 byte for the sign).
 */
export const MAX_BIP34_PUSH_BYTES = 5

const OP_0 = 0x00
const OP_1 = 0x51
const OP_16 = 0x60

/** The BIP34 height in a coinbase transaction's scriptSig. Throws WireError as described above. */
export function coinbaseHeight(coinbase: Transaction): number {
  const input = coinbase.inputs[0]
  if (input === undefined) {
    throw new WireError('INVALID_VALUE', 'BIP34: coinbase has no input', { field: 'coinbase input' })
  }
  return heightFromScriptSig(input.scriptSig)
}

/** The BIP34 height at the start of a coinbase scriptSig. */
export function heightFromScriptSig(script: Uint8Array): number {
  if (script.length === 0) {
    throw new WireError('TRUNCATED', 'BIP34: empty coinbase scriptSig', { field: 'BIP34 height', offset: 0, expected: 1, actual: 0 })
  }
  const op = script[0]!
  if (op === OP_0) return 0
  if (op >= OP_1 && op <= OP_16) return op - OP_1 + 1
  if (op > MAX_BIP34_PUSH_BYTES) {
    throw new WireError('INVALID_VALUE', `BIP34: scriptSig starts with opcode 0x${op.toString(16)}, not a height push`, {
      field: 'BIP34 height',
      offset: 0,
      actual: op,
    })
  }
  if (script.length < 1 + op) {
    throw new WireError('TRUNCATED', `BIP34: height push of ${op} bytes runs past the ${script.length}-byte scriptSig`, {
      field: 'BIP34 height',
      offset: 1,
      expected: op,
      actual: script.length - 1,
    })
  }
  const top = script[op]!
  if (top & 0x80) {
    throw new WireError('INVALID_VALUE', 'BIP34: negative height', { field: 'BIP34 height', offset: op })
  }
  // Minimal encoding: the top byte may be 0 only to keep the sign bit of the byte below clear.
  if (top === 0 && (op === 1 || (script[op - 1]! & 0x80) === 0)) {
    throw new WireError('INVALID_VALUE', 'BIP34: height not minimally encoded', { field: 'BIP34 height', offset: op })
  }
  let height = 0
  for (let i = op; i >= 1; i--) height = height * 256 + script[i]!
  // 1..16 have their own opcodes; a push of them is not Core's serialization.
  if (height <= 16) {
    throw new WireError('INVALID_VALUE', `BIP34: height ${height} must use its small-number opcode`, {
      field: 'BIP34 height',
      offset: 0,
      actual: height,
    })
  }
  return height
}
