/**
 * Fuzz targets: what the fuzzer runs and what counts as a finding.
 *
 * A target makes inputs from its seeds (`generate`, mutation and splicing
 * driven by a seeded FuzzRng) and runs one (`run`). Running must end in one
 * of two ways: the code under test accepted the input, or refused it with a
 * WireError carrying a known code. Anything else is a finding, thrown as a
 * FuzzFinding: another exception, a decoded message that does not re-encode
 * to the same bytes, a result that depends on how the bytes were chunked,
 * two parsers of the same bytes disagreeing. Hangs and runaway memory are
 * caught by the runner (run.ts, cli.ts).
 *
 * To add a target (the BIP324 v2 packet decoder, say), write a function
 * returning a FuzzTarget and add it to `buildTargets`; the runner, the
 * report and `--target` pick it up by name.
 */
import {
  blockTxids,
  encodeMessage,
  type KnownMessage,
  MessageDecoder,
  type MessageEvent,
  type NetworkParams,
  parseBlock,
  regtest,
  bsv,
  verifyBlock,
  toHex,
  bytesEqual,
  WireError,
  type WireErrorCode,
  networkByMagic,
} from '../src/index.js'
import {
  BlockStreamParser,
  CODECS,
  type Codec,
  type CodecContext,
  encodeExtHeader,
  encodeFrame,
  ByteReader,
  ByteWriter,
  FrameDecoder,
  maxPayloadFor,
  type FrameDecoderEvent,
} from '../src/codecs.js'
import { blockWtxids } from '../src/consensus.js'
import { merkleRoot } from '../src/hash.js'
import { messageSamples, type Sample, syntheticBlocks } from './corpus.js'
import { concatBytes } from '../src/bytes/hex.js'
import { mutate } from './mutate.js'
import type { FuzzRng } from './rng.js'

/** One thing to fuzz. */
export interface FuzzTarget {
  /** Unique name, e.g. 'codec:version'; `--target` matches it or a prefix ending in ':'. */
  readonly name: string
  /** Share of the run time, relative to the other targets (1 = a codec's share). */
  readonly weight: number
  /** A new input, from the seeds; deterministic for the generator's state. */
  generate(rng: FuzzRng): Uint8Array
  /**
   * Run one input (the generator continues from `generate`, e.g. to pick
   * chunk boundaries). Returns whether the input was accepted (false: refused
   * with a WireError); throws FuzzFinding on anything else.
   */
  run(input: Uint8Array, rng: FuzzRng): boolean
}

/** What went wrong, by kind. */
export type FindingKind = 'exception' | 'bad-error' | 'round-trip' | 'cap' | 'chunking' | 'disagreement' | 'hang' | 'memory'

/** A finding: the target broke one of its rules on an input. */
export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding'
  readonly kind: FindingKind

  constructor(kind: FindingKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.kind = kind
  }
}

/** Every WireError code (checked against the type: a code added or removed there fails to compile here). */
const KNOWN_CODES: Readonly<Record<WireErrorCode, true>> = {
  TRUNCATED: true,
  OVERSIZE: true,
  BAD_MAGIC: true,
  BAD_COMMAND: true,
  BAD_CHECKSUM: true,
  NON_CANONICAL: true,
  TRAILING_BYTES: true,
  INVALID_VALUE: true,
  BAD_MERKLE_ROOT: true,
  BAD_WITNESS_COMMITMENT: true,
  ENCODE_RANGE: true,
  STATE: true,
}

/** `e` as a WireError with a known code, or a finding saying what it is instead. */
function expectWireError(e: unknown, where: string): WireError {
  if (e instanceof FuzzFinding) throw e
  if (!(e instanceof WireError)) {
    throw new FuzzFinding('exception', `${where} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e })
  }
  if (typeof e.code !== 'string' || !Object.hasOwn(KNOWN_CODES, e.code)) {
    throw new FuzzFinding('bad-error', `${where} threw a WireError with unknown code ${String(e.code)}`, { cause: e })
  }
  return e
}

/** A stable text form of any decoded value (bigints and byte arrays included), for comparing results. */
export function stableText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`
    if (x instanceof Uint8Array) return `0x${toHex(x)}`
    if (x instanceof Error) return { name: x.name, message: x.message, ...(x instanceof WireError ? { code: x.code, detail: x.detail } : {}) }
    return x
  })
}

/** The first event where two lists differ, both sides shown (cut short). */
function firstDifference(a: readonly unknown[], b: readonly unknown[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = stableText(a[i])
    const y = stableText(b[i])
    if (x !== y) return `event ${i}: ${(x ?? 'none').slice(0, 400)} vs ${(y ?? 'none').slice(0, 400)}`
  }
  return 'none'
}

/** Cut `input` into pieces: whole, single bytes, or random cuts (an empty piece now and then). */
function chunks(rng: FuzzRng, input: Uint8Array): Uint8Array[] {
  const n = input.length
  const mode = rng.below(4)
  if (mode === 0 || n === 0) return [input]
  if (mode === 1 && n <= 4096) return Array.from({ length: n }, (_, i) => input.subarray(i, i + 1))
  const out: Uint8Array[] = []
  let at = 0
  const cuts = rng.int(1, Math.min(64, n))
  while (at < n) {
    const len = rng.chance(0.05) ? 0 : Math.max(1, rng.below(Math.ceil((2 * n) / cuts)))
    out.push(input.subarray(at, Math.min(n, at + len)))
    at += len
  }
  return out
}

// ---------------------------------------------------------------------------
// One target per message codec

/** Contexts payloads are decoded under: ours, before BIP31 (ping changes form), and a larger block cap. */
const CONTEXTS: readonly CodecContext[] = [
  { protocolVersion: 70016, maxBlockPayload: 4_000_000 },
  { protocolVersion: 60000, maxBlockPayload: 4_000_000 },
  { protocolVersion: 70016, maxBlockPayload: 32_000_000 },
]

/**
 * Codec target: decode a payload; it decodes (no trailing bytes) or throws
 * a WireError. When it decodes, it must fit the codec's cap (else the frame
 * decoder would refuse a payload the codec accepts) and encoding the result
 * must give back the same bytes.
 */
export function codecTarget(codec: Codec<KnownMessage>, seeds: readonly Uint8Array[], all: readonly Uint8Array[]): FuzzTarget {
  const largest = Math.max(64, ...seeds.map((s) => s.length))
  const maxLength = 2 * largest + 1024
  return {
    name: `codec:${codec.command}`,
    weight: 1,
    generate(rng) {
      const r = rng.below(20)
      if (r === 0) return rng.bytes(rng.size(maxLength))
      // Now and then another command's payload: wrong-type input.
      if (r === 1) return mutate(rng, rng.pick(all), { maxLength, others: seeds })
      return mutate(rng, rng.pick(seeds), { maxLength, others: seeds.length > 1 && rng.chance(0.8) ? seeds : all })
    },
    run(input, rng) {
      const ctx = rng.pick(CONTEXTS)
      let msg: KnownMessage
      try {
        const r = new ByteReader(input)
        msg = codec.decode(r, ctx)
        r.done(codec.command)
      } catch (e) {
        expectWireError(e, `${codec.command} decode`)
        return false
      }
      const cap = codec.maxPayload(ctx)
      if (input.length > cap) {
        throw new FuzzFinding('cap', `${codec.command}: a ${input.length}-byte payload decodes, but the cap is ${cap}`)
      }
      let out: Uint8Array
      try {
        const w = new ByteWriter(input.length + 16)
        codec.encode(w, msg, ctx)
        out = w.finish()
      } catch (e) {
        throw new FuzzFinding('round-trip', `${codec.command}: the decoded message does not encode: ${String(e)}`, { cause: e })
      }
      if (!bytesEqual(out, input)) {
        throw new FuzzFinding('round-trip', `${codec.command} (protocol ${ctx.protocolVersion}): re-encodes to ${toHex(out)}`)
      }
      return true
    },
  }
}

// ---------------------------------------------------------------------------
// Frames: the push decoders

/** Frames target: streams of frames (valid, with mutated payloads, or damaged) for the regtest and BSV (extmsg) networks. */
export function framesTarget(samples: readonly Sample[]): FuzzTarget {
  const payloads = samples.map((s) => s.payload)
  return {
    name: 'frames',
    weight: 6,
    generate(rng) {
      const net: NetworkParams = rng.chance(0.85) ? regtest : bsv
      const frames: Uint8Array[] = []
      const count = rng.int(1, 3)
      for (let i = 0; i < count; i++) {
        const s = rng.pick(samples)
        const command = rng.chance(0.05) ? rng.pick(['foo', 'sendheaders2', 'a'.repeat(12)]) : s.command
        const payload = rng.chance(0.6) ? mutate(rng, s.payload, { maxLength: s.payload.length + 1024, others: payloads }) : s.payload
        if (net.supportsExtMsg && rng.chance(0.3)) frames.push(concatBytes(encodeExtHeader(net.magic, command, payload.length), payload))
        else frames.push(encodeFrame(net.magic, command, payload))
      }
      const stream = concatBytes(...frames)
      // Damage the framed bytes too now and then: header, checksum, length, magic.
      return rng.chance(0.35) ? mutate(rng, stream, { maxLength: stream.length + 64 }) : stream
    },
    run(input, rng) {
      const net = networkByMagic(input.subarray(0, 4)) ?? regtest
      const pv = rng.chance(0.2) ? 60000 : 70016
      const whole = decodeMessages(net, pv, [input])
      const pieces = chunks(rng, input)
      const chunked = decodeMessages(net, pv, pieces)
      if (stableText(whole) !== stableText(chunked)) {
        throw new FuzzFinding('chunking', `MessageDecoder (${net.name}): events differ between one push and ${pieces.length} chunks: ${firstDifference(whole, chunked)}`)
      }
      // Every message re-frames to its own bytes (v1 frames; an extmsg
      // header is chosen by the sender for payloads over 4 GB, see README).
      let offset = 0
      let accepted = false
      for (const ev of whole) {
        if (ev.type !== 'message' && ev.type !== 'invalid') continue
        const frame = input.subarray(offset, offset + ev.wireBytes)
        offset += ev.wireBytes
        if (ev.type === 'invalid') continue
        accepted = true
        const extended = net.supportsExtMsg && frame.length >= 16 && toHex(frame.subarray(4, 10)) === '6578746d7367'
        if (extended) continue
        let out: Uint8Array
        try {
          out = encodeMessage(ev.message, net, pv)
        } catch (e) {
          throw new FuzzFinding('round-trip', `${ev.message.command}: the decoded message does not encode: ${String(e)}`, { cause: e })
        }
        if (!bytesEqual(out, frame)) throw new FuzzFinding('round-trip', `${ev.message.command}: re-framed as ${toHex(out)}`)
      }
      // The frame layer alone, streaming 'block' payloads: same frames, same error, any chunking.
      const streamedWhole = frameEvents(net, pv, [input])
      const streamedChunked = frameEvents(net, pv, chunks(rng, input))
      if (streamedWhole !== streamedChunked) throw new FuzzFinding('chunking', `FrameDecoder (${net.name}, streaming blocks): events differ with chunking`)
      return accepted
    },
  }
}

/**
 * Every event of a MessageDecoder fed `pieces`, up to its fatal error; a
 * throw from push() is a finding (it promises never to throw), and so is a
 * later push that does not repeat that error alone.
 */
function decodeMessages(net: NetworkParams, pv: number, pieces: readonly Uint8Array[]): MessageEvent[] {
  const d = new MessageDecoder({ network: net, protocolVersion: pv })
  const out: MessageEvent[] = []
  let fatal: string | undefined
  for (const p of pieces) {
    let evs: MessageEvent[]
    try {
      evs = d.push(p)
    } catch (e) {
      throw new FuzzFinding('exception', `MessageDecoder.push threw ${String(e)}`, { cause: e })
    }
    if (fatal !== undefined) {
      if (evs.length !== 1 || stableText(evs[0]) !== fatal) throw new FuzzFinding('chunking', `MessageDecoder: a push after its fatal error gave ${stableText(evs).slice(0, 300)}`)
      continue
    }
    for (const ev of evs) {
      if (ev.type === 'error' || ev.type === 'invalid') expectWireError(ev.error, `MessageDecoder ${ev.type}`)
      if (ev.type === 'error' && ev.error.code === 'STATE') throw new FuzzFinding('exception', `MessageDecoder: internal failure reported as STATE: ${ev.error.message}`)
      if (ev.type === 'error') fatal = stableText(ev)
      out.push(ev)
    }
  }
  return out
}

/**
 * A FrameDecoder streaming 'block' payloads, fed `pieces`: its events as
 * text, with each streamed payload's chunks joined (their cut points follow
 * the input's, by design).
 */
function frameEvents(net: NetworkParams, pv: number, pieces: readonly Uint8Array[]): string {
  const ctx: CodecContext = { protocolVersion: pv, maxBlockPayload: net.maxBlockPayload }
  const d = new FrameDecoder({
    magic: net.magic,
    maxPayload: net.maxMessageBytes,
    commandLimit: (c) => maxPayloadFor(c, ctx),
    unknownCommandLimit: 1_000_000,
    streamCommands: new Set(['block']),
    extmsg: net.supportsExtMsg,
  })
  const out: unknown[] = []
  let streamed: Uint8Array[] = []
  let fatal: string | undefined
  for (const p of pieces) {
    let evs: FrameDecoderEvent[]
    try {
      evs = d.push(p)
    } catch (e) {
      throw new FuzzFinding('exception', `FrameDecoder.push threw ${String(e)}`, { cause: e })
    }
    // After a fatal error, each push repeats it alone (checked, then not recorded again).
    if (fatal !== undefined) {
      if (evs.length !== 1 || stableText(evs[0]) !== fatal) throw new FuzzFinding('chunking', `FrameDecoder: a push after its fatal error gave ${stableText(evs).slice(0, 300)}`)
      continue
    }
    for (const ev of evs) {
      if (ev.type === 'payload-chunk') {
        streamed.push(ev.bytes.slice())
        continue
      }
      if (ev.type === 'payload-end') {
        out.push({ ...ev, payload: concatBytes(...streamed) })
        streamed = []
        continue
      }
      if (ev.type === 'error') {
        expectWireError(ev.error, 'FrameDecoder')
        // push() turns an internal exception into STATE: never expected from bytes alone.
        if (ev.error.code === 'STATE') throw new FuzzFinding('exception', `FrameDecoder: internal failure reported as STATE: ${ev.error.message}`)
        fatal = stableText(ev)
      }
      out.push(ev)
    }
  }
  // Chunks of an unfinished payload: joined too.
  if (streamed.length > 0) out.push({ type: 'partial', payload: concatBytes(...streamed) })
  return stableText(out)
}

// ---------------------------------------------------------------------------
// The streaming block parser

/** What a parse of a whole block reports, for comparing parsers. */
interface BlockOutcome {
  readonly ok: boolean
  readonly code?: string
  readonly txids?: string[]
  readonly wtxids?: string[]
  readonly offsets?: number[]
}

/**
 * Block stream target: the same block bytes through BlockStreamParser in
 * one push and in random chunks (results must be identical, errors
 * included), and through parseBlock + verifyBlock (same verdict; when both
 * accept, the same transactions at the same offsets). Error codes are not
 * compared with parseBlock: it checks each count against the bytes left, so
 * on input with two faults it may name the earlier one, which the stream,
 * not knowing where the block ends, reads past.
 */
export function blockStreamTarget(blocks: readonly Uint8Array[]): FuzzTarget {
  const small = blocks.filter((b) => b.length <= 64 * 1024)
  const large = blocks.filter((b) => b.length > 64 * 1024)
  return {
    name: 'block-stream',
    weight: 6,
    generate(rng) {
      // Large real blocks (up to 1.4 MB, thousands of transactions) cost a
      // hundred small ones: one input in fifty.
      const seed = large.length > 0 && rng.chance(0.02) ? rng.pick(large) : rng.pick(small)
      const b = mutate(rng, seed, { maxLength: seed.length + 1024, others: small })
      // Often fix the header's merkle root so the mutated block can pass
      // verification and its transactions are compared, not only the error.
      if (rng.chance(0.4)) fixMerkleRoot(b)
      return b
    },
    run(input, rng) {
      const whole = parseWhole(input)
      const one = streamBlock([input], undefined)
      const pieces = chunks(rng, input)
      // With the length announced the parser may stop at an earlier fault
      // (the end is known: TRUNCATED as soon as a length runs past it), so
      // then, as against parseBlock, only verdicts and contents are compared.
      const announced = rng.chance(0.5)
      const cut = streamBlock(pieces, announced ? input.length : undefined)
      if (announced ? !sameVerdict(one.outcome, cut.outcome) : one.events !== cut.events) {
        throw new FuzzFinding('chunking', `BlockStreamParser: results differ between one push and ${pieces.length} chunks${announced ? ' (length announced)' : ''}`)
      }
      // Verdicts, not codes: parseBlock checks each count against the bytes
      // left and may fail at an earlier fault than the stream, which cannot
      // see the end and reads on until it meets another one.
      if (!sameVerdict(one.outcome, whole)) {
        throw new FuzzFinding('disagreement', `BlockStreamParser says ${stableText(one.outcome).slice(0, 300)}, parseBlock+verifyBlock says ${stableText(whole).slice(0, 300)}`)
      }
      return whole.ok
    },
  }
}

/** Both accepted the same transactions (ids and offsets), or both refused. */
function sameVerdict(a: BlockOutcome, b: BlockOutcome): boolean {
  return a.ok === b.ok && stableText(a.txids) === stableText(b.txids) && stableText(a.wtxids) === stableText(b.wtxids) && stableText(a.offsets) === stableText(b.offsets)
}

/** Rewrite bytes 36..68 (the merkle root) when the block parses; leaves anything else alone. */
function fixMerkleRoot(b: Uint8Array): void {
  try {
    const block = parseBlock(b)
    if (block.txs.length > 0) b.set(merkleRoot(blockTxids(block)), 36)
  } catch (e) {
    expectWireError(e, 'parseBlock')
  }
}

function parseWhole(input: Uint8Array): BlockOutcome {
  try {
    const block = parseBlock(input)
    verifyBlock(block)
    return {
      ok: true,
      txids: blockTxids(block).map(toHex),
      wtxids: blockWtxids(block).map(toHex),
      offsets: block.txLayouts.map((l) => l.start),
    }
  } catch (e) {
    return { ok: false, code: expectWireError(e, 'parseBlock/verifyBlock').code }
  }
}

/** A BlockStreamParser fed `pieces` then ended: its verdict, and every event (and end result or error) as text. */
function streamBlock(pieces: readonly Uint8Array[], totalLength: number | undefined): { outcome: BlockOutcome; events: string } {
  const events: unknown[] = []
  const txids: string[] = []
  const wtxids: string[] = []
  const offsets: number[] = []
  let error: WireError | undefined
  try {
    const p = new BlockStreamParser(totalLength === undefined ? {} : { totalLength })
    for (const piece of pieces) {
      for (const ev of p.push(piece)) {
        events.push(ev)
        if (ev.type === 'error') error = expectWireError(ev.error, 'BlockStreamParser.push')
        if (ev.type === 'tx') {
          txids.push(toHex(ev.txid))
          wtxids.push(toHex(ev.wtxid))
          offsets.push(ev.offset)
        }
      }
      if (error) break
    }
    if (!error) events.push({ end: p.end() })
  } catch (e) {
    error = expectWireError(e, 'BlockStreamParser')
    events.push({ thrown: e })
  }
  const outcome: BlockOutcome = error ? { ok: false, code: error.code } : { ok: true, txids, wtxids, offsets }
  return { outcome, events: stableText(events) }
}

// ---------------------------------------------------------------------------

/** What the targets are seeded from. */
export interface FuzzData {
  /** Real block payloads (shared/data/blocks); may be empty. */
  readonly blocks: readonly Uint8Array[]
}

/** Every target, in a fixed order: frames, one per codec, the block stream parser. */
export function buildTargets(data: FuzzData): FuzzTarget[] {
  const samples = messageSamples(data.blocks)
  const all = samples.map((s) => s.payload)
  const targets: FuzzTarget[] = [framesTarget(samples)]
  for (const codec of CODECS as readonly Codec<KnownMessage>[]) {
    const seeds = samples.filter((s) => s.command === codec.command).map((s) => s.payload)
    targets.push(codecTarget(codec, seeds.length > 0 ? seeds : [new Uint8Array(0)], all))
  }
  targets.push(blockStreamTarget([...syntheticBlocks(), ...data.blocks]))
  return targets
}
