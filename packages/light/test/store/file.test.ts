/// <reference types="node" />
// FileLightStore: the compliance suite, then what a crash, a damaged file
// and a second opener do to it.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isLightStoreError, type LightStoreError } from '../../src/store/error.js'
import { FileLightStore, FILTER_HEADERS_FILE, LOCK_FILE, STATE_FILE, STATE_TEMP_FILE } from '../../src/node.js'
import { lightStoreCompliance } from './compliance.js'

const roots: string[] = []
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true })
})

// Each key is a directory under one temporary root: a reopen is FileLightStore.open of the same directory.
let root: Promise<string> | undefined
lightStoreCompliance({
  name: 'file',
  async open(key) {
    root ??= mkdtemp(join(tmpdir(), 'bitp2p-light-compliance-')).then((r) => (roots.push(r), r))
    return FileLightStore.open(join(await root, key))
  },
})

function headers(from: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 32)
  for (let i = 0; i < count; i++) out.fill((from + i) & 0xff, i * 32, i * 32 + 32)
  return out
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<LightStoreError> {
  const e: unknown = await p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: unknown) => err,
  )
  if (!isLightStoreError(e)) throw e
  return e
}

describe('FileLightStore', () => {
  let dir = ''
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bitp2p-light-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('lays out 32 bytes per filter header, and a state file whose header line names version, checksum and length', async () => {
    const s = await FileLightStore.open(dir)
    await s.putFilterHeaders(0, headers(0, 7))
    await s.putFilterHeaders(5, headers(50, 1))
    await s.saveState({ scanHeight: 5 })
    expect((await stat(join(dir, FILTER_HEADERS_FILE))).size).toBe(6 * 32)
    const text = await readFile(join(dir, STATE_FILE), 'utf8')
    expect(text).toMatch(/^bitp2p-light-state 1 [0-9a-f]{64} 16\n\{"scanHeight":5\}$/)
    expect((await readdir(dir)).sort()).toEqual([FILTER_HEADERS_FILE, LOCK_FILE, STATE_FILE].sort())
    await s.close()
    // Closing releases the lock.
    expect((await readdir(dir)).sort()).toEqual([FILTER_HEADERS_FILE, STATE_FILE].sort())
  })

  describe('after a crash', () => {
    it('cuts a torn last filter header back to whole headers, and appends after them', async () => {
      const s = await FileLightStore.open(dir)
      await s.putFilterHeaders(0, headers(0, 4))
      await s.close()
      // A crash in the middle of writing header 4: 20 of its 32 bytes reached the file.
      await appendFile(join(dir, FILTER_HEADERS_FILE), new Uint8Array(20).fill(0xab))

      const reopened = await FileLightStore.open(dir)
      expect((await stat(join(dir, FILTER_HEADERS_FILE))).size).toBe(4 * 32)
      expect(await reopened.loadFilterHeaders()).toEqual(headers(0, 4))
      // The next header lands at height 4, right after the whole ones.
      await reopened.putFilterHeaders(4, headers(4, 1))
      await reopened.close()
      expect(new Uint8Array(await readFile(join(dir, FILTER_HEADERS_FILE)))).toEqual(headers(0, 5))
    })

    it('ignores and deletes a leftover temporary state file (a save that never reached its rename)', async () => {
      const s = await FileLightStore.open(dir)
      await s.saveState({ generation: 1 })
      await s.close()
      // The crash came after writing the temp file of generation 2, before the rename.
      await writeFile(join(dir, STATE_TEMP_FILE), 'bitp2p-light-state 1 ' + '0'.repeat(64) + ' 3\n{"g')

      const reopened = await FileLightStore.open(dir)
      expect(await reopened.loadState()).toEqual({ generation: 1 })
      expect(await readdir(dir)).not.toContain(STATE_TEMP_FILE)
      await reopened.saveState({ generation: 2 })
      await reopened.close()
      const third = await FileLightStore.open(dir)
      expect(await third.loadState()).toEqual({ generation: 2 })
      await third.close()
    })

    it('takes over the lock of a process that is gone', async () => {
      const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
      const pid = child.pid!
      await new Promise((resolve) => child.once('exit', resolve))
      // The process died holding the store: its lock file is still there.
      await writeFile(join(dir, LOCK_FILE), `${pid} ${hostname()}\n`)
      const s = await FileLightStore.open(dir)
      expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid} ${hostname()}\n`)
      await s.close()
    })
  })

  describe('a damaged state file is a typed error, and the rest of the store still works', () => {
    const cases: [string, (good: Uint8Array) => Uint8Array | string, string, string][] = [
      ['not JSON under a matching checksum', () => stateFileOf('{"scan'), 'CORRUPT_STATE', 'not JSON'],
      ['a flipped byte in the JSON (it still parses)', (good) => flip(good, good.length - 2), 'CORRUPT_STATE', 'checksum mismatch'],
      ['cut short', (good) => good.subarray(0, good.length - 3), 'CORRUPT_STATE', 'bytes of state where the header says'],
      ['empty', () => '', 'CORRUPT_STATE', 'no header line'],
      ['something else entirely', () => '{"scanHeight":5}\n', 'CORRUPT_STATE', 'not a light store state file'],
      ['a malformed header line', () => 'bitp2p-light-state 1 xyz 3\n123', 'CORRUPT_STATE', 'malformed header line'],
      ['a future format version', () => 'bitp2p-light-state 2 whatever\n{}', 'UNSUPPORTED_VERSION', ''],
    ]
    for (const [what, damage, code, reason] of cases) {
      it(`${what}: ${code}`, async () => {
        const s = await FileLightStore.open(dir)
        await s.putFilterHeaders(0, headers(0, 3))
        await s.saveState({ scanHeight: 3, scripts: ['0014ab'] })
        await s.close()
        const good = new Uint8Array(await readFile(join(dir, STATE_FILE)))
        await writeFile(join(dir, STATE_FILE), damage(good))

        const reopened = await FileLightStore.open(dir)
        const e = await rejection(reopened.loadState())
        expect(e.code).toBe(code)
        expect(e.detail.path).toBe(join(dir, STATE_FILE))
        if (reason !== '') expect(e.detail.reason).toContain(reason)
        // The filter headers are intact, and a new state replaces the damaged one.
        expect(await reopened.loadFilterHeaders()).toEqual(headers(0, 3))
        await reopened.saveState({ scanHeight: 0 })
        expect(await reopened.loadState()).toEqual({ scanHeight: 0 })
        await reopened.close()
      })
    }
  })

  describe('one opener at a time', () => {
    it('a second open of the same directory in this process is LOCKED until the first closes', async () => {
      const first = await FileLightStore.open(dir)
      const e = await rejection(FileLightStore.open(dir))
      expect(e.code).toBe('LOCKED')
      expect(e.detail).toMatchObject({ pid: process.pid, host: hostname(), path: join(dir, LOCK_FILE), reason: 'held by a live process' })
      await first.close()
      const second = await FileLightStore.open(dir)
      await second.close()
    })

    it('a lock of another host is never taken over', async () => {
      await writeFile(join(dir, LOCK_FILE), `1 not-${hostname()}\n`)
      const e = await rejection(FileLightStore.open(dir))
      expect(e.code).toBe('LOCKED')
      expect(e.detail).toMatchObject({ pid: 1, host: `not-${hostname()}`, reason: 'held by another host' })
    })

    it('an unreadable lock file is not taken over either', async () => {
      await writeFile(join(dir, LOCK_FILE), 'garbage')
      const e = await rejection(FileLightStore.open(dir))
      expect(e.code).toBe('LOCKED')
      expect(e.detail.reason).toBe('unreadable lock file')
      expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe('garbage')
    })

    it('another process holding the store keeps this one out; once it is killed, the store opens with what it wrote', async () => {
      const child = await holdInChildProcess(dir)
      try {
        const e = await rejection(FileLightStore.open(dir))
        expect(e.code).toBe('LOCKED')
        expect(e.detail.pid).toBe(child.pid)
      } finally {
        child.kill('SIGKILL')
        await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)))
      }
      // Killed without closing: its lock is stale now.
      const s = await FileLightStore.open(dir)
      expect(await s.loadFilterHeaders()).toEqual(headers(0, 2))
      expect(await s.loadState()).toEqual({ child: true })
      await s.close()
    })
  })
})

/** A state file holding `json` under a correct header line. */
function stateFileOf(json: string): string {
  const body = new TextEncoder().encode(json)
  return `bitp2p-light-state 1 ${createHash('sha256').update(body).digest('hex')} ${body.length}\n${json}`
}

function flip(b: Uint8Array, at: number): Uint8Array {
  const out = b.slice()
  out[at] = out[at]! ^ 0x01
  return out
}

/**
 * A second Node process that opens the store in `dir` (the package's own
 * sources, bundled for it with esbuild), writes two headers and a state, and
 * then waits without closing until it is killed.
 */
async function holdInChildProcess(dir: string): Promise<ChildProcess> {
  const entry = fileURLToPath(new URL('../../src/node.ts', import.meta.url))
  const bundle = await build({
    stdin: {
      contents: `
        import { FileLightStore } from ${JSON.stringify(entry)}
        const s = await FileLightStore.open(process.argv[2])
        const h = new Uint8Array(64); h.fill(0, 0, 32); h.fill(1, 32, 64)
        await s.putFilterHeaders(0, h)
        await s.saveState({ child: true })
        process.stdout.write('open\\n')
        setInterval(() => {}, 1 << 30)
      `,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
  })
  const script = join(dir, '..', `${dir.split('/').pop()}-holder.mjs`)
  roots.push(script)
  await writeFile(script, bundle.outputFiles[0]!.text)
  const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Uint8Array) => {
      out += new TextDecoder().decode(d)
      if (out.includes('open\n')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the holder process exited (${code}) before opening the store`)))
  })
  return child
}
