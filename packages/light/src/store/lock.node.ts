/**
 * A lock file that keeps a second process (or a second store in this one)
 * from opening a store directory that is in use. Node has no portable
 * flock, so the lock is a file naming its holder: "<pid> <host>\n".
 *
 * Taking it: the holder line is written to a private temporary file, synced,
 * and hard-linked to the lock's name. link() fails when the name exists, so
 * exactly one taker wins and the lock file is never seen half written.
 *
 * A lock whose holder is gone is stale: a process that crashed or exited
 * without closing its store. It is taken over when its host is this host
 * and no process with its pid is alive. A lock of another host, or one that
 * cannot be read, is never taken over (LOCKED, with the reason): remove the
 * file by hand once no process uses the store. Known limits: a pid reused
 * by an unrelated process after a reboot keeps a stale lock "held"; two
 * processes taking over the same stale lock at the same instant can both
 * succeed.
 *
 * Internal to the Node store; not exported.
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { link, open, readFile, unlink } from 'node:fs/promises'
import { LightStoreError } from './error.js'

/** A held lock; `release` removes the file if it is still this holder's. */
export interface HeldLock {
  readonly path: string
  release(): Promise<void>
}

/** Bytes read from a lock file at most: a holder line is far shorter. */
const MAX_LOCK_FILE_BYTES = 256

/** Takes the lock file at `path`, or throws LightStoreError LOCKED. */
export async function takeLock(path: string): Promise<HeldLock> {
  const host = hostname()
  const line = `${process.pid} ${host}\n`
  // One try, and one more after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await linkNew(path, line)) return held(path, line)
    const holder = await readHolder(path)
    if (holder === 'gone') continue // released between our link and our read
    if (holder === 'unreadable') {
      throw new LightStoreError('LOCKED', `light store: ${path} exists but names no holder; remove it if no process uses this store`, {
        path,
        reason: 'unreadable lock file',
      })
    }
    if (holder.host !== host || isAlive(holder.pid)) {
      throw new LightStoreError(
        'LOCKED',
        `light store: in use by process ${holder.pid} on ${holder.host} (lock file ${path}); remove it if that process no longer uses this store`,
        { path, pid: holder.pid, host: holder.host, reason: holder.host !== host ? 'held by another host' : 'held by a live process' },
      )
    }
    await unlinkIfPresent(path) // stale: its process is gone
  }
  throw new LightStoreError('LOCKED', `light store: another process took the lock ${path} at the same time`, { path, reason: 'lost a race' })
}

function held(path: string, line: string): HeldLock {
  return {
    path,
    async release() {
      // Remove it only if it is still ours (not taken over as stale by someone else).
      const now = await readFile(path, 'utf8').catch(() => undefined)
      if (now === line) await unlinkIfPresent(path)
    },
  }
}

/** Writes `line` to a temporary file and links it to `path`; false when `path` exists. */
async function linkNew(path: string, line: string): Promise<boolean> {
  const tmp = `${path}.${randomUUID()}.tmp` // unique: two stores of this process may be opening at once
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(line)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await link(tmp, path)
    return true
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') return false
    throw e
  } finally {
    await unlinkIfPresent(tmp)
  }
}

async function readHolder(path: string): Promise<{ pid: number; host: string } | 'gone' | 'unreadable'> {
  let text: string
  try {
    const fh = await open(path, 'r')
    try {
      const buf = new Uint8Array(MAX_LOCK_FILE_BYTES)
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
      text = new TextDecoder().decode(buf.subarray(0, bytesRead))
    } finally {
      await fh.close()
    }
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return 'gone'
    throw e
  }
  const m = /^(\d{1,10}) (\S{1,200})\n$/.exec(text)
  if (m === null) return 'unreadable'
  const pid = Number(m[1])
  return pid > 0 ? { pid, host: m[2]! } : 'unreadable'
}

/** True when a process with this pid exists (EPERM: it exists but is another user's). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e
  }
}
