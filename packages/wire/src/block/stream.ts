/**
 * Streaming block parser: a block payload in chunks of any size in, the
 * header and each transaction's position and ids out, without ever holding
 * the whole block.
 *
 *   const p = new BlockStreamParser({ maxBlockBytes, totalLength })
 *   for await (const chunk of source) for (const ev of p.push(chunk)) use(ev)
 *   const summary = p.end()   // trailing bytes, count, merkle root, witness commitment
 *
 * push() returns the events completed by that chunk (an array, not
 * callbacks: the caller keeps control of the loop and nothing re-enters the
 * parser). Events: first `header` (once the header and the transaction
 * count are in), then one `tx` per transaction in block order. Bad bytes
 * are not thrown: like the frame decoder, push() returns the events
 * completed before the fault followed by one `error` event, and every later
 * push() returns that same error event, so what a caller sees never depends
 * on where the chunks were cut. end() throws (the stored error, or what the
 * final checks find).
 *
 * How it stays bounded. A resumable scanner walks each transaction one unit
 * at a time (version, a count, an input, an output, a witness item,
 * locktime) and never consumes part of a unit. A transaction that lies
 * inside one chunk is scanned and hashed in place; one split across chunks
 * is copied into a carry buffer that holds only that transaction (at most
 * maxTxBytes, OVERSIZE beyond). Txids go into streaming merkle builders
 * (O(log n) memory) and only the coinbase is kept, for the witness
 * commitment. Memory is the largest transaction plus the chunk being pushed.
 *
 * Chunking does not matter. Every decision is taken on bytes already seen,
 * unit by unit, and limits are enforced by position (the scanner refuses to
 * look past maxTxBytes of a transaction or past the block's limit), so the
 * same bytes in any chunking give the same events and the same first error,
 * with the same detail (offsets are byte offsets in the block payload).
 * Calling push() or end() after end() is misuse and throws STATE.
 *
 * Sizes and offsets are JS numbers: exact up to 2^53, so blocks beyond 4 GB
 * (BSV extended messages, 64-bit lengths) work; nothing assumes 32 bits.
 */
import { ByteReader } from '../bytes/reader.js'
import { WireError } from '../errors.js'
import { sha256d } from '../hash/sha256.js'
import { MAX_BLOCK_SERIALIZED_SIZE } from '../messages/context.js'
import {
  decodeTx,
  MIN_TX_INPUT_BYTES,
  MIN_TX_OUTPUT_BYTES,
  MIN_WITNESS_ITEM_BYTES,
  SEGWIT_FLAG,
  SEGWIT_MARKER,
  txLimits,
  type TxLayout,
  type TxLimits,
} from '../tx/codec.js'
import { baseSizeFromLayout, txidFromRaw, WITNESS_SCALE_FACTOR, wtxidFromRaw } from '../tx/id.js'
import type { Transaction } from '../tx/types.js'
import { checkMerkleResult } from './block.js'
import { BLOCK_HEADER_BYTES, type BlockHeader, decodeBlockHeader } from './header.js'
import { MERKLE_HASH_BYTES, MerkleBuilder } from './merkle.js'
import { maxBlockTxs, MIN_TRANSACTION_BYTES } from './partial-merkle.js'
import { checkWitnessCommitment } from './witness.js'

/** Default cap on one transaction: Bitcoin's block payload (4,000,000). */
export const DEFAULT_MAX_TX_BYTES = MAX_BLOCK_SERIALIZED_SIZE
/** Default cap on the whole block payload: Bitcoin's 4,000,000. Raise it for BSV profiles. */
export const DEFAULT_MAX_BLOCK_BYTES = MAX_BLOCK_SERIALIZED_SIZE
/**
 * When a split transaction needs more bytes, at least this many are copied
 * into the carry buffer at once (fewer copies for transactions with many
 * small parts; the excess is handed back to the next transaction).
 */
export const CARRY_STEP_BYTES = 64 * 1024
/** Largest exact integer: the bound on every size and offset. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER

/** Limits and options of a `BlockStreamParser`; every field is optional. */
export interface BlockStreamOptions {
  /** Largest transaction accepted (OVERSIZE beyond); bounds the carry buffer. Default 4,000,000. */
  readonly maxTxBytes?: number
  /**
   * Largest block payload accepted (OVERSIZE beyond); also bounds the
   * transaction count at maxBlockBytes / 60. Default 4,000,000.
   */
  readonly maxBlockBytes?: number
  /**
   * The payload length announced by the frame (64-bit on BSV extended
   * messages), if known: bytes past it are TRAILING_BYTES and a block that
   * needs more is TRUNCATED as soon as that is known. At most maxBlockBytes.
   */
  readonly totalLength?: number | bigint
  /** Attach a copy of each transaction's bytes to its event. Default false. */
  readonly keepTxBytes?: boolean
  /** Check the merkle root and witness commitment in end(). Default true. */
  readonly verify?: boolean
}

/** The header and transaction count, emitted once, first. */
export interface BlockStreamHeaderEvent {
  readonly type: 'header'
  readonly header: BlockHeader
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array
  readonly txCount: number
}

/** One transaction, in block order. */
export interface BlockStreamTxEvent {
  readonly type: 'tx'
  /** Position in the block (0 = coinbase). */
  readonly index: number
  /** Byte offset of the transaction in the block payload. */
  readonly offset: number
  /** Serialized length in bytes. */
  readonly length: number
  readonly txid: Uint8Array
  /** Equals txid when the transaction has no witness. */
  readonly wtxid: Uint8Array
  /** Serialized in BIP144 form (has witness data). */
  readonly segwit: boolean
  /** A copy of the transaction's bytes when keepTxBytes is set, else undefined. */
  readonly bytes: Uint8Array | undefined
}

/** The block is invalid; always the last event. The parser stays failed. */
export interface BlockStreamErrorEvent {
  readonly type: 'error'
  readonly error: WireError
}

/** What `BlockStreamParser.push` returns: 'header' once, then one 'tx' per transaction; an 'error' is always last. */
export type BlockStreamEvent = BlockStreamHeaderEvent | BlockStreamTxEvent | BlockStreamErrorEvent

/** What end() reports about a complete block. */
export interface BlockStreamEnd {
  readonly header: BlockHeader
  readonly hash: Uint8Array
  readonly txCount: number
  /** Payload bytes consumed. */
  readonly length: number
  /** BIP141 weight of the block. */
  readonly weight: number
  /** Merkle root computed from the txids. */
  readonly merkleRoot: Uint8Array
  /** Witness merkle root computed from the wtxids (coinbase as zeros). */
  readonly witnessRoot: Uint8Array
  /** Whether any transaction has witness data. */
  readonly hasWitness: boolean
  /** Whether the merkle root (and, when any witness, the witness commitment) were checked. */
  readonly verified: boolean
}

// Parser phases.
const P_HEAD = 0
const P_TXS = 1
const P_DONE = 2
const P_FAILED = 3
const P_ENDED = 4

// Transaction scanner units.
const S_VERSION = 0
const S_IN_COUNT = 1
const S_INPUT = 2
const S_OUT_COUNT = 3
const S_OUTPUT = 4
const S_WIT_COUNT = 5
const S_WIT_ITEM = 6
const S_LOCKTIME = 7

// What bounds the current item: the transaction cap, or the block's.
const BOUND_TX = 0
const BOUND_BLOCK = 1

/** Version (4) and the byte after it, which tells segwit from legacy. */
const VERSION_PEEK_BYTES = 5
/** 36-byte outpoint before an input's script length. */
const OUTPOINT_BYTES = 36
/** 8-byte value before an output's script length. */
const VALUE_BYTES = 8
const SEQUENCE_BYTES = 4
const LOCKTIME_BYTES = 4

const EMPTY = new Uint8Array(0)

/** Streaming block parser; see the module documentation. */
export class BlockStreamParser {
  private readonly maxTxBytes: number
  private readonly maxBlockBytes: number
  private readonly totalLength: number | undefined
  /** Where the block must end at the latest: totalLength if given, else maxBlockBytes. */
  private readonly streamLimit: number
  private readonly keepTxBytes: boolean
  private readonly verify: boolean
  private readonly limits: TxLimits

  private phase = P_HEAD
  private failure: WireError | undefined
  /** Payload bytes accepted so far. */
  private received = 0
  /** Payload offset where the current item (head or transaction) starts. */
  private itemStart = 0
  /** Bytes of the current item the scanner may look at (relative to itemStart). */
  private itemLimit = 0
  private itemBound = BOUND_BLOCK
  /** Bytes [itemStart, received) when the current item spans chunks. */
  private carry: Uint8Array = new Uint8Array(0)
  private carryLen = 0

  // Scanner state, relative to itemStart; a unit is never partly consumed.
  private pos = 0
  private unit = S_VERSION
  /** Bytes of the item the scanner needs before it can go on. */
  private needEnd = VERSION_PEEK_BYTES
  private needField = 'tx version'
  private csLen = 0
  private segwit = false
  private anyWitness = false
  private left = 0
  private inputs = 0
  private itemsLeft = 0
  private witnessStart = 0
  private witnessEnd = 0

  // Block state.
  private header: BlockHeader | undefined
  private hash: Uint8Array = new Uint8Array(MERKLE_HASH_BYTES)
  /** The coinbase's wtxid in the witness tree (BIP141): 32 zero bytes. */
  private readonly zeroWtxid = new Uint8Array(MERKLE_HASH_BYTES)
  private txCount = 0
  private index = 0
  private coinbase: Transaction | undefined
  private blockHasWitness = false
  private weight = 0
  private readonly txids = new MerkleBuilder()
  private readonly wtxids = new MerkleBuilder()

  constructor(opts: BlockStreamOptions = {}) {
    this.maxTxBytes = checkSize(opts.maxTxBytes ?? DEFAULT_MAX_TX_BYTES, 'maxTxBytes')
    this.maxBlockBytes = checkSize(opts.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES, 'maxBlockBytes')
    if (opts.totalLength !== undefined) {
      const t = opts.totalLength
      if ((typeof t === 'bigint' && (t < 0n || t > BigInt(MAX_SAFE))) || (typeof t === 'number' && !(Number.isSafeInteger(t) && t >= 0))) {
        throw new WireError('OVERSIZE', `block length ${t} is not a size below 2^53`, { field: 'totalLength', actual: t })
      }
      const n = Number(t)
      if (n > this.maxBlockBytes) {
        throw new WireError('OVERSIZE', `announced block length ${n} exceeds maxBlockBytes ${this.maxBlockBytes}`, {
          field: 'maxBlockBytes',
          limit: this.maxBlockBytes,
          actual: n,
        })
      }
      this.totalLength = n
    }
    this.streamLimit = this.totalLength ?? this.maxBlockBytes
    this.keepTxBytes = opts.keepTxBytes === true
    this.verify = opts.verify !== false
    this.limits = txLimits(this.maxTxBytes)
    this.startItem()
  }

  /** Payload bytes accepted so far. */
  get bytesReceived(): number {
    return this.received
  }

  /**
   * Feed the next chunk. Returns the events it completed (possibly none);
   * on invalid bytes the last one is an `error` event, and every later push
   * returns that same error. The chunk is not kept after the call returns
   * (bytes that must outlive it are copied), so its buffer may be reused.
   * Throws only on misuse (STATE: push after end()).
   */
  push(chunk: Uint8Array): BlockStreamEvent[] {
    if (this.phase === P_ENDED) throw new WireError('STATE', 'push() after end()')
    if (this.phase === P_FAILED) return [{ type: 'error', error: this.failure! }]
    const events: BlockStreamEvent[] = []
    try {
      // Only bytes inside the block's limit are parsed; errors inside them come first.
      const room = this.streamLimit - this.received
      const allowed = chunk.length < room ? chunk.length : room
      this.process(chunk, allowed, events)
      if (allowed < chunk.length) {
        // Parsing up to the limit succeeded, so the block ended exactly there.
        throw trailingBytes(this.received)
      }
    } catch (e) {
      events.push({ type: 'error', error: this.fail(e) })
    }
    return events
  }

  /**
   * Declare the end of the payload and check the block: complete, no bytes
   * missing from totalLength, and (with verify) at least one transaction,
   * the merkle root, no merkle mutation (CVE-2012-2459), and the witness
   * commitment when any transaction has a witness. Throws WireError
   * (TRUNCATED, INVALID_VALUE, BAD_MERKLE_ROOT, BAD_WITNESS_COMMITMENT), or
   * the error a push() already reported; STATE when called twice.
   */
  end(): BlockStreamEnd {
    if (this.phase === P_ENDED) throw new WireError('STATE', 'end() called twice')
    if (this.phase === P_FAILED) throw this.failure!
    try {
      // An empty push first: a limit reached exactly at the end fails here as it would on any push.
      this.process(EMPTY, 0, [])
      if (this.phase !== P_DONE) {
        // The scanner has seen every byte; report the unit it is waiting for.
        const missingAt = this.itemStart + this.pos
        throw new WireError('TRUNCATED', `block ends inside ${this.needField} at offset ${missingAt}`, {
          field: this.needField,
          offset: missingAt,
          expected: this.needEnd - this.pos,
          actual: this.carryLen - this.pos,
        })
      }
      if (this.totalLength !== undefined && this.received < this.totalLength) {
        throw new WireError('TRUNCATED', `block ended at ${this.received} bytes, announced ${this.totalLength}`, {
          field: 'totalLength',
          offset: this.received,
          expected: this.totalLength,
          actual: this.received,
        })
      }
      const merkle = this.txids.result()
      const witnessRoot = this.wtxids.root()
      const header = this.header!
      if (this.verify) {
        if (this.txCount === 0) {
          throw new WireError('INVALID_VALUE', 'block has no transactions', { field: 'block txs', actual: 0 })
        }
        checkMerkleResult(header, merkle)
        if (this.blockHasWitness) checkWitnessCommitment(this.coinbase!, witnessRoot)
      }
      this.phase = P_ENDED
      this.coinbase = undefined
      this.carry = new Uint8Array(0)
      return {
        header,
        hash: this.hash,
        txCount: this.txCount,
        length: this.received,
        weight: this.weight,
        merkleRoot: merkle.root,
        witnessRoot,
        hasWitness: this.blockHasWitness,
        verified: this.verify,
      }
    } catch (e) {
      throw this.fail(e)
    }
  }

  /** Enter the failed state for good; returns the error to report. Non-WireErrors are bugs: rethrown. */
  private fail(e: unknown): WireError {
    this.phase = P_FAILED
    this.carry = new Uint8Array(0)
    this.carryLen = 0
    this.coinbase = undefined
    if (!(e instanceof WireError)) throw e
    this.failure = e
    return e
  }

  /** Parse data[0, allowed), emitting completed items. */
  private process(data: Uint8Array, allowed: number, events: BlockStreamEvent[]): void {
    let off = 0
    for (;;) {
      if (this.phase === P_DONE) {
        if (off < allowed) throw trailingBytes(this.received)
        return
      }
      if (this.carryLen === 0) {
        // The item starts in this chunk: scan it in place. Run even with no
        // bytes left, so a limit reached exactly here fails now in every chunking.
        if (this.scan(data, off, allowed - off)) {
          const len = this.pos
          this.finishItem(data, off, len, events)
          off += len
          this.received += len
          this.startItem()
          continue
        }
        // Incomplete, and shorter than itemLimit (else scan threw): carry it.
        this.appendCarry(data, off, allowed)
        this.received += allowed - off
        return
      }
      // The item started in an earlier chunk and lives in the carry buffer.
      if (off === allowed) return
      let take = this.needEnd - this.carryLen
      if (take < CARRY_STEP_BYTES) take = CARRY_STEP_BYTES
      if (take > this.itemLimit - this.carryLen) take = this.itemLimit - this.carryLen
      if (take > allowed - off) take = allowed - off
      this.appendCarry(data, off, off + take)
      off += take
      this.received += take
      if (this.carryLen < this.needEnd) continue
      if (this.scan(this.carry, 0, this.carryLen)) {
        const len = this.pos
        // Bytes copied past the item's end belong to the next item: give them back.
        const extra = this.carryLen - len
        off -= extra
        this.received -= extra
        this.finishItem(this.carry, 0, len, events)
        this.carryLen = 0
        this.startItem()
      }
    }
  }

  private appendCarry(src: Uint8Array, from: number, to: number): void {
    const n = to - from
    if (n === 0) return
    const need = this.carryLen + n
    if (need > this.carry.length) {
      let cap = this.carry.length === 0 ? CARRY_STEP_BYTES : this.carry.length * 2
      while (cap < need) cap *= 2
      if (cap > this.itemLimit) cap = Math.max(need, this.itemLimit)
      const next = new Uint8Array(cap)
      next.set(this.carry.subarray(0, this.carryLen))
      this.carry = next
    }
    this.carry.set(src.subarray(from, to), this.carryLen)
    this.carryLen = need
  }

  /** Set up the scanner for the item starting at `received`. */
  private startItem(): void {
    this.itemStart = this.received
    this.pos = 0
    const blockRoom = this.streamLimit - this.itemStart
    if (this.phase === P_HEAD) {
      this.itemLimit = blockRoom
      this.itemBound = BOUND_BLOCK
      this.needEnd = BLOCK_HEADER_BYTES + 1
      this.needField = 'block header'
      return
    }
    if (this.maxTxBytes <= blockRoom) {
      this.itemLimit = this.maxTxBytes
      this.itemBound = BOUND_TX
    } else {
      this.itemLimit = blockRoom
      this.itemBound = BOUND_BLOCK
    }
    this.unit = S_VERSION
    this.needEnd = VERSION_PEEK_BYTES
    this.needField = 'tx version'
    this.segwit = false
    this.anyWitness = false
  }

  /** Scan the current item in buf[base, base + avail). True when complete (length = pos). */
  private scan(buf: Uint8Array, base: number, avail: number): boolean {
    if (avail > this.itemLimit) avail = this.itemLimit
    return this.phase === P_HEAD ? this.scanHead(buf, base, avail) : this.scanTx(buf, base, avail)
  }

  /** Record that the scanner needs `end` bytes of the item (unit starting at `at`). */
  private wait(end: number, field: string): false {
    if (end > this.itemLimit) throw this.beyondLimit(end, field)
    this.needEnd = end
    this.needField = field
    return false
  }

  /** The error for an item that needs more bytes than its limit allows. */
  private beyondLimit(end: number, field: string): WireError {
    const at = this.itemStart + this.pos
    if (this.itemBound === BOUND_TX) {
      return new WireError('OVERSIZE', `transaction at offset ${this.itemStart} exceeds maxTxBytes ${this.maxTxBytes} (${field})`, {
        field: 'maxTxBytes',
        offset: this.itemStart,
        limit: this.maxTxBytes,
        actual: end,
      })
    }
    if (this.totalLength !== undefined) {
      return new WireError('TRUNCATED', `${field} at offset ${at} runs past the announced block length ${this.totalLength}`, {
        field: 'totalLength',
        offset: at,
        expected: this.itemStart + end,
        actual: this.totalLength,
      })
    }
    return new WireError('OVERSIZE', `${field} at offset ${at} runs past maxBlockBytes ${this.maxBlockBytes}`, {
      field: 'maxBlockBytes',
      offset: at,
      limit: this.maxBlockBytes,
      actual: this.itemStart + end,
    })
  }

  /**
   * The CompactSize at item offset `at`: its value (length in this.csLen),
   * or -1 after recording what is missing. Same rules as ByteReader.compactSize.
   */
  private readCs(buf: Uint8Array, base: number, at: number, avail: number, field: string): number {
    if (at >= avail) {
      this.wait(at + 1, field)
      return -1
    }
    const first = buf[base + at]!
    if (first < 0xfd) {
      this.csLen = 1
      return first
    }
    const len = first === 0xfd ? 3 : first === 0xfe ? 5 : 9
    if (at + len > avail) {
      this.wait(at + len, field)
      return -1
    }
    const o = base + at + 1
    let v: number
    let min: number
    if (len === 3) {
      v = buf[o]! | (buf[o + 1]! << 8)
      min = 0xfd
    } else {
      const lo = (buf[o]! | (buf[o + 1]! << 8) | (buf[o + 2]! << 16)) + buf[o + 3]! * 0x1000000
      if (len === 5) {
        v = lo
        min = 0x10000
      } else {
        const hi = (buf[o + 4]! | (buf[o + 5]! << 8) | (buf[o + 6]! << 16)) + buf[o + 7]! * 0x1000000
        if (hi > 0x1fffff) {
          throw new WireError('OVERSIZE', 'CompactSize exceeds 2^53-1', { field: 'CompactSize', offset: this.itemStart + at + len })
        }
        v = hi * 0x100000000 + lo
        min = 0x100000000
      }
    }
    if (v < min) {
      throw new WireError('NON_CANONICAL', `CompactSize ${v} not in shortest form`, { offset: this.itemStart + at, actual: v })
    }
    this.csLen = len
    return v
  }

  /** A count at `at` (already read as `n`): within `limit`, and its items can fit in the item. */
  private checkCount(n: number, limit: number, minItemBytes: number, at: number, field: string): void {
    if (n > limit) {
      throw new WireError('OVERSIZE', `${field}: ${n} items exceeds limit ${limit}`, {
        field,
        limit,
        actual: n,
        offset: this.itemStart + at,
      })
    }
    const least = at + this.csLen + n * minItemBytes
    if (least > this.itemLimit) throw this.beyondLimit(least, field)
  }

  private scanHead(buf: Uint8Array, base: number, avail: number): boolean {
    const at = BLOCK_HEADER_BYTES
    const n = this.readCs(buf, base, at, avail, 'block header')
    if (n < 0) return false
    const max = maxBlockTxs(this.maxBlockBytes)
    if (n > max) {
      throw new WireError('OVERSIZE', `block txs: ${n} items exceeds limit ${max}`, { field: 'block txs', limit: max, actual: n, offset: at })
    }
    const least = at + this.csLen + n * MIN_TRANSACTION_BYTES
    if (least > this.itemLimit) throw this.beyondLimit(least, 'block txs')
    this.txCount = n
    this.pos = at + this.csLen
    return true
  }

  /** Scan transaction units until done or short of bytes. See the module doc. */
  private scanTx(buf: Uint8Array, base: number, avail: number): boolean {
    const lim = this.limits
    let pos = this.pos
    let unit = this.unit
    for (;;) {
      switch (unit) {
        case S_VERSION: {
          if (avail < VERSION_PEEK_BYTES) return this.wait(VERSION_PEEK_BYTES, 'tx version')
          if (buf[base + 4] === SEGWIT_MARKER) {
            if (avail < VERSION_PEEK_BYTES + 1) return this.wait(VERSION_PEEK_BYTES + 1, 'segwit flag')
            const flag = buf[base + 5]!
            if (flag !== SEGWIT_FLAG) {
              throw new WireError('INVALID_VALUE', `tx: segwit flag must be 1, got ${flag}`, {
                field: 'segwit flag',
                offset: this.itemStart + 5,
                expected: SEGWIT_FLAG,
                actual: flag,
              })
            }
            this.segwit = true
            pos = 6
          } else {
            pos = 4
          }
          unit = S_IN_COUNT
          break
        }
        case S_IN_COUNT: {
          this.pos = pos
          const n = this.readCs(buf, base, pos, avail, 'tx inputs')
          if (n < 0) return this.save(unit)
          this.checkCount(n, lim.maxInputs, MIN_TX_INPUT_BYTES, pos, 'tx inputs')
          pos += this.csLen
          this.inputs = n
          this.left = n
          unit = n === 0 ? S_OUT_COUNT : S_INPUT
          break
        }
        case S_INPUT: {
          this.pos = pos
          const len = this.readCs(buf, base, pos + OUTPOINT_BYTES, avail, 'tx input')
          if (len < 0) return this.save(unit)
          if (len > lim.maxScriptBytes) throw this.tooLong(len, lim.maxScriptBytes, pos + OUTPOINT_BYTES, 'scriptSig')
          const end = pos + OUTPOINT_BYTES + this.csLen + len + SEQUENCE_BYTES
          if (end > avail) return this.wait(end, 'tx input') || this.save(unit)
          pos = end
          if (--this.left === 0) unit = S_OUT_COUNT
          break
        }
        case S_OUT_COUNT: {
          this.pos = pos
          const n = this.readCs(buf, base, pos, avail, 'tx outputs')
          if (n < 0) return this.save(unit)
          this.checkCount(n, lim.maxOutputs, MIN_TX_OUTPUT_BYTES, pos, 'tx outputs')
          pos += this.csLen
          this.left = n
          if (n !== 0) unit = S_OUTPUT
          else unit = this.afterOutputs(pos)
          break
        }
        case S_OUTPUT: {
          this.pos = pos
          const len = this.readCs(buf, base, pos + VALUE_BYTES, avail, 'tx output')
          if (len < 0) return this.save(unit)
          if (len > lim.maxScriptBytes) throw this.tooLong(len, lim.maxScriptBytes, pos + VALUE_BYTES, 'scriptPubKey')
          const end = pos + VALUE_BYTES + this.csLen + len
          if (end > avail) return this.wait(end, 'tx output') || this.save(unit)
          pos = end
          if (--this.left === 0) unit = this.afterOutputs(pos)
          break
        }
        case S_WIT_COUNT: {
          this.pos = pos
          const n = this.readCs(buf, base, pos, avail, 'witness items')
          if (n < 0) return this.save(unit)
          this.checkCount(n, lim.maxWitnessItems, MIN_WITNESS_ITEM_BYTES, pos, 'witness items')
          pos += this.csLen
          if (n !== 0) {
            this.anyWitness = true
            this.itemsLeft = n
            unit = S_WIT_ITEM
          } else {
            unit = this.afterWitness(pos)
          }
          break
        }
        case S_WIT_ITEM: {
          this.pos = pos
          const len = this.readCs(buf, base, pos, avail, 'witness item')
          if (len < 0) return this.save(unit)
          if (len > lim.maxWitnessItemBytes) throw this.tooLong(len, lim.maxWitnessItemBytes, pos, 'witness item')
          const end = pos + this.csLen + len
          if (end > avail) return this.wait(end, 'witness item') || this.save(unit)
          pos = end
          if (--this.itemsLeft === 0) unit = this.afterWitness(pos)
          break
        }
        default: {
          // S_LOCKTIME
          this.pos = pos
          const end = pos + LOCKTIME_BYTES
          if (end > avail) return this.wait(end, 'tx locktime') || this.save(unit)
          this.pos = end
          this.unit = unit
          return true
        }
      }
    }
  }

  private save(unit: number): false {
    this.unit = unit
    return false
  }

  private tooLong(n: number, limit: number, at: number, field: string): WireError {
    return new WireError('OVERSIZE', `${field}: ${n} items exceeds limit ${limit}`, { field, limit, actual: n, offset: this.itemStart + at })
  }

  /** The unit after the last output; records where the witness section starts. */
  private afterOutputs(pos: number): number {
    this.witnessStart = pos
    if (!this.segwit) {
      this.witnessEnd = pos
      return S_LOCKTIME
    }
    this.left = this.inputs
    if (this.inputs === 0) return this.afterWitness(pos)
    return S_WIT_COUNT
  }

  /** The unit after one input's witness stack (or after all of them). */
  private afterWitness(pos: number): number {
    if (this.inputs !== 0 && --this.left !== 0) return S_WIT_COUNT
    if (!this.anyWitness) {
      throw new WireError('INVALID_VALUE', 'tx: segwit marker but every witness stack is empty (superfluous witness record)', {
        field: 'witness',
        offset: this.itemStart + this.witnessStart,
      })
    }
    this.witnessEnd = pos
    return S_LOCKTIME
  }

  /** A complete item at buf[base, base + len): emit it and update the block state. */
  private finishItem(buf: Uint8Array, base: number, len: number, events: BlockStreamEvent[]): void {
    if (this.phase === P_HEAD) {
      const headerBytes = buf.subarray(base, base + BLOCK_HEADER_BYTES)
      const header = decodeBlockHeader(new ByteReader(headerBytes))
      this.header = header
      this.hash = sha256d(headerBytes)
      // Header and count carry no witness data: weight = 4 x size.
      this.weight = len * WITNESS_SCALE_FACTOR
      events.push({ type: 'header', header, hash: this.hash, txCount: this.txCount })
      this.phase = this.txCount === 0 ? P_DONE : P_TXS
      return
    }
    const layout: TxLayout = {
      start: base,
      end: base + len,
      segwit: this.segwit,
      witnessStart: base + this.witnessStart,
      witnessEnd: base + this.witnessEnd,
    }
    const txid = txidFromRaw(buf, layout)
    const wtxid = this.segwit ? wtxidFromRaw(buf, layout) : txid
    const index = this.index
    this.txids.add(txid)
    this.wtxids.add(index === 0 ? this.zeroWtxid : wtxid)
    if (this.segwit) this.blockHasWitness = true
    this.weight += baseSizeFromLayout(layout) * (WITNESS_SCALE_FACTOR - 1) + len
    if (index === 0 && this.verify) {
      // Kept (as a copy, decoded) for the witness commitment check in end().
      const r = new ByteReader(buf.slice(base, base + len))
      this.coinbase = decodeTx(r, this.limits)
    }
    events.push({
      type: 'tx',
      index,
      offset: this.itemStart,
      length: len,
      txid,
      wtxid,
      segwit: this.segwit,
      bytes: this.keepTxBytes ? buf.slice(base, base + len) : undefined,
    })
    this.index = index + 1
    if (this.index === this.txCount) this.phase = P_DONE
  }
}

// Only the offset: how many extra bytes one chunk held depends on the chunking.
function trailingBytes(offset: number): WireError {
  return new WireError('TRAILING_BYTES', `bytes after the end of the block at offset ${offset}`, { offset })
}

function checkSize(n: number, field: string): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new WireError('ENCODE_RANGE', `${field} must be a non-negative safe integer, got ${n}`, { field, actual: n })
  }
  return n
}
