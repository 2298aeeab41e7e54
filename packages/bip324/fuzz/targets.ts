/**
 * Fuzz targets for the BIP324 decoder and handshake, in the shape of the
 * wire fuzzer's FuzzTarget (packages/wire/fuzz), so its runner, watchdog,
 * allocation guard and reports apply unchanged. Dev-only code: it imports
 * the wire fuzzer's harness by path; wire does not depend on this package.
 * `npm run fuzz` in this package runs them (scripts/fuzz.mjs).
 *
 * A finding is: anything thrown (the decoder reports peer faults as events),
 * an error whose code is not one the peer can cause, a delivered payload
 * over its cap, and events that differ between one push and other
 * chunkings (1-byte chunks, random cuts with empty chunks).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { FuzzFinding, type FuzzTarget } from '../../wire/fuzz/targets.js'
import type { FuzzRng } from '../../wire/fuzz/rng.js'
import { mutate } from '../../wire/fuzz/mutate.js'
import { deriveV2Keys } from '../src/keys.js'
import { V2Session, type V2SessionEvent } from '../src/session.js'
import { V2Handshake, type V2HandshakeEvent } from '../src/handshake.js'
import type { Random } from '../src/random.js'
import { concatBytes } from '@bitp2p/wire'

/** Fixed keys: an input is a byte stream and must replay alone. */
const KEYS = deriveV2Keys(sha256(new TextEncoder().encode('bitp2p fuzz bip324')), new Uint8Array([0xfa, 0xbf, 0xb5, 0xda]))
const LIMITS = { maxPayload: 4096, commandLimit: (c: string) => (c === 'ping' || c === 'pong' ? 8 : c === 'inv' ? 1000 : undefined), unknownCommandLimit: 2000 }
const COMMANDS = ['ping', 'pong', 'inv', 'tx', 'headers', 'version', 'verack', 'mystery', 'addrv2']
const REMOTE = new Set(['OVERSIZE', 'BAD_TAG', 'NO_TERMINATOR', 'V1_WRONG_NETWORK', 'TRUNCATED'])

/** A Random for the handshake machines, driven by the fuzz generator. */
function randomFrom(rng: FuzzRng): Random {
  return {
    u32: () => rng.u32(),
    int: (n) => rng.below(n),
    u64: () => (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()),
    float: () => rng.u32() / 2 ** 32,
  }
}

function chunkings(input: Uint8Array, rng: FuzzRng): Uint8Array[][] {
  const cuts: Uint8Array[] = []
  for (let i = 0; i < input.length; ) {
    if (rng.chance(0.1)) cuts.push(input.subarray(i, i))
    const n = 1 + rng.below(64)
    cuts.push(input.subarray(i, i + n))
    i += n
  }
  const out = [cuts]
  if (input.length <= 4096) out.push(Array.from(input, (_, i) => input.subarray(i, i + 1)))
  return out
}

type AnyEvent = V2SessionEvent | V2HandshakeEvent

/** Events as comparable strings; throws a finding for a non-remote error or a payload over its cap. */
function summarise(events: readonly AnyEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'error') {
      if (!REMOTE.has(e.error.code)) throw new FuzzFinding('bad-error', `error code ${e.error.code} from peer bytes: ${e.error.message}`, { cause: e.error })
      return `error:${e.error.code}:${JSON.stringify(e.error.detail)}`
    }
    if (e.type === 'frame') {
      const cap = LIMITS.commandLimit(e.command) ?? LIMITS.unknownCommandLimit
      if (e.payload.length > Math.min(cap, LIMITS.maxPayload)) throw new FuzzFinding('cap', `${e.command}: ${e.payload.length} bytes delivered over its cap ${cap}`)
      return `frame:${e.command}:${e.payload.length}:${e.payload.reduce((h, b) => (h * 31 + b) >>> 0, 7)}`
    }
    if (e.type === 'ready') return `ready:${e.sessionId.join('.')}`
    if (e.type === 'v1') return `v1:${e.bytes.length}:${e.bytes.reduce((h, b) => (h * 31 + b) >>> 0, 7)}`
    if (e.type === 'version') return `version:${e.contents.length}`
    return JSON.stringify(e)
  })
}

function sameUnderChunkings(input: Uint8Array, rng: FuzzRng, run: (chunks: readonly Uint8Array[]) => AnyEvent[]): boolean {
  const base = summarise(run([input]))
  for (const chunks of chunkings(input, rng)) {
    const other = summarise(run(chunks))
    if (other.join('\n') !== base.join('\n')) {
      throw new FuzzFinding('chunking', `events differ with ${chunks.length} chunks:\n  one push: ${base.join(' | ')}\n  chunked:  ${other.join(' | ')}`)
    }
  }
  return !base.some((s) => s.startsWith('error:'))
}

/**
 * Pushes chunks until an error (a caller disconnects then), then end(). A
 * 'v1' event hands back the bytes received so far; the chunks not pushed
 * yet are the caller's, so they are appended to compare whole streams.
 */
function drive(push: (c: Uint8Array) => AnyEvent[], end: () => AnyEvent[], chunks: readonly Uint8Array[]): AnyEvent[] {
  const out: AnyEvent[] = []
  for (let k = 0; k < chunks.length; k++) {
    const ev = push(chunks[k]!)
    for (const e of ev) out.push(e.type === 'v1' ? { type: 'v1', bytes: concatBytes(e.bytes, ...chunks.slice(k + 1)) } : e)
    if (ev.some((e) => e.type === 'error' || e.type === 'v1')) return out
  }
  out.push(...end())
  return out
}

/** The packet decoder: streams of valid packets (messages, decoys, raw contents) from the fixed keys, mutated 60 % of the time. */
export function packetsTarget(): FuzzTarget {
  return {
    name: 'bip324:packets',
    weight: 2,
    generate(rng) {
      const tx = V2Session.fromKeys({ keys: KEYS, role: 'initiator', ...LIMITS })
      const parts: Uint8Array[] = []
      for (let n = 1 + rng.below(6); n > 0; n--) {
        const k = rng.below(10)
        if (k < 6) parts.push(tx.encrypt(rng.pick(COMMANDS), rng.bytes(rng.size(3000))))
        else if (k < 8) parts.push(tx.decoy(rng.size(500)))
        else parts.push(tx.sender.encryptContents(rng.bytes(rng.size(40))))
      }
      const stream = concatBytes(...parts)
      return rng.chance(0.6) ? mutate(rng, stream, { maxLength: 20_000 }) : stream
    },
    run(input, rng) {
      return sameUnderChunkings(input, rng, (chunks) => {
        const rx = V2Session.fromKeys({ keys: KEYS, role: 'responder', ...LIMITS })
        return drive((c) => rx.push(c), () => rx.end(), chunks)
      })
    },
  }
}

/**
 * The responder handshake: what an initiator would send (its key, garbage,
 * terminator, decoys, version packet, messages), mutated 70 % of the time,
 * or a v1 prefix, or random bytes. The responder's own randomness comes from
 * the first 4 input bytes, so an input replays alone.
 */
export function handshakeTarget(): FuzzTarget {
  return {
    name: 'bip324:handshake',
    weight: 1,
    generate(rng) {
      const seed = rng.bytes(4)
      const k = rng.below(10)
      let stream: Uint8Array
      if (k < 7) {
        const i = new V2Handshake({ role: 'initiator', magic: MAGIC, random: randomFrom(rng), maxPayload: 4096, garbageLen: rng.size(4095), decoys: rng.chance(0.3) ? [rng.size(100)] : [] })
        const r = responder(seed)
        const first = i.start()
        const reply = r.push(first)
        const step = i.push(concatBytes(...reply.send))
        const session = i.session
        const tail = session ? [session.encrypt(rng.pick(COMMANDS), rng.bytes(rng.size(100)))] : []
        stream = concatBytes(first, ...step.send, ...tail)
      } else if (k < 8) {
        stream = concatBytes(MAGIC, new TextEncoder().encode('version\0\0\0\0\0'), rng.bytes(rng.size(100)))
      } else {
        stream = rng.bytes(rng.size(5000))
      }
      const body = rng.chance(0.7) ? mutate(rng, stream, { maxLength: 10_000 }) : stream
      return concatBytes(seed, body)
    },
    run(input, rng) {
      if (input.length < 4) return true
      const seed = input.subarray(0, 4)
      return sameUnderChunkings(input.subarray(4), rng, (chunks) => {
        const r = responder(seed)
        return drive((c) => r.push(c).events, () => r.end().events, chunks)
      })
    },
  }
}

const MAGIC = new Uint8Array([0xfa, 0xbf, 0xb5, 0xda])

function responder(seed: Uint8Array): V2Handshake {
  let s = (seed[0]! | (seed[1]! << 8) | (seed[2]! << 16) | (seed[3]! << 24)) >>> 0
  const u32 = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
    return (z ^ (z >>> 15)) >>> 0
  }
  const random: Random = { u32, int: (n) => Math.floor((u32() / 2 ** 32) * n), u64: () => (BigInt(u32()) << 32n) | BigInt(u32()), float: () => u32() / 2 ** 32 }
  const hs = new V2Handshake({ role: 'responder', magic: MAGIC, random, ...LIMITS })
  hs.start()
  return hs
}

/** The bip324 targets, for the wire fuzzer's runner. */
export function bip324Targets(): FuzzTarget[] {
  return [packetsTarget(), handshakeTarget()]
}
