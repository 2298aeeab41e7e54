// The Node variant on Deno and Bun, from the BUILT package (dist/, which the
// package's test task builds first): both runtimes resolve the "node" export
// condition, so they load dist/node-variant/, whose packet AEAD is
// node:crypto's ChaCha20-Poly1305 where the runtime has a working one and
// @noble/ciphers otherwise. Deno 2.9 has it; Bun 1.4 has no such cipher and
// must fall back at load. Either way, sessions of the default build and of
// the resolved one talk to each other in both directions, across a rekey,
// and a flipped bit is BAD_TAG (test/runtime/aead-cross.mjs).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect } from 'vitest'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SCRIPT = fileURLToPath(new URL('./runtime/aead-cross.mjs', import.meta.url))
const DISTS = ['dist/index.js', 'dist/node-variant/index.js'].map((d) => fileURLToPath(new URL(`../${d}`, import.meta.url)))
/** A runtime's whole run, start-up included (0.2 to 1 s on an idle machine), scaled: its kill timer. */
const RUN_TIMEOUT_MS = scaled(30_000)

interface Report {
  readonly runtime: string
  readonly listsCipher: boolean
  readonly build: string
  readonly backend: string
  readonly defaultBackend: string
  readonly defaultToResolved: { intact: number; badTag: string }
  readonly resolvedToDefault: { intact: number; badTag: string }
  readonly packets: number
}

function run(cmd: string, args: readonly string[]): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { cwd: ROOT, timeout: RUN_TIMEOUT_MS, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`))
      const line = stdout.split('\n').find((l) => l.startsWith('{'))
      if (line === undefined) return reject(new Error(`${cmd} printed no report:\n${stdout}\n${stderr}`))
      resolve(JSON.parse(line) as Report)
    })
  })
}

/** What every runtime must show; `backend` is the AEAD its node variant must have picked. */
function expectReport(r: Report, runtime: RegExp, backend: 'node:crypto' | 'noble'): void {
  expect(r.runtime).toMatch(runtime)
  expect(r.build).toBe('node-variant')
  expect(r.defaultBackend).toBe('noble')
  expect(r.backend).toBe(backend)
  // The fallback is exactly for runtimes without the cipher.
  expect(r.backend === 'node:crypto').toBe(r.listsCipher)
  expect(r.defaultToResolved).toEqual({ intact: r.packets, badTag: 'BAD_TAG' })
  expect(r.resolvedToDefault).toEqual({ intact: r.packets, badTag: 'BAD_TAG' })
}

const bin = (name: string): string => `${ROOT}node_modules/.bin/${name}`

describe('the Node variant of the packet AEAD on Deno and Bun (built package)', () => {
  beforeAll(() => {
    const missing = DISTS.filter((d) => !existsSync(d))
    if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first`)
  })

  needs('deno').it('deno resolves the Node variant and uses node:crypto', { timeout: RUN_TIMEOUT_MS + scaled(5_000) }, async () => {
    expectReport(await run(bin('deno'), ['run', '--allow-read', '--allow-env', SCRIPT]), /^deno \d/, 'node:crypto')
  })

  needs('bun').it('bun resolves the Node variant, lacks the cipher and falls back to @noble/ciphers', { timeout: RUN_TIMEOUT_MS + scaled(5_000) }, async () => {
    expectReport(await run(bin('bun'), [SCRIPT]), /^bun \d/, 'noble')
  })
})
