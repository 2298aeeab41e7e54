/**
 * Output scripts (scriptPubKeys) that have an address: recognise them and
 * build them. The templates are Core's (script/solver.cpp):
 *
 *   P2PKH   OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG   76 a9 14 {20} 88 ac
 *   P2SH    OP_HASH160 <20> OP_EQUAL                           a9 14 {20} 87
 *   segwit  <version opcode> <2..40-byte program>               (BIP141)
 *     v0 20 bytes P2WPKH, v0 32 bytes P2WSH, v1 32 bytes P2TR (BIP341),
 *     any other v1..v16 program: a future version (still an address, BIP350);
 *     a v0 program of another length is not standard and has no address.
 */

/** Witness version opcodes: OP_0 for 0, OP_1..OP_16 (0x51..0x60) for 1..16. */
const OP_0 = 0x00
const OP_1 = 0x51
const OP_16 = 0x60
const OP_DUP = 0x76
const OP_HASH160 = 0xa9
const OP_EQUAL = 0x87
const OP_EQUALVERIFY = 0x88
const OP_CHECKSIG = 0xac

/** HASH160 (RIPEMD160 of SHA256) output: the hash in P2PKH and P2SH. */
const HASH160_BYTES = 20
/** Length of a P2PKH script: 3 opcodes + push byte + 20-byte hash + 2 opcodes. */
const P2PKH_SCRIPT_BYTES = 25
/** Length of a P2SH script: opcode + push byte + 20-byte hash + opcode. */
const P2SH_SCRIPT_BYTES = 23

/** Highest witness version an output can carry (OP_16). */
export const MAX_WITNESS_VERSION = 16
/** Shortest witness program (BIP141). */
export const MIN_WITNESS_PROGRAM_BYTES = 2
/** Longest witness program (BIP141). */
export const MAX_WITNESS_PROGRAM_BYTES = 40
/** Version 0 program lengths: P2WPKH's 20-byte key hash, P2WSH's 32-byte script hash. */
const P2WPKH_PROGRAM_BYTES = 20
const P2WSH_PROGRAM_BYTES = 32
/** P2TR's program: a 32-byte x-only output key (BIP341). */
const P2TR_PROGRAM_BYTES = 32

/**
 * The kind of an output script. Every kind but 'nonstandard' has an
 * address; 'witness_unknown' is a segwit program of a version (or, for v1,
 * a length) with no meaning yet, which BIP350 still gives an address.
 */
export type ScriptType = 'p2pkh' | 'p2sh' | 'p2wpkh' | 'p2wsh' | 'p2tr' | 'witness_unknown' | 'nonstandard'

/** The kinds of script an address can stand for: every ScriptType but 'nonstandard'. */
export type AddressType = Exclude<ScriptType, 'nonstandard'>

/** A witness program taken out of a script (internal). */
export interface WitnessProgram {
  readonly version: number
  readonly program: Uint8Array
}

/**
 * The witness version and program of a segwit output script, or undefined
 * when `script` is not `<OP_0|OP_1..OP_16> <push of 2..40 bytes>` and
 * nothing else (Core's CScript::IsWitnessProgram).
 */
export function witnessProgramOf(script: Uint8Array): WitnessProgram | undefined {
  const n = script.length
  if (n < 2 + MIN_WITNESS_PROGRAM_BYTES || n > 2 + MAX_WITNESS_PROGRAM_BYTES) return undefined
  const op = script[0]!
  if (op !== OP_0 && (op < OP_1 || op > OP_16)) return undefined
  // The second byte is a direct push of exactly the rest of the script.
  if (script[1] !== n - 2) return undefined
  return { version: op === OP_0 ? 0 : op - OP_1 + 1, program: script.subarray(2) }
}

/** The 20-byte hash of a P2PKH script, or undefined. */
export function p2pkhHashOf(script: Uint8Array): Uint8Array | undefined {
  if (
    script.length === P2PKH_SCRIPT_BYTES &&
    script[0] === OP_DUP &&
    script[1] === OP_HASH160 &&
    script[2] === HASH160_BYTES &&
    script[23] === OP_EQUALVERIFY &&
    script[24] === OP_CHECKSIG
  ) {
    return script.subarray(3, 23)
  }
  return undefined
}

/** The 20-byte hash of a P2SH script, or undefined. */
export function p2shHashOf(script: Uint8Array): Uint8Array | undefined {
  if (script.length === P2SH_SCRIPT_BYTES && script[0] === OP_HASH160 && script[1] === HASH160_BYTES && script[22] === OP_EQUAL) {
    return script.subarray(2, 22)
  }
  return undefined
}

/** The kind of a witness program: which segwit type, or 'nonstandard' for a v0 program of another length. */
export function witnessType(version: number, programLength: number): ScriptType {
  if (version === 0) {
    if (programLength === P2WPKH_PROGRAM_BYTES) return 'p2wpkh'
    if (programLength === P2WSH_PROGRAM_BYTES) return 'p2wsh'
    return 'nonstandard'
  }
  if (version === 1 && programLength === P2TR_PROGRAM_BYTES) return 'p2tr'
  return 'witness_unknown'
}

/**
 * The kind of an output script: P2PKH, P2SH, P2WPKH, P2WSH, P2TR, another
 * witness program ('witness_unknown'), or 'nonstandard' for everything
 * else (bare keys, bare multisig, OP_RETURN data and other scripts without
 * an address). The script is read, never changed; any byte array is valid
 * input.
 *
 * @example
 * ```ts
 * scriptType(fromHex('0014751e76e8199196d454941c45d1b3a323f1433bd6')) // 'p2wpkh' (fromHex from @bitp2p/wire)
 * ```
 */
export function scriptType(script: Uint8Array): ScriptType {
  if (p2pkhHashOf(script) !== undefined) return 'p2pkh'
  if (p2shHashOf(script) !== undefined) return 'p2sh'
  const w = witnessProgramOf(script)
  if (w !== undefined) return witnessType(w.version, w.program.length)
  return 'nonstandard'
}

/** OP_DUP OP_HASH160 <hash> OP_EQUALVERIFY OP_CHECKSIG; `hash` is 20 bytes (checked by the caller). */
export function p2pkhScript(hash: Uint8Array): Uint8Array<ArrayBuffer> {
  const s = new Uint8Array(P2PKH_SCRIPT_BYTES)
  s.set([OP_DUP, OP_HASH160, HASH160_BYTES])
  s.set(hash, 3)
  s.set([OP_EQUALVERIFY, OP_CHECKSIG], 23)
  return s
}

/** OP_HASH160 <hash> OP_EQUAL; `hash` is 20 bytes (checked by the caller). */
export function p2shScript(hash: Uint8Array): Uint8Array<ArrayBuffer> {
  const s = new Uint8Array(P2SH_SCRIPT_BYTES)
  s.set([OP_HASH160, HASH160_BYTES])
  s.set(hash, 2)
  s[22] = OP_EQUAL
  return s
}

/** <version opcode> <push program>; version 0..16 and a 2..40-byte program (checked by the caller). */
export function witnessScript(version: number, program: Uint8Array): Uint8Array<ArrayBuffer> {
  const s = new Uint8Array(2 + program.length)
  s[0] = version === 0 ? OP_0 : OP_1 + version - 1
  s[1] = program.length
  s.set(program, 2)
  return s
}
