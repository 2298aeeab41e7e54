/**
 * A flat-file HeaderStore for Node (also Deno and Bun through node:fs).
 *
 * Layout, in one directory:
 *   headers.dat  the active chain, 80 raw bytes per header, the header at
 *                height h at offset (h - base) * 80. Nothing else: a million
 *                headers is 80 MB.
 *   meta.dat     one small record, written once when the first header is
 *                stored (write to a temporary file, then rename):
 *                  magic "BPHS" | u32le format version | u32le base height |
 *                  32-byte big-endian chain work of the base header
 *
 * A write puts the new headers at their offsets and then truncates the file
 * after the last one, so a reorg rewrites only the tail.
 *
 * Restart and trust model: `load()` reads headers.dat and keeps the longest
 * prefix in which every header's prevBlock is the hash of the one before; it
 * stops at the first header that does not link (a torn write, or an old tail
 * left by a crash between writing and truncating), and truncates the file
 * there. Proof of work and the difficulty rules are NOT checked again: the
 * file holds only headers a HeaderTree validated, and whoever can write this
 * directory can feed the client any chain. Keep it where only this program
 * writes. A wrong or corrupted base is not detected here; the HeaderSync
 * driver compares the loaded chain with its peers' as it would any other.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesEqual, parseBlockHeader } from '@bitp2p/wire'
import { BLOCK_HEADER_BYTES } from '@bitp2p/wire/limits'
import { HashIndex, hashKey } from '../core/chain/hash-index.js'
import { type HeaderRecord, type HeaderStore, type StoredHeader, checkBatch } from '../core/chain/store.js'
import type { TrustedBase } from '../core/chain/tree.js'

/** File of headers, 80 bytes each. */
export const HEADERS_FILE = 'headers.dat'
/** File of the meta record. */
export const META_FILE = 'meta.dat'
/** Magic of the meta record ("BPHS": bitp2p header store). */
const META_MAGIC = 0x53485042
/** Format version of the meta record and headers file. */
export const FILE_STORE_VERSION = 1
/** Bytes of the meta record: magic, version, base height, 32-byte work. */
const META_BYTES = 4 + 4 + 4 + 32

/** A HeaderStore in a directory of flat files; see the module comment. */
export class FileHeaderStore implements HeaderStore {
  /** Headers stored. */
  private count: number
  /** Height -> stored hash index, built on the first getByHash. */
  private index: HashIndex | undefined

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
    private base: number,
    private baseWork: bigint,
    headerBytes: number,
  ) {
    this.count = Math.floor(headerBytes / BLOCK_HEADER_BYTES)
  }

  /** Opens (creating if needed) the store in directory `dir`. */
  static async open(dir: string): Promise<FileHeaderStore> {
    await mkdir(dir, { recursive: true })
    let base = 0
    let baseWork = 0n
    let meta: Uint8Array | undefined
    try {
      meta = new Uint8Array(await readFile(join(dir, META_FILE)))
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e
    }
    if (meta !== undefined) {
      const m = decodeMeta(meta)
      base = m.base
      baseWork = m.work
    }
    const file = await openReadWrite(join(dir, HEADERS_FILE))
    let size = (await file.stat()).size
    // Without a meta record nothing stored is usable (it was never completed);
    // a partial header at the end is a torn write.
    const whole = meta === undefined ? 0 : size - (size % BLOCK_HEADER_BYTES)
    if (whole !== size) {
      await file.truncate(whole)
      size = whole
    }
    const store = new FileHeaderStore(dir, file, base, baseWork, size)
    return store
  }

  /** Closes the file. The store must not be used afterwards. */
  async close(): Promise<void> {
    await this.file.close()
  }

  async getByHeight(height: number): Promise<StoredHeader | undefined> {
    const i = height - this.base
    if (!Number.isInteger(i) || i < 0 || i >= this.count) return undefined
    const raw = await this.readRaw(i, 1)
    return { height, hash: sha256d(raw), header: parseBlockHeader(raw) }
  }

  async getByHash(hash: Uint8Array): Promise<StoredHeader | undefined> {
    const index = this.index ?? (await this.buildIndex())
    const candidates: number[] = []
    index.find(hashKey(hash), (i) => {
      candidates.push(i)
      return false
    })
    for (const i of candidates) {
      if (i >= this.count) continue // an entry left from a tail since rewritten
      const raw = await this.readRaw(i, 1)
      const h = sha256d(raw)
      if (bytesEqual(h, hash)) return { height: this.base + i, hash: h, header: parseBlockHeader(raw) }
    }
    return undefined
  }

  async tip(): Promise<StoredHeader | undefined> {
    return this.count === 0 ? undefined : this.getByHeight(this.base + this.count - 1)
  }

  async put(record: HeaderRecord): Promise<void> {
    return this.putBatch([record])
  }

  async putBatch(records: readonly HeaderRecord[]): Promise<void> {
    checkBatch(records, this.base, this.count)
    if (records.length === 0) return
    const first = records[0]!
    if (this.count === 0) {
      this.base = first.height
      this.baseWork = first.chainWork
      await this.writeMeta()
    }
    const start = first.height - this.base
    const bytes = new Uint8Array(records.length * BLOCK_HEADER_BYTES)
    records.forEach((r, i) => bytes.set(r.raw, i * BLOCK_HEADER_BYTES))
    await this.file.write(bytes, 0, bytes.length, start * BLOCK_HEADER_BYTES)
    const end = start + records.length
    if (end < this.count) await this.file.truncate(end * BLOCK_HEADER_BYTES)
    this.count = end
    if (this.index !== undefined) records.forEach((r, i) => this.index!.insert(hashKey(r.hash), start + i))
  }

  async load(): Promise<TrustedBase | undefined> {
    if (this.count === 0) return undefined
    const raw = await this.readRaw(0, this.count)
    // Keep the linked prefix; see the module comment.
    let prev = sha256d(raw.subarray(0, BLOCK_HEADER_BYTES))
    let n = 1
    for (; n < this.count; n++) {
      const h = raw.subarray(n * BLOCK_HEADER_BYTES, (n + 1) * BLOCK_HEADER_BYTES)
      if (!bytesEqual(h.subarray(4, 36), prev)) break
      prev = sha256d(h)
    }
    if (n < this.count) {
      await this.file.truncate(n * BLOCK_HEADER_BYTES)
      this.count = n
      this.index = undefined
    }
    return { height: this.base, headers: raw.slice(0, n * BLOCK_HEADER_BYTES), chainWork: this.baseWork, tipHash: prev }
  }

  private async readRaw(index: number, n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n * BLOCK_HEADER_BYTES)
    const { bytesRead } = await this.file.read(out, 0, out.length, index * BLOCK_HEADER_BYTES)
    if (bytesRead !== out.length) throw new Error(`header store: short read at header ${index} (${bytesRead} of ${out.length} bytes)`)
    return out
  }

  private async buildIndex(): Promise<HashIndex> {
    const index = new HashIndex(this.count * 2)
    if (this.count > 0) {
      const raw = await this.readRaw(0, this.count)
      for (let i = 0; i < this.count; i++) {
        index.insert(hashKey(sha256d(raw.subarray(i * BLOCK_HEADER_BYTES, (i + 1) * BLOCK_HEADER_BYTES))), i)
      }
    }
    this.index = index
    return index
  }

  private async writeMeta(): Promise<void> {
    const path = join(this.dir, META_FILE)
    await writeFile(`${path}.tmp`, encodeMeta(this.base, this.baseWork))
    await rename(`${path}.tmp`, path)
  }
}

/** Opens a file for positional reads and writes, creating it when missing. */
async function openReadWrite(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r+')
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e
    return open(path, 'w+')
  }
}

function sha256d(data: Uint8Array): Uint8Array {
  const once = createHash('sha256').update(data).digest()
  const twice = createHash('sha256').update(once).digest()
  return new Uint8Array(twice.buffer, twice.byteOffset, twice.byteLength)
}

function encodeMeta(base: number, work: bigint): Uint8Array {
  if (work < 0n || work >= 1n << 256n) throw new RangeError('header store: chain work out of range')
  const out = new Uint8Array(META_BYTES)
  const v = new DataView(out.buffer)
  v.setUint32(0, META_MAGIC, true)
  v.setUint32(4, FILE_STORE_VERSION, true)
  v.setUint32(8, base, true)
  let w = work
  for (let i = META_BYTES - 1; i >= 12; i--) {
    out[i] = Number(w & 0xffn)
    w >>= 8n
  }
  return out
}

function decodeMeta(b: Uint8Array): { base: number; work: bigint } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  if (b.length !== META_BYTES || v.getUint32(0, true) !== META_MAGIC) throw new Error('header store: meta.dat is not a header store record')
  const version = v.getUint32(4, true)
  if (version !== FILE_STORE_VERSION) throw new Error(`header store: unsupported format version ${version}`)
  let work = 0n
  for (let i = 12; i < META_BYTES; i++) work = (work << 8n) | BigInt(b[i]!)
  return { base: v.getUint32(8, true), work }
}
