/**
 * BIP157 compact block filter messages (served by NODE_COMPACT_FILTERS peers).
 *
 * getcfilters   u8 filterType | u32 startHeight | 32-byte stopHash
 * cfilter       u8 filterType | 32-byte blockHash | varbytes filter
 * getcfheaders  u8 filterType | u32 startHeight | 32-byte stopHash
 * cfheaders     u8 filterType | 32-byte stopHash | 32-byte prevFilterHeader
 *               | CompactSize n (<= 2000) | n x 32-byte filter hash
 * getcfcheckpt  u8 filterType | 32-byte stopHash
 * cfcheckpt     u8 filterType | 32-byte stopHash | CompactSize n | n x 32-byte filter header
 *
 * Unknown filter types are decoded as-is: whether to serve or punish them is
 * policy, not layout. The height-range limits (MAX_GETCFILTERS_SIZE,
 * MAX_GETCFHEADERS_SIZE) need the chain to check and are exported for the
 * session layer; the codec enforces the list lengths it can see.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import type { Codec, CodecContext } from './codec.js'

/** BIP158 filter types. */
export const FilterType = {
  /** The basic filter: output scripts and spent prevout scripts (BIP158). */
  BASIC: 0,
} as const

/** BIP157: most blocks one getcfilters may cover (stop height - start height + 1). */
export const MAX_GETCFILTERS_SIZE = 1000
/** BIP157: most filter hashes one cfheaders may carry (and blocks one getcfheaders may cover). */
export const MAX_GETCFHEADERS_SIZE = 2000
/** BIP157: blocks between two cfcheckpt checkpoints. */
export const CFCHECKPT_INTERVAL = 1000
/**
 * Most headers we accept in one cfcheckpt: one per CFCHECKPT_INTERVAL blocks
 * for chains up to 100 million blocks (BIP157 itself sets no limit; Core is
 * bounded only by the 4 MB message size, which allows ~125,000).
 */
export const MAX_CFCHECKPT_HEADERS = 100_000

/** getcfilters / getcfheaders payload: type + height + hash. */
export const GETCF_RANGE_PAYLOAD_BYTES = 1 + 4 + 32
/** getcfcheckpt payload: type + hash. */
export const GETCFCHECKPT_PAYLOAD_BYTES = 1 + 32
/** Largest cfheaders payload. */
export const MAX_CFHEADERS_PAYLOAD = 1 + 32 + 32 + compactSizeLength(MAX_GETCFHEADERS_SIZE) + MAX_GETCFHEADERS_SIZE * 32
/** Largest cfcheckpt payload. */
export const MAX_CFCHECKPT_PAYLOAD = 1 + 32 + compactSizeLength(MAX_CFCHECKPT_HEADERS) + MAX_CFCHECKPT_HEADERS * 32

/** getcfilters: ask for the filters of blocks startHeight..height(stopHash). */
export interface GetcfiltersMessage {
  readonly command: 'getcfilters'
  readonly filterType: number
  readonly startHeight: number
  readonly stopHash: Uint8Array
}
/** cfilter: the filter of one block. */
export interface CfilterMessage {
  readonly command: 'cfilter'
  readonly filterType: number
  readonly blockHash: Uint8Array
  /** The serialized filter (CompactSize N then the Golomb-Rice bit stream); see block/gcs.ts. */
  readonly filter: Uint8Array
}
/** getcfheaders: ask for filter hashes of blocks startHeight..height(stopHash). */
export interface GetcfheadersMessage {
  readonly command: 'getcfheaders'
  readonly filterType: number
  readonly startHeight: number
  readonly stopHash: Uint8Array
}
/** cfheaders: filter hashes for a range, plus the filter header before it. */
export interface CfheadersMessage {
  readonly command: 'cfheaders'
  readonly filterType: number
  readonly stopHash: Uint8Array
  /** Filter header of the block before the first one covered. */
  readonly prevFilterHeader: Uint8Array
  /** sha256d of each block's filter, oldest first. */
  readonly filterHashes: readonly Uint8Array[]
}
/** getcfcheckpt: ask for the filter headers at every 1000th block up to stopHash. */
export interface GetcfcheckptMessage {
  readonly command: 'getcfcheckpt'
  readonly filterType: number
  readonly stopHash: Uint8Array
}
/** cfcheckpt: filter headers at heights 1000, 2000, ... up to stopHash. */
export interface CfcheckptMessage {
  readonly command: 'cfcheckpt'
  readonly filterType: number
  readonly stopHash: Uint8Array
  readonly filterHeaders: readonly Uint8Array[]
}

function checkListLength(command: string, n: number, limit: number, field: string): void {
  if (n > limit) throw new WireError('ENCODE_RANGE', `${command}: ${n} entries exceeds ${limit}`, { field, limit, actual: n })
}

function readHashes(r: ByteReader, limit: number, field: string): Uint8Array[] {
  const n = r.count(limit, field, 32)
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) out.push(r.hash())
  return out
}

/** The layout getcfilters and getcfheaders share; `make` builds the typed message from the decoded fields. */
function rangeRequestCodec<M extends GetcfiltersMessage | GetcfheadersMessage>(
  command: M['command'],
  make: (filterType: number, startHeight: number, stopHash: Uint8Array) => M,
): Codec<M> {
  return {
    command,
    maxPayload: () => GETCF_RANGE_PAYLOAD_BYTES,
    encode(w: ByteWriter, m: M) {
      w.u8(m.filterType).u32le(m.startHeight).hash(m.stopHash)
    },
    decode(r: ByteReader): M {
      const filterType = r.u8()
      const startHeight = r.u32le()
      const stopHash = r.hash()
      return make(filterType, startHeight, stopHash)
    },
  }
}

/** getcfilters (BIP157). */
export const getcfiltersCodec: Codec<GetcfiltersMessage> = rangeRequestCodec<GetcfiltersMessage>(
  'getcfilters',
  (filterType, startHeight, stopHash) => ({ command: 'getcfilters', filterType, startHeight, stopHash }),
)

/** cfilter (BIP157). The filter may be up to ctx.maxBlockPayload bytes. */
export const cfilterCodec: Codec<CfilterMessage> = {
  command: 'cfilter',
  maxPayload: (ctx: CodecContext) => 1 + 32 + compactSizeLength(ctx.maxBlockPayload) + ctx.maxBlockPayload,
  encode(w: ByteWriter, m: CfilterMessage, ctx: CodecContext) {
    checkListLength('cfilter filter bytes', m.filter.length, ctx.maxBlockPayload, 'maxBlockPayload')
    w.u8(m.filterType).hash(m.blockHash).varBytes(m.filter)
  },
  decode(r: ByteReader, ctx: CodecContext): CfilterMessage {
    const filterType = r.u8()
    const blockHash = r.hash()
    const filter = r.varBytes(ctx.maxBlockPayload, 'cfilter filter')
    return { command: 'cfilter', filterType, blockHash, filter }
  },
}

/** getcfheaders (BIP157). */
export const getcfheadersCodec: Codec<GetcfheadersMessage> = rangeRequestCodec<GetcfheadersMessage>(
  'getcfheaders',
  (filterType, startHeight, stopHash) => ({ command: 'getcfheaders', filterType, startHeight, stopHash }),
)

/** cfheaders (BIP157): at most MAX_GETCFHEADERS_SIZE filter hashes. */
export const cfheadersCodec: Codec<CfheadersMessage> = {
  command: 'cfheaders',
  maxPayload: () => MAX_CFHEADERS_PAYLOAD,
  encode(w: ByteWriter, m: CfheadersMessage) {
    checkListLength('cfheaders', m.filterHashes.length, MAX_GETCFHEADERS_SIZE, 'MAX_GETCFHEADERS_SIZE')
    w.u8(m.filterType).hash(m.stopHash).hash(m.prevFilterHeader).compactSize(m.filterHashes.length)
    for (const h of m.filterHashes) w.hash(h)
  },
  decode(r: ByteReader): CfheadersMessage {
    const filterType = r.u8()
    const stopHash = r.hash()
    const prevFilterHeader = r.hash()
    const filterHashes = readHashes(r, MAX_GETCFHEADERS_SIZE, 'cfheaders filter hashes')
    return { command: 'cfheaders', filterType, stopHash, prevFilterHeader, filterHashes }
  },
}

/** getcfcheckpt (BIP157). */
export const getcfcheckptCodec: Codec<GetcfcheckptMessage> = {
  command: 'getcfcheckpt',
  maxPayload: () => GETCFCHECKPT_PAYLOAD_BYTES,
  encode(w: ByteWriter, m: GetcfcheckptMessage) {
    w.u8(m.filterType).hash(m.stopHash)
  },
  decode(r: ByteReader): GetcfcheckptMessage {
    return { command: 'getcfcheckpt', filterType: r.u8(), stopHash: r.hash() }
  },
}

/** cfcheckpt (BIP157): at most MAX_CFCHECKPT_HEADERS filter headers. */
export const cfcheckptCodec: Codec<CfcheckptMessage> = {
  command: 'cfcheckpt',
  maxPayload: () => MAX_CFCHECKPT_PAYLOAD,
  encode(w: ByteWriter, m: CfcheckptMessage) {
    checkListLength('cfcheckpt', m.filterHeaders.length, MAX_CFCHECKPT_HEADERS, 'MAX_CFCHECKPT_HEADERS')
    w.u8(m.filterType).hash(m.stopHash).compactSize(m.filterHeaders.length)
    for (const h of m.filterHeaders) w.hash(h)
  },
  decode(r: ByteReader): CfcheckptMessage {
    const filterType = r.u8()
    const stopHash = r.hash()
    const filterHeaders = readHashes(r, MAX_CFCHECKPT_HEADERS, 'cfcheckpt filter headers')
    return { command: 'cfcheckpt', filterType, stopHash, filterHeaders }
  },
}
