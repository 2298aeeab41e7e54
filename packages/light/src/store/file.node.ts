/**
 * FileLightStore: a LightStore in a directory, for Node (also Deno and Bun
 * through node:fs).
 *
 * Layout, in one directory (it may be the one of session's FileHeaderStore:
 * the names differ):
 *   filter-headers.dat  the filter headers, 32 bytes each, the one at
 *                       height h at offset h * 32. Nothing else.
 *   light-state.json    the scan state: a header line, then the JSON text
 *                         "bitp2p-light-state <version> <sha256 hex of the text> <bytes of the text>\n<text>"
 *   light.lock          "<pid> <host>\n" of the process that has it open.
 *
 * Crash behaviour:
 * - `putFilterHeaders(h, x)` below the tip first truncates the file to h
 *   headers, then writes x at h * 32, then syncs the file before it
 *   resolves. A crash leaves a prefix of what was there, possibly followed
 *   by part of x; never old headers after new ones. A torn last write (a
 *   length that is not a multiple of 32) is cut back when the store opens.
 *   On power loss some file systems can show an extension whose data never
 *   reached the disk as zero bytes; only writes that resolved are promised.
 * - `saveState` writes light-state.json.tmp, syncs it, renames it over
 *   light-state.json and syncs the directory: a crash leaves the old state or
 *   the new one, never a mix. A leftover .tmp is deleted on open.
 * - A state file that fails its checks (format, length, checksum, JSON)
 *   makes `loadState` reject with LightStoreError CORRUPT_STATE; the filter
 *   headers still load, and the next `saveState` replaces it.
 * - The lock keeps a second process (or a second store in this one) out
 *   (LightStoreError LOCKED); a lock left by a process that is gone is taken
 *   over. See lock.node.ts for its limits.
 *
 * Trust model: the directory must be writable only by this program; what
 * it returns is what this client accepted earlier and is not re-checked here.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { LightStoreError } from './error.js'
import { takeLock, type HeldLock } from './lock.node.js'
import { SerialQueue, stateToJson } from './serial.js'
import { checkFilterHeaderWrite, STORED_FILTER_HEADER_BYTES, type JsonValue, type LightStore } from './store.js'

/** File of the filter headers, 32 bytes each. */
export const FILTER_HEADERS_FILE = 'filter-headers.dat'
/** File of the scan state. */
export const STATE_FILE = 'light-state.json'
/** The state is written here first, then renamed over STATE_FILE. */
export const STATE_TEMP_FILE = `${STATE_FILE}.tmp`
/** The lock file of an open store. */
export const LOCK_FILE = 'light.lock'
/** Format version written in the state file's header line. */
export const FILE_LIGHT_STORE_VERSION = 1
/** First word of the state file's header line. */
const STATE_MAGIC = 'bitp2p-light-state'
/** Longest header line accepted: magic, a version, 64 hex digits, a length. */
const MAX_STATE_HEADER_BYTES = 128

/** A LightStore in a directory of files; see the module comment. */
export class FileLightStore implements LightStore {
  private readonly queue = new SerialQueue()
  private closed = false

  private constructor(
    /** The directory of the store. */
    readonly dir: string,
    private readonly file: FileHandle,
    private readonly lock: HeldLock,
    /** Filter headers stored. */
    private count: number,
  ) {}

  /**
   * Opens (creating if needed) the store in directory `dir`: takes the lock,
   * deletes a leftover temporary state file and cuts a torn filter header.
   * Rejects with LightStoreError LOCKED when the store is in use.
   */
  static async open(dir: string): Promise<FileLightStore> {
    await mkdir(dir, { recursive: true })
    const lock = await takeLock(join(dir, LOCK_FILE))
    let file: FileHandle | undefined
    try {
      // A temp state is a write that never reached its rename: not the state.
      await unlinkIfPresent(join(dir, STATE_TEMP_FILE))
      file = await openReadWrite(join(dir, FILTER_HEADERS_FILE))
      const size = (await file.stat()).size
      const whole = size - (size % STORED_FILTER_HEADER_BYTES)
      if (whole !== size) {
        await file.truncate(whole)
        await file.sync()
      }
      return new FileLightStore(dir, file, lock, whole / STORED_FILTER_HEADER_BYTES)
    } catch (e) {
      await file?.close()
      await lock.release()
      throw e
    }
  }

  /** The stored filter headers from height 0, concatenated. */
  loadFilterHeaders(): Promise<Uint8Array> {
    return this.op(async () => {
      const out = new Uint8Array(this.count * STORED_FILTER_HEADER_BYTES)
      let at = 0
      while (at < out.length) {
        const { bytesRead } = await this.file.read(out, at, out.length - at, at)
        if (bytesRead === 0) {
          throw new LightStoreError('CORRUPT_FILTER_HEADERS', `light store: ${FILTER_HEADERS_FILE} ended at ${at} of ${out.length} bytes`, {
            path: join(this.dir, FILTER_HEADERS_FILE),
            reason: 'file shorter than the store wrote',
          })
        }
        at += bytesRead
      }
      return out
    })
  }

  /** Stores `headers` from `height` on, dropping what was above; synced before it resolves. */
  putFilterHeaders(height: number, headers: Uint8Array): Promise<void> {
    return this.op(async () => {
      checkFilterHeaderWrite(height, headers, this.count)
      const offset = height * STORED_FILTER_HEADER_BYTES
      // Drop the old tail before writing the new one: a crash in between
      // leaves a shorter chain, never an old tail after new headers.
      if (height < this.count) {
        await this.file.truncate(offset)
        this.count = height
      }
      try {
        let at = 0
        while (at < headers.length) {
          const { bytesWritten } = await this.file.write(headers, at, headers.length - at, offset + at)
          at += bytesWritten
        }
        await this.file.datasync()
      } catch (e) {
        // A failed write (a full disk) must not leave part of it behind as headers.
        await this.file.truncate(offset).catch(() => undefined)
        throw e
      }
      this.count = height + headers.length / STORED_FILTER_HEADER_BYTES
    })
  }

  /** The saved state; rejects with LightStoreError CORRUPT_STATE or UNSUPPORTED_VERSION when the file fails its checks. */
  loadState(): Promise<JsonValue | undefined> {
    return this.op(async () => {
      const path = join(this.dir, STATE_FILE)
      let bytes: Uint8Array
      try {
        bytes = new Uint8Array(await readFile(path))
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return undefined
        throw e
      }
      return decodeStateFile(bytes, path)
    })
  }

  /** Replaces the state atomically (temp file, sync, rename, directory sync). */
  saveState(state: JsonValue): Promise<void> {
    return this.op(async () => {
      const bytes = encodeStateFile(stateToJson(state))
      const tmp = join(this.dir, STATE_TEMP_FILE)
      const fh = await open(tmp, 'w')
      try {
        await fh.writeFile(bytes)
        await fh.sync()
      } finally {
        await fh.close()
      }
      await rename(tmp, join(this.dir, STATE_FILE))
      await syncDirectory(this.dir)
    })
  }

  /** Waits for the calls made before it, closes the file and releases the lock. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    return this.queue.run(async () => {
      await this.file.close()
      await this.lock.release()
    })
  }

  /** Queues `task` behind earlier calls; rejects at once when closed. */
  private op<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new LightStoreError('CLOSED', 'light store: closed', { path: this.dir }))
    return this.queue.run(task)
  }
}

/** The bytes of a state file holding `json`. */
function encodeStateFile(json: string): Uint8Array {
  const body = new TextEncoder().encode(json)
  const header = new TextEncoder().encode(`${STATE_MAGIC} ${FILE_LIGHT_STORE_VERSION} ${sha256Hex(body)} ${body.length}\n`)
  const out = new Uint8Array(header.length + body.length)
  out.set(header)
  out.set(body, header.length)
  return out
}

/** The state in a state file's bytes; LightStoreError when they fail a check. */
function decodeStateFile(bytes: Uint8Array, path: string): JsonValue {
  const corrupt = (reason: string): LightStoreError =>
    new LightStoreError('CORRUPT_STATE', `light store: ${path} is damaged (${reason}); the next saveState replaces it`, { path, reason })
  const nl = bytes.subarray(0, MAX_STATE_HEADER_BYTES).indexOf(0x0a)
  if (nl < 0) throw corrupt('no header line')
  const header = new TextDecoder().decode(bytes.subarray(0, nl))
  const words = header.split(' ')
  if (words[0] !== STATE_MAGIC) throw corrupt('not a light store state file')
  if (words[1] !== String(FILE_LIGHT_STORE_VERSION)) {
    throw new LightStoreError('UNSUPPORTED_VERSION', `light store: ${path} has format version ${words[1]}, this package reads ${FILE_LIGHT_STORE_VERSION}`, {
      path,
      expected: FILE_LIGHT_STORE_VERSION,
      actual: words[1] ?? '',
    })
  }
  if (words.length !== 4 || !/^[0-9a-f]{64}$/.test(words[2]!) || !/^\d{1,15}$/.test(words[3]!)) throw corrupt('malformed header line')
  const body = bytes.subarray(nl + 1)
  if (body.length !== Number(words[3])) throw corrupt(`${body.length} bytes of state where the header says ${words[3]}`)
  if (sha256Hex(body) !== words[2]) throw corrupt('checksum mismatch')
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as JsonValue
  } catch {
    // Only a file we did not write gets here: the checksum matched.
    throw corrupt('not JSON')
  }
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
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

/**
 * Syncs a directory so a rename in it survives a power loss. Where a
 * directory cannot be opened or synced (Windows), the rename is as durable
 * as the platform makes it.
 */
async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle
  try {
    fh = await open(dir, 'r')
  } catch (e) {
    if (DIRECTORY_SYNC_UNSUPPORTED.has((e as { code?: string }).code ?? '')) return
    throw e
  }
  try {
    await fh.sync()
  } catch (e) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has((e as { code?: string }).code ?? '')) throw e
  } finally {
    await fh.close()
  }
}

/** Error codes of platforms that cannot open or fsync a directory. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES'])

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e
  }
}
