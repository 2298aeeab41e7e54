/**
 * BIP34: the block height at the start of the coinbase scriptSig.
 *
 * Only blocks of version 2 or more carry it: BIP34 bound version-2 blocks
 * to start their coinbase with the height, and once it activated Core
 * rejects blocks of a lower version ("bad-version"). Before that, a coinbase
 * may start with anything that looks like a push (mainnet block 1 pushes its
 * `bits`, testnet3 block 1 its time), so `coinbaseHeight` reports no height
 * for a block below version 2, and, given the network, for a claimed height
 * below its BIP34 activation height, where consensus did not yet bind the
 * value.
 *
 * Core requires the scriptSig to begin with exactly `CScript() << height`:
 * OP_0 for 0, OP_1..OP_16 for 1..16, otherwise one direct push of the
 * minimal little-endian script number (sign bit in the top byte). Any other
 * opening (OP_PUSHDATA1, a zero-padded number, a negative number) is not
 * what Core would compare equal, so it is reported as INVALID_VALUE; a push
 * running past the end of the script is TRUNCATED.
 */
import { WireError } from '../errors.js'
import type { Block } from './block.js'

/** Mainnet height from which BIP34 is enforced. */
export const BIP34_MAINNET_HEIGHT = 227_931
/** The lowest block version that carries a BIP34 height. */
export const BIP34_MIN_BLOCK_VERSION = 2
/**
 * Longest height push accepted: 5 bytes hold every u32 height (a positive
 * number with its top bit set needs an extra 0x00 byte for the sign).
 */
export const MAX_BIP34_PUSH_BYTES = 5

const OP_0 = 0x00
const OP_1 = 0x51
const OP_16 = 0x60

/** What `coinbaseHeight` needs to know of a network (NetworkParams has it). */
export interface Bip34Network {
  /** Height from which every block carries its height (NetworkParams.bip34Height). */
  readonly bip34Height: number
}

/**
 * The BIP34 height of a block, read from its coinbase; undefined when the
 * block carries none: a version below BIP34_MIN_BLOCK_VERSION, or, when
 * `network` is given, a claimed height below `network.bip34Height`.
 * A block of version 2 or more whose coinbase does not open with a height
 * push throws WireError (INVALID_VALUE or TRUNCATED, see the module doc), as
 * does a block without a coinbase input (INVALID_VALUE).
 */
export function coinbaseHeight(block: Block, network?: Bip34Network): number | undefined {
  const input = block.txs[0]?.inputs[0]
  if (input === undefined) {
    throw new WireError('INVALID_VALUE', 'BIP34: block has no coinbase input', { field: 'coinbase input' })
  }
  if (block.header.version < BIP34_MIN_BLOCK_VERSION) return undefined
  const height = heightFromScriptSig(input.scriptSig)
  if (network !== undefined && height < network.bip34Height) return undefined
  return height
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
