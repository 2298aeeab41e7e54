/**
 * inv / getdata / notfound: lists of inventory vectors (type, hash).
 * `inv` announces objects, `getdata` asks for them, `notfound` answers a
 * getdata for objects the peer does not have. All three share one layout:
 *   CompactSize count | count x (u32 type | 32-byte hash)
 * Unknown types are decoded as-is; Core ignores them rather than failing.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import type { Codec } from './codec.js'

/** Core's MAX_INV_SZ: most entries in one inv/getdata/notfound. More is misbehaviour. */
export const MAX_INV_SIZE = 50_000
/** Bytes of one inventory vector: u32 type + 32-byte hash. */
export const INV_ITEM_BYTES = 36
/** Largest inventory payload: CompactSize(50000) + 50000 x 36. */
export const MAX_INV_PAYLOAD = compactSizeLength(MAX_INV_SIZE) + MAX_INV_SIZE * INV_ITEM_BYTES

/** BIP144: OR'ed into a type to ask for the object with its witness. */
export const MSG_WITNESS_FLAG = 1 << 30

/** Inventory types (Core's GetDataMsg, protocol.h). */
export const InvType = {
  ERROR: 0,
  MSG_TX: 1,
  MSG_BLOCK: 2,
  /** BIP37: a merkleblock for the peer's bloom filter. */
  MSG_FILTERED_BLOCK: 3,
  /** BIP152: a cmpctblock (getdata only). */
  MSG_CMPCT_BLOCK: 4,
  /** BIP339: a transaction announced or requested by wtxid. */
  MSG_WTX: 5,
  /** BIP144: a transaction with witness (getdata only). */
  MSG_WITNESS_TX: (MSG_WITNESS_FLAG | 1) >>> 0,
  /** BIP144: a block with witness (getdata only). */
  MSG_WITNESS_BLOCK: (MSG_WITNESS_FLAG | 2) >>> 0,
  /** Not used by Core; defined for completeness. */
  MSG_FILTERED_WITNESS_BLOCK: (MSG_WITNESS_FLAG | 3) >>> 0,
} as const

const INV_TYPE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [InvType.ERROR, 'ERROR'],
  [InvType.MSG_TX, 'MSG_TX'],
  [InvType.MSG_BLOCK, 'MSG_BLOCK'],
  [InvType.MSG_FILTERED_BLOCK, 'MSG_FILTERED_BLOCK'],
  [InvType.MSG_CMPCT_BLOCK, 'MSG_CMPCT_BLOCK'],
  [InvType.MSG_WTX, 'MSG_WTX'],
  [InvType.MSG_WITNESS_TX, 'MSG_WITNESS_TX'],
  [InvType.MSG_WITNESS_BLOCK, 'MSG_WITNESS_BLOCK'],
  [InvType.MSG_FILTERED_WITNESS_BLOCK, 'MSG_FILTERED_WITNESS_BLOCK'],
]

/** Name of an inventory type, e.g. 'MSG_WITNESS_TX'; unknown ones as 'UNKNOWN(0x...)'. */
export function invTypeName(type: number): string {
  for (const [t, name] of INV_TYPE_NAMES) if (t === type) return name
  return `UNKNOWN(0x${(type >>> 0).toString(16)})`
}

/** One inventory vector. */
export interface InvItem {
  /** An InvType value (u32); unknown values are kept. */
  readonly type: number
  /** Object hash (txid, wtxid or block hash), 32 bytes, internal byte order. */
  readonly hash: Uint8Array
}

/** inv: objects the peer has. */
export interface InvMessage {
  readonly command: 'inv'
  readonly items: readonly InvItem[]
}
/** getdata: objects the peer asks for. */
export interface GetdataMessage {
  readonly command: 'getdata'
  readonly items: readonly InvItem[]
}
/** notfound: objects the peer does not have. */
export interface NotfoundMessage {
  readonly command: 'notfound'
  readonly items: readonly InvItem[]
}

type InventoryMessage = InvMessage | GetdataMessage | NotfoundMessage

/** The shared layout; `make` builds the typed message from the decoded items. */
function inventoryCodec<M extends InventoryMessage>(command: M['command'], make: (items: InvItem[]) => M): Codec<M> {
  return {
    command,
    maxPayload: () => MAX_INV_PAYLOAD,
    encode(w: ByteWriter, m: M) {
      if (m.items.length > MAX_INV_SIZE) {
        throw new WireError('ENCODE_RANGE', `${command}: ${m.items.length} items exceeds ${MAX_INV_SIZE}`, {
          field: 'MAX_INV_SIZE',
          limit: MAX_INV_SIZE,
          actual: m.items.length,
        })
      }
      w.compactSize(m.items.length)
      for (const it of m.items) w.u32le(it.type).hash(it.hash)
    },
    decode(r: ByteReader): M {
      const n = r.count(MAX_INV_SIZE, `${command} items`, INV_ITEM_BYTES)
      const items: InvItem[] = []
      for (let i = 0; i < n; i++) items.push({ type: r.u32le(), hash: r.hash() })
      return make(items)
    },
  }
}

/** inv: announces transactions (by txid or wtxid) and blocks. */
export const invCodec: Codec<InvMessage> = inventoryCodec<InvMessage>('inv', (items) => ({ command: 'inv', items }))
/** getdata: requests announced objects. */
export const getdataCodec: Codec<GetdataMessage> = inventoryCodec<GetdataMessage>('getdata', (items) => ({ command: 'getdata', items }))
/** notfound: the getdata items the peer could not serve. */
export const notfoundCodec: Codec<NotfoundMessage> = inventoryCodec<NotfoundMessage>('notfound', (items) => ({ command: 'notfound', items }))
