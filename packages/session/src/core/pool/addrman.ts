/**
 * The address book: which peers we know of, and which to try next.
 *
 * The design follows Bitcoin Core's addrman (Pieter Wuille, 2012), whose
 * goal is that no one source, and no one network group, can fill the book
 * or our outbound slots with its own addresses:
 *
 * - Addresses we have not connected to live in the "new" table
 *   (NEW_BUCKET_COUNT buckets of BUCKET_SIZE). The bucket of an address is a
 *   keyed hash of the *source's* group and the address's group, folded so
 *   that one source group reaches at most NEW_BUCKETS_PER_SOURCE_GROUP
 *   buckets. An attacker who controls one /16 can therefore hold at most
 *   64 x 64 new slots, however many addresses it sends.
 * - Addresses we have connected to move to the "tried" table
 *   (TRIED_BUCKET_COUNT buckets); an address group reaches at most
 *   TRIED_BUCKETS_PER_GROUP of them.
 * - The slot within a bucket is a keyed hash of the bucket and the address.
 *   The key is secret (random per book), so an attacker cannot aim at slots.
 * - An address may sit in up to NEW_BUCKETS_PER_ADDRESS new slots (each
 *   further copy half as likely), so widely gossiped addresses are a little
 *   more likely to be picked.
 * - A newcomer takes an occupied new slot only if the occupant is
 *   "terrible" (stale or failing, see `isTerrible`) or has copies elsewhere.
 * - Moving to tried over an occupied slot is a "collision": with
 *   test-before-evict, the old entry is kept until the caller has tested
 *   it (`selectTriedCollision` + a feeler connection, then
 *   `resolveCollisions`).
 * - `select` flips a coin between the tables, then draws a random bucket and
 *   a random start position; each entry is accepted with a chance that falls
 *   with failed attempts and a very recent try. Because buckets are drawn
 *   uniformly, an attacker confined to 64 buckets is picked about as often
 *   as its share of *non-empty buckets*, not of entries.
 *
 * This module is sans-IO: the caller passes `now` (Unix seconds) and a
 * `Random`; nothing reads a clock. Iteration follows table slots and an
 * insertion-ordered sample vector, never the order of string-keyed objects,
 * so the same seed and the same calls give the same answers.
 *
 * `serialize` / `AddressBook.deserialize` persist the book in a versioned
 * binary format with a checksum; a corrupt or truncated file throws
 * `WireError` (the one typed decoding error of bitp2p).
 */
import { WireError, hasServices } from '@bitp2p/wire'
import { ByteReader, ByteWriter, bip155AddressLength } from '@bitp2p/wire/codecs'
import { sha256, sha256d } from '@bitp2p/wire/hash'
import type { Random } from '../ports.js'
import {
  type AddressLike,
  type Endpoint,
  MAX_GROUP_BYTES,
  endpointBytes,
  endpointKey,
  isRoutable,
  isValidEndpoint,
  netGroup,
  sourceGroup,
  toEndpoint,
} from './netgroup.js'

// ---------------------------------------------------------------------------
// Tunables (Core's values unless marked "ours")

/** Buckets of the new table (Core: 1024). */
export const NEW_BUCKET_COUNT = 1024
/** Buckets of the tried table (Core: 256). */
export const TRIED_BUCKET_COUNT = 256
/** Slots per bucket, both tables (Core: 64). */
export const BUCKET_SIZE = 64
/** New buckets one source group can reach (Core: 64). */
export const NEW_BUCKETS_PER_SOURCE_GROUP = 64
/** Tried buckets one address group can reach (Core: 8). */
export const TRIED_BUCKETS_PER_GROUP = 8
/** Most new-table copies of one address (Core: 8). */
export const NEW_BUCKETS_PER_ADDRESS = 8
/** Addresses not seen for this many days are terrible (Core: 30). */
export const HORIZON_DAYS = 30
/** Failed attempts after which a never-connected address is terrible (Core: 3). */
export const MAX_RETRIES = 3
/** Failed attempts after which any address is terrible... (Core: 10) */
export const MAX_FAILURES = 10
/** ...if it has not connected for this many days (Core: 7). */
export const MIN_FAIL_DAYS = 7
/** A tried entry that connected this recently is never evicted by a collision (Core: 4 h). */
export const REPLACEMENT_SECONDS = 4 * 3600
/** A collision unresolved for this long evicts the old entry (Core: 40 min). */
export const TEST_WINDOW_SECONDS = 40 * 60
/** A feeler to the old entry of a collision gets this long to connect (Core: 60 s). */
export const FEELER_GRACE_SECONDS = 60
/** Most pending tried collisions (Core: 10). */
export const MAX_TRIED_COLLISIONS = 10
/** Default age penalty for addresses relayed by someone else (Core: 2 h). */
export const DEFAULT_TIME_PENALTY = 2 * 3600
/** A `time` this far in the future is a lie (Core: 10 min). */
export const MAX_FUTURE_SECONDS = 10 * 60
/** Times at or below this are not real timestamps (Core's net_processing: 100000000). */
export const MIN_PLAUSIBLE_TIME = 100_000_000
/** Age given to an address whose `time` is implausible (Core's net_processing: 5 days). */
export const IMPLAUSIBLE_TIME_AGE = 5 * 86400
/** `connected` refreshes `time` at most this often (Core: 20 min). */
export const CONNECTED_UPDATE_SECONDS = 20 * 60
/** A tried this recently cuts the selection chance to 1 % (Core: 10 min). */
export const RECENT_TRY_SECONDS = 10 * 60
/** Default share of the book (%) in a getaddr answer (Core: 23). */
export const GETADDR_MAX_PCT = 23
/** Default cap on a getaddr answer (Core: 1000, MAX_ADDR_TO_SEND). */
export const GETADDR_MAX = 1000
/**
 * Bucket draws `select` makes before it falls back to scanning the table
 * (ours: Core loops until it finds one, which cannot end when a filter
 * such as `requiredServices` matches nothing).
 */
export const MAX_SELECT_DRAWS = 4096

/** Bytes of the secret bucket key. */
export const ADDRESS_BOOK_KEY_BYTES = 32
/** Format magic of a serialized address book: 'BPAB'. */
export const ADDRESS_BOOK_MAGIC = Uint8Array.of(0x42, 0x50, 0x41, 0x42)
/** Current format version of `serialize`. */
export const ADDRESS_BOOK_FORMAT_VERSION = 1
/** Most buckets in either table of a book (bounds what a file may ask us to allocate). */
export const MAX_BUCKETS = 1 << 16
/** Most slots per bucket. */
export const MAX_BUCKET_SIZE = 1 << 10
/** Most slots in one table: 4M slots of 4 bytes = 16 MB. */
export const MAX_TABLE_SLOTS = 1 << 22
/** `attempts` is stored in one byte; larger counts are stored as this. */
export const MAX_STORED_ATTEMPTS = 255
/** Most new-table copies a file may give one entry. */
export const MAX_STORED_REFS = 255

/** Header: magic 4, version 1, body length 4. */
const HEADER_BYTES = 9
const CHECKSUM_BYTES = 4
/** Smallest entry: net 1, IPv4 4, port 2, services 8, 4 times 16, attempts 1, source len 1 + 1 byte, table 1, 1 ref (1 + 4). */
const MIN_ENTRY_BYTES = 1 + 4 + 2 + 8 + 16 + 1 + 2 + 1
const DAY = 86400
const U32_MAX = 0xffffffff

// Domain-separation tags of the keyed hashes.
const TAG_NEW_GROUP = 1
const TAG_NEW_BUCKET = 2
const TAG_TRIED_GROUP = 3
const TAG_TRIED_BUCKET = 4
const TAG_POSITION = 5

// ---------------------------------------------------------------------------
// Public shapes

/** Which table an entry is in. */
export type BookTable = 'new' | 'tried'

/** A read-only snapshot of one entry. */
export interface BookEntry {
  readonly addr: Endpoint
  /** Service flags we believe it offers. */
  readonly services: bigint
  /** When it was last seen (gossiped or connected), Unix seconds. */
  readonly time: number
  /** Our last connection attempt, 0 if never. */
  readonly lastTry: number
  /** Our last successful connection, 0 if never. */
  readonly lastSuccess: number
  /** Failed attempts since the last success. */
  readonly attempts: number
  readonly table: BookTable
  /** New-table slots holding it (0 when tried). */
  readonly refs: number
}

/** One address to add: an addr / addrv2 entry, or any AddressLike with services and time. */
export type AddressInput =
  | { readonly addr: AddressLike; readonly services: bigint; readonly time: number }
  | (AddressLike & { readonly services: bigint; readonly time: number })

/** Where an entry sits. */
export interface SlotRef {
  readonly table: BookTable
  readonly bucket: number
  readonly position: number
}

/** The numbers `isTerrible` and `selectionChance` look at. */
export interface EntryStats {
  readonly time: number
  readonly lastTry: number
  readonly lastSuccess: number
  readonly attempts: number
}

/** Thresholds of `isTerrible`. */
export interface TerriblePolicy {
  readonly horizonDays: number
  readonly maxRetries: number
  readonly maxFailures: number
  readonly minFailDays: number
}

const DEFAULT_TERRIBLE: TerriblePolicy = {
  horizonDays: HORIZON_DAYS,
  maxRetries: MAX_RETRIES,
  maxFailures: MAX_FAILURES,
  minFailDays: MIN_FAIL_DAYS,
}

/**
 * True when an entry is not worth keeping: seen too long ago, dated in the
 * future, or failing too often. An entry tried within the last minute is
 * never terrible (it may be connecting right now).
 */
export function isTerrible(e: EntryStats, now: number, policy: TerriblePolicy = DEFAULT_TERRIBLE): boolean {
  if (e.lastTry > 0 && now - e.lastTry <= FEELER_GRACE_SECONDS) return false
  if (e.time > now + MAX_FUTURE_SECONDS) return true
  if (now - e.time > policy.horizonDays * DAY) return true
  if (e.lastSuccess === 0 && e.attempts >= policy.maxRetries) return true
  if (now - e.lastSuccess > policy.minFailDays * DAY && e.attempts >= policy.maxFailures) return true
  return false
}

/**
 * Relative chance (0..1] that `select` accepts an entry it drew: 1 %
 * when tried in the last RECENT_TRY_SECONDS, times 0.66 per failed attempt
 * (counting at most 8).
 */
export function selectionChance(e: EntryStats, now: number): number {
  let chance = 1
  if (e.lastTry > 0 && now - e.lastTry < RECENT_TRY_SECONDS) chance *= 0.01
  return chance * 0.66 ** Math.min(e.attempts, 8)
}

/** Outcome of `good`. */
export type GoodResult =
  /** Moved from new to tried. */
  | 'tried'
  /** Already in tried; stats updated. */
  | 'already-tried'
  /** Its tried slot is taken; queued for test-before-evict (see `resolveCollisions`). */
  | 'collision'
  /** Not in the book. */
  | 'unknown'

/** Options of an AddressBook. Only `random` is required. */
export interface AddressBookOptions {
  /** Randomness for the key (when absent), selection, sampling and multiplicity. */
  readonly random: Random
  /** Secret bucket key, 32 bytes; drawn from `random` when absent. */
  readonly key?: Uint8Array
  readonly newBuckets?: number
  readonly triedBuckets?: number
  readonly bucketSize?: number
  readonly newBucketsPerSourceGroup?: number
  readonly triedBucketsPerGroup?: number
  readonly newBucketsPerAddress?: number
  readonly horizonDays?: number
  /** Failed attempts after which a never-connected address is terrible. */
  readonly maxRetries?: number
  readonly maxFailures?: number
  readonly minFailDays?: number
  /** Keep the tried occupant on a collision until tested (default true, as Core). */
  readonly testBeforeEvict?: boolean
}

/** Options of `select`. */
export interface SelectOptions {
  /** Unix seconds. */
  readonly now: number
  /** Only draw from the new table. */
  readonly newOnly?: boolean
  /** Only addresses of this BIP155 network. */
  readonly network?: number
  /** Only addresses whose services include all these bits. */
  readonly requiredServices?: bigint
}

/** Options of `getAddr`. */
export interface GetAddrOptions {
  /** Unix seconds (terrible entries are skipped). */
  readonly now: number
  /** Most of the book to return, in percent (default 23). */
  readonly maxPct?: number
  /** Most entries to return (default 1000; 0 for no cap). */
  readonly max?: number
  /** Only this BIP155 network. */
  readonly network?: number
}

/** Options of `add`. */
export interface AddOptions {
  /**
   * Seconds subtracted from relayed `time`s (default DEFAULT_TIME_PENALTY;
   * none for an address that is the source itself, as when a peer
   * advertises its own address).
   */
  readonly timePenalty?: number
}

// ---------------------------------------------------------------------------
// Internals

/** One known address and what we know about it. */
interface Info {
  readonly id: number
  readonly ep: Endpoint
  readonly key: string
  /** endpointBytes(ep), cached: hash input. */
  readonly epBytes: Uint8Array
  /** netGroup(ep), cached. */
  readonly group: Uint8Array
  /** Group of the source that first told us (decides its home new bucket). */
  readonly source: Uint8Array
  services: bigint
  time: number
  lastTry: number
  lastCountAttempt: number
  lastSuccess: number
  attempts: number
  /** New-table slot indices holding this entry (empty when tried). */
  newSlots: number[]
  inTried: boolean
  /** Index in the sample vector. */
  orderIndex: number
}

/** Clamp to a u32 count of seconds. */
function u32Time(t: number): number {
  if (!(t > 0)) return 0
  return t >= U32_MAX ? U32_MAX : Math.floor(t)
}

/** Geometry and tunables with defaults filled in. */
interface Params extends TerriblePolicy {
  readonly newBuckets: number
  readonly triedBuckets: number
  readonly bucketSize: number
  readonly newBucketsPerSourceGroup: number
  readonly triedBucketsPerGroup: number
  readonly newBucketsPerAddress: number
  readonly testBeforeEvict: boolean
}

function checkCount(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`AddressBook: ${name} must be an integer in [1, ${max}], got ${v}`)
  return v
}

function resolveParams(o: AddressBookOptions): Params {
  const p: Params = {
    newBuckets: checkCount('newBuckets', o.newBuckets ?? NEW_BUCKET_COUNT, MAX_BUCKETS),
    triedBuckets: checkCount('triedBuckets', o.triedBuckets ?? TRIED_BUCKET_COUNT, MAX_BUCKETS),
    bucketSize: checkCount('bucketSize', o.bucketSize ?? BUCKET_SIZE, MAX_BUCKET_SIZE),
    newBucketsPerSourceGroup: checkCount('newBucketsPerSourceGroup', o.newBucketsPerSourceGroup ?? NEW_BUCKETS_PER_SOURCE_GROUP, MAX_BUCKETS),
    triedBucketsPerGroup: checkCount('triedBucketsPerGroup', o.triedBucketsPerGroup ?? TRIED_BUCKETS_PER_GROUP, MAX_BUCKETS),
    newBucketsPerAddress: checkCount('newBucketsPerAddress', o.newBucketsPerAddress ?? NEW_BUCKETS_PER_ADDRESS, MAX_STORED_REFS),
    horizonDays: o.horizonDays ?? HORIZON_DAYS,
    maxRetries: o.maxRetries ?? MAX_RETRIES,
    maxFailures: o.maxFailures ?? MAX_FAILURES,
    minFailDays: o.minFailDays ?? MIN_FAIL_DAYS,
    testBeforeEvict: o.testBeforeEvict ?? true,
  }
  if (p.newBuckets * p.bucketSize > MAX_TABLE_SLOTS || p.triedBuckets * p.bucketSize > MAX_TABLE_SLOTS) {
    throw new RangeError(`AddressBook: a table may hold at most ${MAX_TABLE_SLOTS} slots`)
  }
  return p
}

function corrupt(message: string, field: string): WireError {
  return new WireError('INVALID_VALUE', `address book: ${message}`, { field })
}

/** Normalise an AddressInput to endpoint, services and time (undefined when it names no address). */
function readInput(e: AddressInput): { ep: Endpoint; services: bigint; time: number } | undefined {
  const addr: AddressLike = 'addr' in e && !(e.addr instanceof Uint8Array) ? (e.addr as AddressLike) : (e as AddressLike)
  const ep = toEndpoint(addr)
  return ep ? { ep, services: e.services, time: e.time } : undefined
}

// ---------------------------------------------------------------------------

/**
 * A Core-style bucketed address book (see the module doc).
 *
 * Every method that depends on time takes `now` in Unix seconds.
 */
export class AddressBook {
  readonly #random: Random
  readonly #key: Uint8Array
  readonly #p: Params
  /** Slot -> entry id, -1 when empty. Slot = bucket * bucketSize + position. */
  readonly #newTable: Int32Array
  readonly #triedTable: Int32Array
  readonly #newFill: Uint16Array
  readonly #triedFill: Uint16Array
  readonly #byId = new Map<number, Info>()
  readonly #byKey = new Map<string, Info>()
  /** Every entry id, for uniform sampling (getAddr); order changes only by our own shuffles. */
  readonly #order: number[] = []
  /** Ids waiting on a tried collision, in arrival order. */
  readonly #collisions = new Set<number>()
  /** Entries per BIP155 network id: [new, tried]. */
  readonly #netCounts = new Map<number, [number, number]>()
  #nextId = 0
  #nNew = 0
  #nTried = 0
  /** Last time any address was marked good: failures only count once per success round (Core's m_last_good). */
  #lastGood = 1

  constructor(options: AddressBookOptions) {
    this.#random = options.random
    this.#p = resolveParams(options)
    if (options.key !== undefined) {
      if (options.key.length !== ADDRESS_BOOK_KEY_BYTES) {
        throw new RangeError(`AddressBook: key must be ${ADDRESS_BOOK_KEY_BYTES} bytes, got ${options.key.length}`)
      }
      this.#key = options.key.slice()
    } else {
      const key = new Uint8Array(ADDRESS_BOOK_KEY_BYTES)
      const dv = new DataView(key.buffer)
      for (let i = 0; i < ADDRESS_BOOK_KEY_BYTES; i += 4) dv.setUint32(i, this.#random.u32(), true)
      this.#key = key
    }
    this.#newTable = new Int32Array(this.#p.newBuckets * this.#p.bucketSize).fill(-1)
    this.#triedTable = new Int32Array(this.#p.triedBuckets * this.#p.bucketSize).fill(-1)
    this.#newFill = new Uint16Array(this.#p.newBuckets)
    this.#triedFill = new Uint16Array(this.#p.triedBuckets)
  }

  // -- sizes -----------------------------------------------------------------

  /** Number of distinct addresses known. */
  get size(): number {
    return this.#byId.size
  }

  /** Entries per table, in total and per BIP155 network (networks in ascending id order). */
  counts(): { new: number; tried: number; byNetwork: { network: number; new: number; tried: number }[] } {
    const byNetwork = [...this.#netCounts.entries()]
      .filter(([, c]) => c[0] + c[1] > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([network, c]) => ({ network, new: c[0], tried: c[1] }))
    return { new: this.#nNew, tried: this.#nTried, byNetwork }
  }

  // -- hashing ---------------------------------------------------------------

  /** Keyed hash of length-prefixed parts, as a 48-bit integer. */
  #hash(tag: number, parts: readonly Uint8Array[]): number {
    let len = ADDRESS_BOOK_KEY_BYTES + 1
    for (const p of parts) len += 1 + p.length
    const buf = new Uint8Array(len)
    buf.set(this.#key)
    let o = ADDRESS_BOOK_KEY_BYTES
    buf[o++] = tag
    for (const p of parts) {
      buf[o++] = p.length
      buf.set(p, o)
      o += p.length
    }
    const d = sha256(buf)
    return (d[0]! * 2 ** 40) + (d[1]! * 2 ** 32) + ((d[2]! << 24) >>> 0) + (d[3]! << 16) + (d[4]! << 8) + d[5]!
  }

  /** Core's idea: the source group picks one of its NEW_BUCKETS_PER_SOURCE_GROUP buckets by the address group. */
  #newBucket(group: Uint8Array, source: Uint8Array): number {
    const inner = this.#hash(TAG_NEW_GROUP, [group, source]) % this.#p.newBucketsPerSourceGroup
    return this.#hash(TAG_NEW_BUCKET, [source, u32Bytes(inner)]) % this.#p.newBuckets
  }

  /** The address group picks one of its TRIED_BUCKETS_PER_GROUP buckets by the full address. */
  #triedBucket(epBytes: Uint8Array, group: Uint8Array): number {
    const inner = this.#hash(TAG_TRIED_GROUP, [epBytes]) % this.#p.triedBucketsPerGroup
    return this.#hash(TAG_TRIED_BUCKET, [group, u32Bytes(inner)]) % this.#p.triedBuckets
  }

  #position(table: BookTable, bucket: number, epBytes: Uint8Array): number {
    return this.#hash(TAG_POSITION, [Uint8Array.of(table === 'new' ? 0 : 1), u32Bytes(bucket), epBytes]) % this.#p.bucketSize
  }

  #newSlotOf(epBytes: Uint8Array, group: Uint8Array, source: Uint8Array): number {
    const bucket = this.#newBucket(group, source)
    return bucket * this.#p.bucketSize + this.#position('new', bucket, epBytes)
  }

  #triedSlotOf(epBytes: Uint8Array, group: Uint8Array): number {
    const bucket = this.#triedBucket(epBytes, group)
    return bucket * this.#p.bucketSize + this.#position('tried', bucket, epBytes)
  }

  /** The new-table slot `addr` would take when told by `source` (for tests and diagnostics). */
  newSlotFor(addr: AddressLike, source: AddressLike): { bucket: number; position: number } | undefined {
    const ep = toEndpoint(addr)
    if (!ep || !isValidEndpoint(ep)) return undefined
    return this.#slotRef(this.#newSlotOf(endpointBytes(ep), netGroup(ep), sourceGroup(source)))
  }

  /** The tried-table slot of `addr` (for tests and diagnostics). */
  triedSlotFor(addr: AddressLike): { bucket: number; position: number } | undefined {
    const ep = toEndpoint(addr)
    if (!ep || !isValidEndpoint(ep)) return undefined
    return this.#slotRef(this.#triedSlotOf(endpointBytes(ep), netGroup(ep)))
  }

  #slotRef(slot: number): { bucket: number; position: number } {
    return { bucket: Math.floor(slot / this.#p.bucketSize), position: slot % this.#p.bucketSize }
  }

  // -- lookup ----------------------------------------------------------------

  #find(addr: AddressLike): Info | undefined {
    const ep = toEndpoint(addr)
    if (!ep || !isValidEndpoint(ep)) return undefined
    return this.#byKey.get(endpointKey(ep))
  }

  /** True when the address (with its port) is in the book. */
  has(addr: AddressLike): boolean {
    return this.#find(addr) !== undefined
  }

  /** A snapshot of the entry for `addr`, if known. */
  get(addr: AddressLike): BookEntry | undefined {
    const info = this.#find(addr)
    return info ? this.#view(info) : undefined
  }

  /** Where `addr` sits: its tried slot, or each of its new slots. Empty when unknown. */
  positions(addr: AddressLike): SlotRef[] {
    const info = this.#find(addr)
    if (!info) return []
    if (info.inTried) {
      const slot = this.#triedSlotOf(info.epBytes, info.group)
      return [{ table: 'tried', ...this.#slotRef(slot) }]
    }
    return info.newSlots.map((s) => ({ table: 'new' as const, ...this.#slotRef(s) }))
  }

  /** Snapshots of every entry, in sample-vector order. */
  entries(): BookEntry[] {
    return this.#order.map((id) => this.#view(this.#byId.get(id)!))
  }

  #view(info: Info): BookEntry {
    return {
      addr: { network: info.ep.network, bytes: info.ep.bytes.slice(), port: info.ep.port },
      services: info.services,
      time: info.time,
      lastTry: info.lastTry,
      lastSuccess: info.lastSuccess,
      attempts: info.attempts,
      table: info.inTried ? 'tried' : 'new',
      refs: info.newSlots.length,
    }
  }

  // -- bookkeeping -------------------------------------------------------------

  #netCount(network: number): [number, number] {
    let c = this.#netCounts.get(network)
    if (!c) {
      c = [0, 0]
      this.#netCounts.set(network, c)
    }
    return c
  }

  #create(ep: Endpoint, services: bigint, time: number, source: Uint8Array): Info {
    const epBytes = endpointBytes(ep)
    const info: Info = {
      id: this.#nextId++,
      ep: { network: ep.network, bytes: ep.bytes.slice(), port: ep.port },
      key: endpointKey(ep),
      epBytes,
      group: netGroup(ep),
      source: source.slice(),
      services,
      time,
      lastTry: 0,
      lastCountAttempt: 0,
      lastSuccess: 0,
      attempts: 0,
      newSlots: [],
      inTried: false,
      orderIndex: this.#order.length,
    }
    this.#byId.set(info.id, info)
    this.#byKey.set(info.key, info)
    this.#order.push(info.id)
    return info
  }

  /** Forget an entry that holds no slot. */
  #delete(info: Info): void {
    this.#byId.delete(info.id)
    this.#byKey.delete(info.key)
    this.#collisions.delete(info.id)
    // Swap-remove from the sample vector.
    const last = this.#order.pop()!
    if (last !== info.id) {
      this.#order[info.orderIndex] = last
      this.#byId.get(last)!.orderIndex = info.orderIndex
    }
  }

  /** Put `info` into an empty new slot. */
  #placeNew(info: Info, slot: number): void {
    this.#newTable[slot] = info.id
    this.#newFill[Math.floor(slot / this.#p.bucketSize)]!++
    info.newSlots.push(slot)
    if (info.newSlots.length === 1) {
      this.#nNew++
      this.#netCount(info.ep.network)[0]++
    }
  }

  /** Empty a new slot; its occupant is forgotten when that was its last copy. */
  #clearNew(slot: number): void {
    const id = this.#newTable[slot]!
    if (id === -1) return
    const info = this.#byId.get(id)!
    this.#newTable[slot] = -1
    this.#newFill[Math.floor(slot / this.#p.bucketSize)]!--
    info.newSlots.splice(info.newSlots.indexOf(slot), 1)
    if (info.newSlots.length === 0) {
      this.#nNew--
      this.#netCount(info.ep.network)[0]--
      this.#delete(info)
    }
  }

  /** Move a new entry to tried; a tried occupant of its slot goes back to new. */
  #makeTried(info: Info): void {
    for (const slot of info.newSlots) {
      this.#newTable[slot] = -1
      this.#newFill[Math.floor(slot / this.#p.bucketSize)]!--
    }
    info.newSlots = []
    this.#nNew--
    this.#netCount(info.ep.network)[0]--

    const tslot = this.#triedSlotOf(info.epBytes, info.group)
    const oldId = this.#triedTable[tslot]!
    if (oldId !== -1) {
      const old = this.#byId.get(oldId)!
      old.inTried = false
      this.#triedTable[tslot] = -1
      this.#triedFill[Math.floor(tslot / this.#p.bucketSize)]!--
      this.#nTried--
      this.#netCount(old.ep.network)[1]--
      // Back to the new slot of its first source, replacing whatever is there.
      const nslot = this.#newSlotOf(old.epBytes, old.group, old.source)
      this.#clearNew(nslot)
      this.#placeNew(old, nslot)
    }
    this.#triedTable[tslot] = info.id
    this.#triedFill[Math.floor(tslot / this.#p.bucketSize)]!++
    info.inTried = true
    this.#nTried++
    this.#netCount(info.ep.network)[1]++
  }

  // -- inputs ------------------------------------------------------------------

  /**
   * Learn addresses from `source` (the peer that sent them, or a seed's
   * name). Unroutable addresses, port 0, and addresses already past the
   * horizon are ignored. An implausible `time` (at or below
   * MIN_PLAUSIBLE_TIME, or more than MAX_FUTURE_SECONDS ahead) is replaced
   * by five days ago, as Core's net_processing does.
   *
   * @returns how many addresses were new to the book.
   */
  add(entries: readonly AddressInput[], source: AddressLike, now: number, options: AddOptions = {}): number {
    const srcGroup = sourceGroup(source)
    const srcEp = toEndpoint(source)
    const srcKey = srcEp && isValidEndpoint(srcEp) ? endpointKey(srcEp) : undefined
    const penalty = options.timePenalty ?? DEFAULT_TIME_PENALTY
    let added = 0
    for (const e of entries) {
      const input = readInput(e)
      if (!input || !isRoutable(input.ep) || input.ep.port === 0) continue
      let time = input.time
      if (!(time > MIN_PLAUSIBLE_TIME) || time > now + MAX_FUTURE_SECONDS) time = now - IMPLAUSIBLE_TIME_AGE
      if (now - time > this.#p.horizonDays * DAY) continue
      const key = endpointKey(input.ep)
      if (this.#addOne(input.ep, key, input.services, u32Time(time), srcGroup, key === srcKey ? 0 : penalty, now)) added++
    }
    return added
  }

  /** Core's AddSingle: returns true when a new entry was stored. */
  #addOne(ep: Endpoint, key: string, services: bigint, time: number, srcGroup: Uint8Array, penalty: number, now: number): boolean {
    let info = this.#byKey.get(key)
    let isNew = false
    if (info) {
      // Periodically refresh `time`: hourly for addresses seen within a day, daily otherwise.
      const interval = now - time < DAY ? 3600 : DAY
      if (time - penalty - interval > info.time) info.time = u32Time(time - penalty)
      info.services |= services
      if (time <= info.time) return false
      if (info.inTried || info.newSlots.length >= this.#p.newBucketsPerAddress) return false
      // Each further copy is half as likely as the one before.
      if (info.newSlots.length > 0 && this.#random.int(2 ** info.newSlots.length) !== 0) return false
    } else {
      info = this.#create(ep, services, u32Time(time - penalty), srcGroup)
      isNew = true
    }
    const slot = this.#newSlotOf(info.epBytes, info.group, srcGroup)
    const occupant = this.#newTable[slot]!
    if (occupant === info.id) return false
    let insert = occupant === -1
    if (!insert) {
      const other = this.#byId.get(occupant)!
      // Take the slot from a stale entry, or from one that has copies elsewhere.
      insert = isTerrible(other, now, this.#p) || (other.newSlots.length > 1 && info.newSlots.length === 0)
    }
    if (insert) {
      this.#clearNew(slot)
      this.#placeNew(info, slot)
      return isNew
    }
    if (info.newSlots.length === 0) this.#delete(info)
    return false
  }

  /**
   * We completed a handshake with `addr`: reset its failures and move it to
   * tried. When its tried slot is taken and test-before-evict is on, it
   * stays in new and joins the collision queue instead.
   */
  good(addr: AddressLike, now: number): GoodResult {
    const info = this.#find(addr)
    if (!info) return 'unknown'
    const t = u32Time(now)
    this.#lastGood = t
    info.lastSuccess = t
    info.lastTry = t
    info.attempts = 0
    if (info.inTried) return 'already-tried'
    return this.#promote(info)
  }

  #promote(info: Info): GoodResult {
    const tslot = this.#triedSlotOf(info.epBytes, info.group)
    const occupant = this.#triedTable[tslot]!
    if (this.#p.testBeforeEvict && occupant !== -1) {
      if (this.#collisions.size < MAX_TRIED_COLLISIONS) this.#collisions.add(info.id)
      return 'collision'
    }
    this.#makeTried(info)
    return 'tried'
  }

  /**
   * We tried to connect to `addr`. With `countFailure` (the default) this
   * counts as a failed attempt, but only once per round of successes
   * (Core's rule: failures while we are offline should not ruin the book).
   */
  attempt(addr: AddressLike, now: number, countFailure = true): void {
    const info = this.#find(addr)
    if (!info) return
    const t = u32Time(now)
    info.lastTry = t
    if (countFailure && info.lastCountAttempt < this.#lastGood) {
      info.lastCountAttempt = t
      info.attempts++
    }
  }

  /** A connection to `addr` is (still) up: refresh its `time`, at most every CONNECTED_UPDATE_SECONDS. */
  connected(addr: AddressLike, now: number): void {
    const info = this.#find(addr)
    if (info && now - info.time > CONNECTED_UPDATE_SECONDS) info.time = u32Time(now)
  }

  /** Replace the services we believe `addr` offers (from its version message). */
  setServices(addr: AddressLike, services: bigint): void {
    const info = this.#find(addr)
    if (info) info.services = services
  }

  /**
   * Settle pending tried collisions. For each, the new candidate takes the
   * slot when the old entry failed its test (tried over FEELER_GRACE_SECONDS
   * ago without success in REPLACEMENT_SECONDS) or nobody tested it within
   * TEST_WINDOW_SECONDS; the old entry stays when it connected recently.
   * @returns how many collisions were settled (removed from the queue).
   */
  resolveCollisions(now: number): number {
    let settled = 0
    for (const id of [...this.#collisions]) {
      const info = this.#byId.get(id)
      let done = false
      if (!info || info.inTried) {
        done = true
      } else {
        const tslot = this.#triedSlotOf(info.epBytes, info.group)
        const oldId = this.#triedTable[tslot]!
        if (oldId === -1) {
          this.#makeTried(info)
          done = true
        } else {
          const old = this.#byId.get(oldId)!
          if (now - old.lastSuccess < REPLACEMENT_SECONDS) {
            // The old entry answered recently: keep it, drop the candidate's claim.
            done = true
          } else if (now - old.lastTry < REPLACEMENT_SECONDS) {
            // Tested recently; after the grace period without success it loses.
            if (now - old.lastTry > FEELER_GRACE_SECONDS) {
              this.#makeTried(info)
              done = true
            }
          } else if (now - info.lastSuccess > TEST_WINDOW_SECONDS) {
            // Nobody managed to test the old entry in time: evict it.
            this.#makeTried(info)
            done = true
          }
        }
      }
      if (done) {
        this.#collisions.delete(id)
        settled++
      }
    }
    return settled
  }

  /** Pending tried collisions. */
  get collisionCount(): number {
    return this.#collisions.size
  }

  /**
   * The tried occupant of a random pending collision: the address a feeler
   * connection should test. Then call `good` or `attempt` for it and
   * `resolveCollisions`.
   */
  selectTriedCollision(): BookEntry | undefined {
    if (this.#collisions.size === 0) return undefined
    const ids = [...this.#collisions]
    const id = ids[this.#random.int(ids.length)]!
    const info = this.#byId.get(id)
    if (!info || info.inTried) {
      this.#collisions.delete(id)
      return undefined
    }
    const oldId = this.#triedTable[this.#triedSlotOf(info.epBytes, info.group)]!
    return oldId === -1 ? undefined : this.#view(this.#byId.get(oldId)!)
  }

  /**
   * Forget terrible entries of the new table (stale beyond the horizon, or
   * failing). Tried entries are kept: they leave only by eviction.
   * @returns how many were removed.
   */
  prune(now: number): number {
    let removed = 0
    for (let slot = 0; slot < this.#newTable.length; slot++) {
      const id = this.#newTable[slot]!
      if (id === -1) continue
      const info = this.#byId.get(id)!
      if (!isTerrible(info, now, this.#p)) continue
      // Clear every copy; the last clear forgets the entry.
      for (const s of [...info.newSlots]) this.#clearNew(s)
      removed++
    }
    return removed
  }

  // -- outputs -----------------------------------------------------------------

  /**
   * Choose an address to connect to (see the module doc), or undefined when
   * none matches. Filters apply inside the draw, so they do not bias the
   * table coin.
   */
  select(options: SelectOptions): BookEntry | undefined {
    const { now, newOnly = false, network, requiredServices = 0n } = options
    const c = network === undefined ? [this.#nNew, this.#nTried] : (this.#netCounts.get(network) ?? [0, 0])
    const nNew = c[0]!
    const nTried = c[1]!
    if (nNew + nTried === 0 || (newOnly && nNew === 0)) return undefined
    const useTried = !newOnly && nTried > 0 && (nNew === 0 || this.#random.int(2) === 0)
    const matches = (info: Info) =>
      (network === undefined || info.ep.network === network) && (requiredServices === 0n || hasServices(info.services, requiredServices))

    const found = this.#draw(useTried, matches, now)
    if (found) return this.#view(found)
    // Fallback: a weighted pick over the whole table, then the other one.
    const scan = this.#scan(useTried, matches, now) ?? (newOnly ? undefined : this.#scan(!useTried, matches, now))
    return scan ? this.#view(scan) : undefined
  }

  #draw(tried: boolean, matches: (info: Info) => boolean, now: number): Info | undefined {
    const table = tried ? this.#triedTable : this.#newTable
    const fill = tried ? this.#triedFill : this.#newFill
    const buckets = tried ? this.#p.triedBuckets : this.#p.newBuckets
    const size = this.#p.bucketSize
    let chanceFactor = 1
    for (let draw = 0; draw < MAX_SELECT_DRAWS; draw++) {
      const bucket = this.#random.int(buckets)
      if (fill[bucket] === 0) continue
      const start = this.#random.int(size)
      let info: Info | undefined
      for (let i = 0; i < size; i++) {
        const id = table[bucket * size + ((start + i) % size)]!
        if (id === -1) continue
        const candidate = this.#byId.get(id)!
        if (matches(candidate)) {
          info = candidate
          break
        }
      }
      if (!info) continue
      if (this.#random.float() < chanceFactor * selectionChance(info, now)) return info
      chanceFactor *= 1.2
    }
    return undefined
  }

  #scan(tried: boolean, matches: (info: Info) => boolean, now: number): Info | undefined {
    const table = tried ? this.#triedTable : this.#newTable
    const seen = new Set<number>()
    const pool: Info[] = []
    let total = 0
    for (let slot = 0; slot < table.length; slot++) {
      const id = table[slot]!
      if (id === -1 || seen.has(id)) continue
      seen.add(id)
      const info = this.#byId.get(id)!
      if (!matches(info)) continue
      pool.push(info)
      total += selectionChance(info, now)
    }
    if (pool.length === 0) return undefined
    let x = this.#random.float() * total
    for (const info of pool) {
      x -= selectionChance(info, now)
      if (x < 0) return info
    }
    return pool[pool.length - 1]
  }

  /**
   * A random sample of the book for answering getaddr: up to `maxPct`
   * percent of all entries and at most `max`, skipping terrible ones.
   */
  getAddr(options: GetAddrOptions): BookEntry[] {
    const { now, maxPct = GETADDR_MAX_PCT, max = GETADDR_MAX, network } = options
    const n = this.#order.length
    let want = Math.floor((n * Math.max(0, Math.min(100, maxPct))) / 100)
    if (max > 0) want = Math.min(want, max)
    const out: BookEntry[] = []
    // A partial Fisher-Yates shuffle of the sample vector.
    for (let i = 0; i < n && out.length < want; i++) {
      const j = i + this.#random.int(n - i)
      const a = this.#order[i]!
      const b = this.#order[j]!
      this.#order[i] = b
      this.#order[j] = a
      this.#byId.get(a)!.orderIndex = j
      const info = this.#byId.get(b)!
      info.orderIndex = i
      if (network !== undefined && info.ep.network !== network) continue
      if (isTerrible(info, now, this.#p)) continue
      out.push(this.#view(info))
    }
    return out
  }

  // -- persistence ---------------------------------------------------------------

  /**
   * The whole book as bytes:
   *   'BPAB' | version u8 | body length u32 | body | sha256d(all before)[0..4]
   * body: key 32 | newBuckets u32 | triedBuckets u32 | bucketSize u32
   *   | lastGood u32 | count CompactSize | entries (sample-vector order):
   *   network u8 | address | port u16be | services u64 | time, lastTry,
   *   lastCountAttempt, lastSuccess u32 | attempts u8 | source group
   *   (u8 length, bytes) | table u8 (0 new, 1 tried) | for new: refs u8,
   *   then each slot u32.
   * Pending collisions are not saved (as Core).
   */
  serialize(): Uint8Array {
    const w = new ByteWriter(64 + this.#byId.size * 64)
    w.bytes(this.#key).u32le(this.#p.newBuckets).u32le(this.#p.triedBuckets).u32le(this.#p.bucketSize)
    w.u32le(this.#lastGood).compactSize(this.#order.length)
    for (const id of this.#order) {
      const info = this.#byId.get(id)!
      w.u8(info.ep.network).bytes(info.ep.bytes).u16be(info.ep.port)
      w.u64le(info.services)
      w.u32le(info.time).u32le(info.lastTry).u32le(info.lastCountAttempt).u32le(info.lastSuccess)
      w.u8(Math.min(info.attempts, MAX_STORED_ATTEMPTS))
      w.u8(info.source.length).bytes(info.source)
      if (info.inTried) {
        w.u8(1)
      } else {
        w.u8(0).u8(info.newSlots.length)
        for (const s of info.newSlots) w.u32le(s)
      }
    }
    return frameStore(ADDRESS_BOOK_MAGIC, ADDRESS_BOOK_FORMAT_VERSION, w.finish())
  }

  /**
   * Restore a book from `serialize` output. The key and table geometry come
   * from the bytes; if `options` asks for a different key or geometry, the
   * entries are re-bucketed from their first source (some may then be lost
   * to collisions, as in Core). `options.random` drives the restored book.
   *
   * @throws WireError: TRUNCATED, TRAILING_BYTES, BAD_MAGIC, BAD_CHECKSUM,
   *   INVALID_VALUE (unknown version, impossible geometry, an entry that is
   *   invalid, duplicated, or not where the key puts it), OVERSIZE.
   */
  static deserialize(bytes: Uint8Array, options: AddressBookOptions): AddressBook {
    const r = new ByteReader(unframeStore(bytes, ADDRESS_BOOK_MAGIC, ADDRESS_BOOK_FORMAT_VERSION, 'address book'))
    const key = r.copy(ADDRESS_BOOK_KEY_BYTES, 'key')
    const newBuckets = r.u32le()
    const triedBuckets = r.u32le()
    const bucketSize = r.u32le()
    for (const [name, v, max] of [
      ['newBuckets', newBuckets, MAX_BUCKETS],
      ['triedBuckets', triedBuckets, MAX_BUCKETS],
      ['bucketSize', bucketSize, MAX_BUCKET_SIZE],
    ] as const) {
      if (v < 1 || v > max) throw corrupt(`${name} ${v} outside [1, ${max}]`, name)
    }
    if (newBuckets * bucketSize > MAX_TABLE_SLOTS || triedBuckets * bucketSize > MAX_TABLE_SLOTS) {
      throw corrupt('table too large', 'MAX_TABLE_SLOTS')
    }
    const rebucket =
      (options.key !== undefined && !sameBytes(options.key, key)) ||
      (options.newBuckets !== undefined && options.newBuckets !== newBuckets) ||
      (options.triedBuckets !== undefined && options.triedBuckets !== triedBuckets) ||
      (options.bucketSize !== undefined && options.bucketSize !== bucketSize)
    const book = new AddressBook(rebucket ? { ...options, key: options.key ?? key } : { ...options, key, newBuckets, triedBuckets, bucketSize })
    book.#lastGood = r.u32le()
    const count = r.count(newBuckets * bucketSize + triedBuckets * bucketSize, 'address book entries', MIN_ENTRY_BYTES)
    for (let i = 0; i < count; i++) book.#load(r, rebucket, newBuckets * bucketSize)
    r.done('address book')
    return book
  }

  /** Read one entry and place it (see `deserialize`). */
  #load(r: ByteReader, rebucket: boolean, storedNewSlots: number): void {
    const network = r.u8()
    const len = bip155AddressLength(network)
    if (len === undefined) throw corrupt(`unsupported network ${network}`, 'network')
    const ep: Endpoint = { network, bytes: r.copy(len, 'address'), port: r.u16be() }
    if (!isRoutable(ep) || ep.port === 0) throw corrupt('unroutable address', 'address')
    const services = r.u64le()
    const time = r.u32le()
    const lastTry = r.u32le()
    const lastCountAttempt = r.u32le()
    const lastSuccess = r.u32le()
    const attempts = r.u8()
    const srcLen = r.u8()
    if (srcLen < 1 || srcLen > MAX_GROUP_BYTES) throw corrupt(`source group of ${srcLen} bytes`, 'source')
    const source = r.copy(srcLen, 'source')
    const table = r.u8()
    if (table > 1) throw corrupt(`table ${table}`, 'table')
    const slots: number[] = []
    if (table === 0) {
      const refs = r.u8()
      if (refs < 1) throw corrupt('new entry without a slot', 'refs')
      for (let i = 0; i < refs; i++) {
        const s = r.u32le()
        if (s >= storedNewSlots) throw corrupt(`new slot ${s} out of range`, 'slot')
        slots.push(s)
      }
    }
    const key = endpointKey(ep)
    if (this.#byKey.has(key)) throw corrupt(`duplicate entry ${key}`, 'entry')

    const info = this.#create(ep, services, time, source)
    info.lastTry = lastTry
    info.lastCountAttempt = lastCountAttempt
    info.lastSuccess = lastSuccess
    info.attempts = attempts
    if (table === 1) {
      const tslot = this.#triedSlotOf(info.epBytes, info.group)
      if (this.#triedTable[tslot] === -1) {
        this.#triedTable[tslot] = info.id
        this.#triedFill[Math.floor(tslot / this.#p.bucketSize)]!++
        info.inTried = true
        this.#nTried++
        this.#netCount(network)[1]++
        return
      }
      if (!rebucket) throw corrupt(`tried slot of ${key} taken twice`, 'slot')
      // Re-bucketing: a tried entry that lost its slot goes back to new.
    }
    if (!rebucket && table === 0) {
      for (const s of slots) {
        const bucket = Math.floor(s / this.#p.bucketSize)
        if (this.#position('new', bucket, info.epBytes) !== s % this.#p.bucketSize) throw corrupt(`${key} is not at slot ${s}`, 'slot')
        if (this.#newTable[s] !== -1) throw corrupt(`new slot ${s} taken twice`, 'slot')
        this.#placeNew(info, s)
      }
      return
    }
    const slot = this.#newSlotOf(info.epBytes, info.group, info.source)
    if (this.#newTable[slot] === -1) this.#placeNew(info, slot)
    else this.#delete(info)
  }
}

// ---------------------------------------------------------------------------
// Shared helpers (also used by the ban list)

function u32Bytes(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Wrap a body: magic | version u8 | body length u32 | body | sha256d(all before)[0..4]. */
export function frameStore(magic: Uint8Array, version: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length + CHECKSUM_BYTES)
  out.set(magic)
  out[4] = version
  new DataView(out.buffer).setUint32(5, body.length, true)
  out.set(body, HEADER_BYTES)
  out.set(sha256d(out.subarray(0, HEADER_BYTES + body.length)).subarray(0, CHECKSUM_BYTES), HEADER_BYTES + body.length)
  return out
}

/**
 * Check a framed file in a fixed order (length of the header, magic,
 * version, body length against the bytes present, checksum) and return
 * a view of its body.
 */
export function unframeStore(bytes: Uint8Array, magic: Uint8Array, version: number, what: string): Uint8Array {
  const r = new ByteReader(bytes)
  r.need(HEADER_BYTES, `${what} header`)
  for (let i = 0; i < magic.length; i++) {
    if (bytes[i] !== magic[i]) throw new WireError('BAD_MAGIC', `${what}: bad magic`, { offset: i })
  }
  r.skip(magic.length)
  const v = r.u8()
  if (v !== version) {
    throw new WireError('INVALID_VALUE', `${what}: unsupported format version ${v}`, { field: 'version', expected: version, actual: v })
  }
  const len = r.u32le()
  r.need(len + CHECKSUM_BYTES, `${what} body`)
  if (r.remaining > len + CHECKSUM_BYTES) {
    throw new WireError('TRAILING_BYTES', `${what}: ${r.remaining - len - CHECKSUM_BYTES} bytes after the checksum`, {
      actual: r.remaining - len - CHECKSUM_BYTES,
    })
  }
  const end = HEADER_BYTES + len
  const sum = sha256d(bytes.subarray(0, end))
  for (let i = 0; i < CHECKSUM_BYTES; i++) {
    if (bytes[end + i] !== sum[i]) throw new WireError('BAD_CHECKSUM', `${what}: checksum mismatch`, { offset: end })
  }
  return bytes.subarray(HEADER_BYTES, end)
}

// ---------------------------------------------------------------------------

interface FifoEntry {
  readonly ep: Endpoint
  readonly key: string
  services: bigint
  time: number
}

/** Options of a FifoAddressBook. */
export interface FifoAddressBookOptions {
  readonly random: Random
  /** Most addresses kept (default: the slots of a default AddressBook's new table). */
  readonly capacity?: number
}

/**
 * A naive address book for comparison: keeps the most recent `capacity`
 * addresses whatever their source, and selects uniformly among them. One
 * source that sends many addresses owns the book in proportion.
 */
export class FifoAddressBook {
  readonly #random: Random
  readonly #capacity: number
  /** Ring buffer of entries; `#head` is the oldest once full. */
  readonly #ring: FifoEntry[] = []
  readonly #index = new Map<string, number>()
  #head = 0

  constructor(options: FifoAddressBookOptions) {
    this.#random = options.random
    this.#capacity = checkCount('capacity', options.capacity ?? NEW_BUCKET_COUNT * BUCKET_SIZE, MAX_TABLE_SLOTS)
  }

  /** Number of addresses kept. */
  get size(): number {
    return this.#ring.length
  }

  /** Learn addresses (routable, nonzero port); the oldest fall out when full. @returns how many were new. */
  add(entries: readonly AddressInput[], source: AddressLike, now: number): number {
    void source
    void now
    let added = 0
    for (const e of entries) {
      const input = readInput(e)
      if (!input || !isRoutable(input.ep) || input.ep.port === 0) continue
      const key = endpointKey(input.ep)
      const at = this.#index.get(key)
      if (at !== undefined) {
        const old = this.#ring[at]!
        old.time = Math.max(old.time, input.time)
        old.services |= input.services
        continue
      }
      const entry = { ep: input.ep, key, services: input.services, time: input.time }
      if (this.#ring.length < this.#capacity) {
        this.#index.set(key, this.#ring.length)
        this.#ring.push(entry)
      } else {
        this.#index.delete(this.#ring[this.#head]!.key)
        this.#ring[this.#head] = entry
        this.#index.set(key, this.#head)
        this.#head = (this.#head + 1) % this.#capacity
      }
      added++
    }
    return added
  }

  /** Snapshots of every address kept, oldest first. */
  entries(): BookEntry[] {
    const n = this.#ring.length
    const out: BookEntry[] = []
    for (let i = 0; i < n; i++) out.push(fifoView(this.#ring[(this.#head + i) % n]!))
    return out
  }

  /** A uniformly random address matching the filters (`newOnly` has no meaning here and is ignored). */
  select(options: SelectOptions): BookEntry | undefined {
    const { network, requiredServices = 0n } = options
    const ok = (e: FifoEntry) =>
      (network === undefined || e.ep.network === network) && (requiredServices === 0n || hasServices(e.services, requiredServices))
    if (this.#ring.length === 0) return undefined
    let e = this.#ring[this.#random.int(this.#ring.length)]!
    if (!ok(e)) {
      const pool = this.#ring.filter(ok)
      if (pool.length === 0) return undefined
      e = pool[this.#random.int(pool.length)]!
    }
    return fifoView(e)
  }
}

function fifoView(e: FifoEntry): BookEntry {
  return { addr: e.ep, services: e.services, time: e.time, lastTry: 0, lastSuccess: 0, attempts: 0, table: 'new', refs: 1 }
}
