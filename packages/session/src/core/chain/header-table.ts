/**
 * Column storage for every header a HeaderTree holds (active chain and
 * forks): the 80 raw bytes, the 32-byte hash, the cumulative work (eight
 * 32-bit words), the parent slot, the height and the walk-back slot in
 * typed arrays, and a HashIndex from hash to slot. A header is a slot
 * number; nothing is ever removed, so slots are stable.
 *
 * A header comes in two steps so that validating it allocates nothing:
 * `stage` serializes it straight into the next free slot's bytes and hashes
 * it there (`stageChild` also checks that it links to a given slot while
 * copying); `commit` then makes that slot a held header. A staged header
 * that is rejected is simply overwritten by the next one.
 *
 * Every column lives in chunks of CHUNK_SLOTS headers: the first chunk
 * doubles up to that size (small trees stay small), later ones are
 * allocated whole and never copied. Doubling whole columns would copy every
 * byte about once more and allocate up to twice the final size; fresh
 * memory is not free (the first touch of each page faults, over a
 * microsecond in a VM) and drives V8's full collections through external
 * memory.
 *
 * Chain work is kept modulo 2^256, as Core's arith_uint256 nChainWork: far
 * beyond any real chain (the work of a header is at most 2^255, for a target
 * of 1), and words rather than a bigint per header mean no heap object per
 * header and an addition that allocates nothing.
 *
 * Per header: 80 + 32 + 32 + 12 bytes of columns and 16-32 bytes of index,
 * plus the slack of the last chunk.
 */
import { writeBlockHeader } from '@bitp2p/wire/codecs'
import { createHeaderHasher } from '@bitp2p/wire/hash'
import { BLOCK_HEADER_BYTES } from '@bitp2p/wire/limits'
import type { BlockHeader } from '@bitp2p/wire'
import type { HeaderHasher } from '@bitp2p/wire/hash'
import { HashIndex, type HashSource, hashKey } from './hash-index.js'
import { WORDS_256, fromWords256, hashAtMostWords } from './pow-words.js'

/** Bytes of a block hash. */
export const HASH_BYTES = 32

/** Slots reserved by a new table; the first chunk doubles until it is full size. */
const INITIAL_CAPACITY = 1024

/** log2 of the slots in a full chunk (4,096 headers: 624 KB over all columns). */
const CHUNK_SHIFT = 12
const CHUNK_SLOTS = 1 << CHUNK_SHIFT
const CHUNK_MASK = CHUNK_SLOTS - 1

/** Int32 words per slot in the links column, and their order. */
const LINK_WORDS = 3
const PARENT = 0
const HEIGHT = 1
const WALK = 2

/** Byte offsets of fields inside a serialized header. */
const PREV_OFFSET = 4
const ROOT_OFFSET = 36
const TIME_OFFSET = 68
const BITS_OFFSET = 72
const NONCE_OFFSET = 76

/** Append-only columns of headers; see the module comment. */
export class HeaderTable implements HashSource {
  // Column chunks: slot s is in chunk s >>> CHUNK_SHIFT at index s & CHUNK_MASK.
  private readonly raws: Uint8Array[]
  private readonly hashes: Uint8Array[]
  /** DataViews of the same chunks of raws and hashes: stage reads and writes them a word at a time. */
  private readonly rawViews: DataView[]
  private readonly hashViews: DataView[]
  /** Chain work: WORDS_256 u32 words per slot, least significant first. */
  private readonly works: Uint32Array[]
  /** Per slot: parent slot, height, and the slot the min-difficulty walk-back from it ends at (or -1, see HeaderTree). */
  private readonly links: Int32Array[]
  /** Slots the chunks hold. */
  private capacity: number
  private readonly index = new HashIndex()
  /** Slots below this are in the index; the rest are added by the next lookup or `syncIndex`. */
  private indexed = 0
  private readonly hasher: HeaderHasher = createHeaderHasher()
  private n = 0

  constructor() {
    this.raws = [new Uint8Array(INITIAL_CAPACITY * BLOCK_HEADER_BYTES)]
    this.hashes = [new Uint8Array(INITIAL_CAPACITY * HASH_BYTES)]
    this.rawViews = [view(this.raws[0]!)]
    this.hashViews = [view(this.hashes[0]!)]
    this.works = [new Uint32Array(INITIAL_CAPACITY * WORDS_256)]
    this.links = [new Int32Array(INITIAL_CAPACITY * LINK_WORDS)]
    this.capacity = INITIAL_CAPACITY
  }

  /** Headers held. */
  get size(): number {
    return this.n
  }

  /** Bytes reserved by the typed-array columns and the index. */
  get byteLength(): number {
    let n = this.index.byteLength
    for (let c = 0; c < this.raws.length; c++) {
      n += this.raws[c]!.byteLength + this.hashes[c]!.byteLength + this.works[c]!.byteLength + this.links[c]!.byteLength
    }
    return n
  }

  /**
   * Serializes `header` into the next free slot and computes its hash there.
   * Returns that slot; it is not held until `commit`.
   *
   * @throws WireError ENCODE_RANGE for a header field out of range (as serializeBlockHeader).
   */
  stage(header: BlockHeader): number {
    const slot = this.reserve()
    const c = slot >>> CHUNK_SHIFT
    const i = slot & CHUNK_MASK
    const raw = this.rawViews[c]!
    const o = i * BLOCK_HEADER_BYTES
    const prev = header.prevBlock
    if (prev.length !== HASH_BYTES) throw writeFailure(header, this.raws[c]!, o)
    for (let k = 0; k < HASH_BYTES; k += 4) raw.setInt32(o + PREV_OFFSET + k, le32(prev, k), true)
    writeRest(header, raw, this.raws[c]!, o)
    this.hasher.hashInto(this.raws[c]!, o, this.hashes[c]!, i * HASH_BYTES)
    return slot
  }

  /**
   * `stage` for a header that must follow the held header `parent` (the one
   * before it in a headers message): false, with nothing held or thrown,
   * when its prevBlock is not parent's hash (as `hashEquals` would say);
   * else it is staged and hashed as by `stage`. Each 4 bytes of prevBlock
   * are read once, compared with the parent's hash as a word and stored in
   * the slot as a word.
   *
   * @throws WireError ENCODE_RANGE for a field out of range (as serializeBlockHeader), only once it links.
   */
  stageChild(header: BlockHeader, parent: number): boolean {
    const prev = header.prevBlock
    if (prev.length !== HASH_BYTES) return false
    const slot = this.reserve()
    const c = slot >>> CHUNK_SHIFT
    const i = slot & CHUNK_MASK
    const raw = this.rawViews[c]!
    const o = i * BLOCK_HEADER_BYTES
    const hashes = this.hashViews[parent >>> CHUNK_SHIFT]!
    const h = (parent & CHUNK_MASK) * HASH_BYTES
    // The differences ORed: one branch for the eight words. A mismatch leaves
    // the copied bytes in the free slot, where the next stage overwrites them.
    let d = 0
    for (let k = 0; k < HASH_BYTES; k += 4) {
      const w = le32(prev, k)
      d |= w ^ hashes.getInt32(h + k, true)
      raw.setInt32(o + PREV_OFFSET + k, w, true)
    }
    if (d !== 0) return false
    writeRest(header, raw, this.raws[c]!, o)
    this.hasher.hashInto(this.raws[c]!, o, this.hashes[c]!, i * HASH_BYTES)
    return true
  }

  /** `stage` for a header already serialized (80 bytes). */
  stageRaw(raw: Uint8Array): number {
    if (raw.length !== BLOCK_HEADER_BYTES) throw new RangeError(`a header is ${BLOCK_HEADER_BYTES} bytes, got ${raw.length}`)
    const slot = this.reserve()
    const c = slot >>> CHUNK_SHIFT
    const i = slot & CHUNK_MASK
    this.raws[c]!.set(raw, i * BLOCK_HEADER_BYTES)
    this.hasher.hashInto(this.raws[c]!, i * BLOCK_HEADER_BYTES, this.hashes[c]!, i * HASH_BYTES)
    return slot
  }

  /** Slot of a held header with the staged header's hash, or -1. */
  findStaged(): number {
    this.syncIndex()
    const s = this.n
    return this.index.findHash(this, this.hashes[s >>> CHUNK_SHIFT]!, (s & CHUNK_MASK) * HASH_BYTES)
  }

  /** The staged header's hash, as a view (valid until the next stage). */
  stagedHash(): Uint8Array {
    const s = this.n
    const o = (s & CHUNK_MASK) * HASH_BYTES
    return this.hashes[s >>> CHUNK_SHIFT]!.subarray(o, o + HASH_BYTES)
  }

  /** True when the staged header's hash, as a number, is at most `target` (WORDS_256 words). */
  stagedHashAtMost(target: Uint32Array): boolean {
    const s = this.n
    return hashAtMostWords(this.hashes[s >>> CHUNK_SHIFT]!, (s & CHUNK_MASK) * HASH_BYTES, target)
  }

  /**
   * Holds the staged header and returns its slot. `parent` is the parent's
   * slot, or -1 for a base header whose parent is not held. `work` (WORDS_256
   * words) is the header's own work, added to the parent's chain work; for a
   * parentless header it is its chain work. `walk` is stored for `walk()`
   * (-2 means "this slot itself"). The caller has checked that the hash is
   * not held yet.
   */
  commit(parent: number, height: number, work: Uint32Array, walk: number): number {
    const slot = this.n++
    const links = this.links[slot >>> CHUNK_SHIFT]!
    const l = (slot & CHUNK_MASK) * LINK_WORDS
    links[l + PARENT] = parent
    links[l + HEIGHT] = height
    links[l + WALK] = walk === -2 ? slot : walk
    const works = this.works[slot >>> CHUNK_SHIFT]!
    const o = (slot & CHUNK_MASK) * WORDS_256
    if (parent < 0) {
      for (let i = 0; i < WORDS_256; i++) works[o + i] = work[i]!
    } else {
      // 256-bit addition, word by word with the carry (sums stay below 2^33).
      const parentWorks = this.works[parent >>> CHUNK_SHIFT]!
      const p = (parent & CHUNK_MASK) * WORDS_256
      let carry = 0
      for (let i = 0; i < WORDS_256; i++) {
        const sum = parentWorks[p + i]! + work[i]! + carry
        works[o + i] = sum
        carry = sum > 0xffffffff ? 1 : 0
      }
    }
    return slot
  }

  /** Slot of the header with this hash, or -1. */
  find(hash: Uint8Array): number {
    if (hash.length !== HASH_BYTES) return -1
    this.syncIndex()
    return this.index.findHash(this, hash, 0)
  }

  parent(slot: number): number {
    return this.links[slot >>> CHUNK_SHIFT]![(slot & CHUNK_MASK) * LINK_WORDS + PARENT]!
  }

  height(slot: number): number {
    return this.links[slot >>> CHUNK_SHIFT]![(slot & CHUNK_MASK) * LINK_WORDS + HEIGHT]!
  }

  /** The stored walk-back slot of `slot`, or -1. */
  walk(slot: number): number {
    return this.links[slot >>> CHUNK_SHIFT]![(slot & CHUNK_MASK) * LINK_WORDS + WALK]!
  }

  /** Chain work of `slot` as a bigint (made on each call). */
  chainWork(slot: number): bigint {
    return fromWords256(this.works[slot >>> CHUNK_SHIFT]!, (slot & CHUNK_MASK) * WORDS_256)
  }

  /** Sign of chainWork(a) - chainWork(b), compared in place. */
  compareChainWork(a: number, b: number): number {
    const wa = this.works[a >>> CHUNK_SHIFT]!
    const wb = this.works[b >>> CHUNK_SHIFT]!
    const oa = (a & CHUNK_MASK) * WORDS_256
    const ob = (b & CHUNK_MASK) * WORDS_256
    for (let i = WORDS_256 - 1; i >= 0; i--) {
      const x = wa[oa + i]!
      const y = wb[ob + i]!
      if (x !== y) return x < y ? -1 : 1
    }
    return 0
  }

  /** Block time (u32) read straight from the stored bytes. */
  time(slot: number): number {
    return readU32(this.raws[slot >>> CHUNK_SHIFT]!, (slot & CHUNK_MASK) * BLOCK_HEADER_BYTES + TIME_OFFSET)
  }

  /** Compact target (nBits) read straight from the stored bytes. */
  bits(slot: number): number {
    return readU32(this.raws[slot >>> CHUNK_SHIFT]!, (slot & CHUNK_MASK) * BLOCK_HEADER_BYTES + BITS_OFFSET)
  }

  /** A copy of the 80 header bytes. */
  rawHeader(slot: number): Uint8Array {
    const o = (slot & CHUNK_MASK) * BLOCK_HEADER_BYTES
    return this.raws[slot >>> CHUNK_SHIFT]!.slice(o, o + BLOCK_HEADER_BYTES)
  }

  /** A copy of the hash (internal byte order). */
  hash(slot: number): Uint8Array {
    const o = (slot & CHUNK_MASK) * HASH_BYTES
    return this.hashes[slot >>> CHUNK_SHIFT]!.slice(o, o + HASH_BYTES)
  }

  /**
   * True when the stored hash of `slot` equals hash[offset .. offset + 32],
   * compared in place; false when those bytes run past the end of `hash`.
   */
  hashEquals(slot: number, hash: Uint8Array, offset = 0): boolean {
    if (!(offset >= 0 && offset + HASH_BYTES <= hash.length)) return false
    const hashes = this.hashes[slot >>> CHUNK_SHIFT]!
    const o = (slot & CHUNK_MASK) * HASH_BYTES
    // Four bytes per test: one branch instead of four.
    for (let i = 0; i < HASH_BYTES; i += 4) {
      const d =
        (hashes[o + i]! ^ hash[offset + i]!) |
        (hashes[o + i + 1]! ^ hash[offset + i + 1]!) |
        (hashes[o + i + 2]! ^ hash[offset + i + 2]!) |
        (hashes[o + i + 3]! ^ hash[offset + i + 3]!)
      if (d !== 0) return false
    }
    return true
  }

  /**
   * Adds the slots committed since the last call to the index. Commits do
   * not insert: a run of inserts is faster than the same inserts spread
   * between validations (each lands in a random bucket, a cache miss, and a
   * tight loop lets the CPU wait for several at once). Lookups call this
   * first, and HeaderTree calls it at the end of every accept, acceptMany
   * and constructor, so the index is complete whenever they return.
   */
  syncIndex(): void {
    const index = this.index
    for (let slot = this.indexed; slot < this.n; slot++) {
      index.insert(hashKey(this.hashes[slot >>> CHUNK_SHIFT]!, (slot & CHUNK_MASK) * HASH_BYTES), slot)
    }
    this.indexed = this.n
  }

  /** The next free slot, with room in every column. */
  private reserve(): number {
    const slot = this.n
    if (slot === this.capacity) this.grow()
    return slot
  }

  private grow(): void {
    if (this.capacity < CHUNK_SLOTS) {
      // The first chunk doubles until it is full size.
      const c = Math.min(this.capacity * 2, CHUNK_SLOTS)
      this.raws[0] = grown(this.raws[0]!, new Uint8Array(c * BLOCK_HEADER_BYTES))
      this.hashes[0] = grown(this.hashes[0]!, new Uint8Array(c * HASH_BYTES))
      this.rawViews[0] = view(this.raws[0]!)
      this.hashViews[0] = view(this.hashes[0]!)
      this.works[0] = grown(this.works[0]!, new Uint32Array(c * WORDS_256))
      this.links[0] = grown(this.links[0]!, new Int32Array(c * LINK_WORDS))
      this.capacity = c
      return
    }
    this.raws.push(new Uint8Array(CHUNK_SLOTS * BLOCK_HEADER_BYTES))
    this.hashes.push(new Uint8Array(CHUNK_SLOTS * HASH_BYTES))
    this.rawViews.push(view(this.raws.at(-1)!))
    this.hashViews.push(view(this.hashes.at(-1)!))
    this.works.push(new Uint32Array(CHUNK_SLOTS * WORDS_256))
    this.links.push(new Int32Array(CHUNK_SLOTS * LINK_WORDS))
    this.capacity += CHUNK_SLOTS
  }
}

/**
 * Writes every field of `h` but prevBlock (already copied) into the slot at
 * `o` (`raw` is a DataView of `out`), with writeBlockHeader's checks: a
 * header it would refuse is handed to it, so the error thrown is its own.
 * Written here rather than through writeBlockHeader so that stageChild can
 * compare prevBlock while it copies it, with every field stored a word at a
 * time; in the tree this measured about the same as writeBlockHeader's two
 * TypedArray.set calls plus a separate compare (~+1 % in CPU-time A/B runs).
 */
function writeRest(h: BlockHeader, raw: DataView, out: Uint8Array, o: number): void {
  const root = h.merkleRoot
  const version = h.version
  const time = h.time
  const bits = h.bits
  const nonce = h.nonce
  if (
    root.length !== HASH_BYTES ||
    !isU32(time) ||
    !isU32(bits) ||
    !isU32(nonce) ||
    !(Number.isInteger(version) && version >= -0x80000000 && version <= 0x7fffffff) ||
    !(Number.isInteger(o) && o >= 0 && o + BLOCK_HEADER_BYTES <= out.length)
  ) {
    throw writeFailure(h, out, o)
  }
  raw.setInt32(o, version, true)
  for (let k = 0; k < HASH_BYTES; k += 4) raw.setInt32(o + ROOT_OFFSET + k, le32(root, k), true)
  raw.setUint32(o + TIME_OFFSET, time, true)
  raw.setUint32(o + BITS_OFFSET, bits, true)
  raw.setUint32(o + NONCE_OFFSET, nonce, true)
}

/** The little-endian 32-bit word at b[k .. k + 4] (k + 4 <= b.length is the caller's check). */
function le32(b: Uint8Array, k: number): number {
  return b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24)
}

/** The error writeBlockHeader throws for `h` at out[o]; anything else it would write is a bug here. Out of line, so writeRest stays small. */
function writeFailure(h: BlockHeader, out: Uint8Array, o: number): Error {
  try {
    writeBlockHeader(h, out, o)
  } catch (e) {
    return e as Error
  }
  return new Error('header table: a header refused here was accepted by writeBlockHeader')
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff
}

/** A DataView of a whole column chunk. */
function view(chunk: Uint8Array): DataView {
  return new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/** `to`, holding a copy of `from` at its start. */
function grown<T extends Uint8Array | Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from)
  return to
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
}
