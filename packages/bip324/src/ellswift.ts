/**
 * ElligatorSwift keys and BIP324's x-only ECDH.
 *
 * The curve work comes from libraries: secp256k1 from @noble/curves, and the
 * XSwiftEC map, its inverse and the ECDH from @scure/btc-signer's p2p module
 * (pinned to an exact version; tested against all 76 decoding vectors and all
 * 256 inverse cases of BIP324). What this module adds is the one thing that
 * module does not allow: drawing the secret key and the encoding's random
 * field element from an injected `Random`, so a seeded simulation produces the
 * same keys every run. The sampling loop is BIP324's XElligatorSwift:
 *
 *   loop: u = random field element in 1..p-1, case = random in 0..7,
 *         t = XSwiftECInv(x, u, case); if t exists return (u, t)
 *
 * Every 64-byte string decodes to a curve point (that is the point of
 * ElligatorSwift), so a peer cannot send an invalid key: a key that is not
 * what the peer should have sent shows up later as a missing garbage
 * terminator or a bad packet tag.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToNumberBE } from '@noble/curves/utils.js'
import { elligatorSwift } from '@scure/btc-signer/p2p.js'
import { ELLSWIFT_BYTES, SECRET_KEY_BYTES } from './constants.js'
import { V2Error } from './errors.js'
import { randomBytes, type Random } from './random.js'

const Point = secp256k1.Point
const Fp = Point.Fp
const FIELD_BYTES = 32

/** An ephemeral key pair: the secret scalar and the 64-byte ElligatorSwift encoding of its public key. */
export interface EllSwiftKeyPair {
  /** 32-byte big-endian secret key in 1..n-1. */
  readonly secretKey: Uint8Array
  /** 64-byte encoding u || t of the public key's x coordinate, indistinguishable from random bytes. */
  readonly ellswift: Uint8Array
}

/** A secret key in 1..n-1 drawn from `random` (rejection sampling: no bias). */
export function randomSecretKey(random: Random): Uint8Array {
  for (;;) {
    const k = randomBytes(random, SECRET_KEY_BYTES)
    if (secp256k1.utils.isValidSecretKey(k)) return k
  }
}

/**
 * XSwiftECInv(x, u, case) of BIP324: the t with XSwiftEC(u, t) = x for this
 * case (0..7), or undefined when the case has none. Inputs and output are
 * 32-byte big-endian field elements.
 */
export function xswiftecInv(x: Uint8Array, u: Uint8Array, ellCase: number): Uint8Array | undefined {
  const t = elligatorSwift._inv(Fp.create(bytesToNumberBE(x)), Fp.create(bytesToNumberBE(u)), ellCase)
  return t === undefined ? undefined : Fp.toBytes(t)
}

/**
 * XElligatorSwift(x): a uniformly sampled 64-byte encoding of the x
 * coordinate `x` (32 bytes, big-endian, on the curve), with u and the case
 * drawn from `random`.
 * @throws V2Error BAD_KEY when x is not the x coordinate of a curve point.
 */
export function ellswiftEncode(x: Uint8Array, random: Random): Uint8Array {
  const xn = bytesToNumberBE(x)
  if (x.length !== FIELD_BYTES || xn >= Fp.ORDER || !isCurveX(xn)) {
    throw new V2Error('BAD_KEY', 'ellswiftEncode: not the x coordinate of a secp256k1 point')
  }
  for (;;) {
    // u uniform in 1..p-1: draw 256 bits, reject 0 and values >= p.
    const uBytes = randomBytes(random, FIELD_BYTES)
    const u = bytesToNumberBE(uBytes)
    const ellCase = random.int(8)
    if (u === 0n || u >= Fp.ORDER) continue
    const t = elligatorSwift._inv(xn, u, ellCase)
    // t = 0 would decode as t = 1 (BIP324's remap), to another x: skip it (probability 2^-256).
    if (t === undefined || t === 0n) continue
    const out = new Uint8Array(ELLSWIFT_BYTES)
    out.set(uBytes, 0)
    out.set(Fp.toBytes(t), FIELD_BYTES)
    return out
  }
}

/** The x coordinate (32 bytes, big-endian) that a 64-byte ElligatorSwift encoding stands for. Any 64 bytes decode. */
export function ellswiftDecode(encoding: Uint8Array): Uint8Array {
  if (encoding.length !== ELLSWIFT_BYTES) throw new V2Error('RANGE', `ElligatorSwift encoding must be 64 bytes, got ${encoding.length}`)
  return wrapCurve(() => elligatorSwift.decode(encoding))
}

/** The x coordinate (32 bytes, big-endian) of secretKey·G. */
export function publicX(secretKey: Uint8Array): Uint8Array {
  checkSecretKey(secretKey)
  return wrapCurve(() => Fp.toBytes(Point.BASE.multiply(bytesToNumberBE(secretKey)).x))
}

/** BIP324's ellswift_create: a random secret key and a random encoding of its public key, both from `random`. */
export function createEllSwiftKeyPair(random: Random): EllSwiftKeyPair {
  const secretKey = randomSecretKey(random)
  return { secretKey, ellswift: ellswiftEncode(publicX(secretKey), random) }
}

/**
 * The x coordinate of secretKey·P where P is the point `ellswiftTheirs`
 * encodes (BIP324's ellswift_ecdh_xonly), 32 bytes.
 */
export function ellswiftEcdhX(secretKey: Uint8Array, ellswiftTheirs: Uint8Array): Uint8Array {
  checkSecretKey(secretKey)
  if (ellswiftTheirs.length !== ELLSWIFT_BYTES) throw new V2Error('RANGE', 'their ElligatorSwift key must be 64 bytes')
  return wrapCurve(() => elligatorSwift.getSharedSecret(secretKey, ellswiftTheirs))
}

/**
 * BIP324's v2_ecdh: the 32-byte shared secret, the tagged hash
 * "bip324_ellswift_xonly_ecdh" of the initiator's encoding, the responder's
 * encoding (the exact 64 bytes sent) and the x-only ECDH result.
 */
export function v2Ecdh(secretKey: Uint8Array, ellswiftTheirs: Uint8Array, ellswiftOurs: Uint8Array, initiating: boolean): Uint8Array {
  checkSecretKey(secretKey)
  if (ellswiftTheirs.length !== ELLSWIFT_BYTES || ellswiftOurs.length !== ELLSWIFT_BYTES) {
    throw new V2Error('RANGE', 'ElligatorSwift keys must be 64 bytes')
  }
  return wrapCurve(() => elligatorSwift.getSharedSecretBip324(secretKey, ellswiftTheirs, ellswiftOurs, initiating))
}

/**
 * Checks a caller-supplied key pair: a valid secret key whose public x is
 * what `ellswift` decodes to.
 * @throws V2Error BAD_KEY otherwise.
 */
export function checkKeyPair(pair: EllSwiftKeyPair): void {
  const x = publicX(pair.secretKey)
  const decoded = ellswiftDecode(pair.ellswift)
  for (let i = 0; i < FIELD_BYTES; i++) {
    if (x[i] !== decoded[i]) throw new V2Error('BAD_KEY', 'the ElligatorSwift encoding is not of this secret key')
  }
}

function checkSecretKey(secretKey: Uint8Array): void {
  if (secretKey.length !== SECRET_KEY_BYTES || !secp256k1.utils.isValidSecretKey(secretKey)) {
    throw new V2Error('BAD_KEY', 'secret key must be 32 bytes in 1..n-1')
  }
}

/** lift_x succeeds: x^3 + 7 is a square mod p. */
function isCurveX(x: bigint): boolean {
  try {
    Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 7n))
    return true
  } catch {
    return false
  }
}

/** The curve library's own exceptions (none expected: every input was checked) become BAD_KEY. */
function wrapCurve<T>(f: () => T): T {
  try {
    return f()
  } catch (e) {
    if (e instanceof V2Error) throw e
    throw new V2Error('BAD_KEY', `secp256k1: ${e instanceof Error ? e.message : String(e)}`)
  }
}
