// Deno and Bun: bundle test/runtime-smoke.ts and run it as a child process
// of each runtime against a bridge and a TCP echo server started here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Bridge } from '../src/bridge.js'
import { startBridge, startEcho, type Upstream } from './helpers.js'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'

const bin = (name: string): string => fileURLToPath(new URL(`../../../node_modules/.bin/${name}`, import.meta.url))
const DENO = bin('deno')
const BUN = bin('bun')
/** A runtime's whole smoke run, start-up included (0.1 to 0.5 s on an idle machine), scaled: its kill timer. */
const RUN_TIMEOUT_MS = scaled(20_000)
const SESSION_SRC = fileURLToPath(new URL('../../session/src/index.ts', import.meta.url))
const SESSION_CORE_SRC = fileURLToPath(new URL('../../session/src/core.ts', import.meta.url))

let dir: string
let bundle: string
let echo: Upstream
let bridge: Bridge
let refusedPort: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bitp2p-ws-smoke-'))
  bundle = join(dir, 'runtime-smoke.bundle.mjs')
  // platform 'neutral': a node:* import anywhere in the client would fail the build.
  await build({
    entryPoints: [fileURLToPath(new URL('./runtime-smoke.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    outfile: bundle,
    // The subpath first: esbuild would otherwise read '@bitp2p/session/core' as a path under index.ts.
    alias: { '@bitp2p/session/core': SESSION_CORE_SRC, '@bitp2p/session': SESSION_SRC },
    logLevel: 'silent',
  })
  echo = await startEcho()
  refusedPort = echo.port === 65535 ? 1 : echo.port + 1
  ;({ bridge } = await startBridge({ allow: [`127.0.0.1:${echo.port}`], allowPrivate: true }))
})

afterAll(async () => {
  await bridge?.close()
  await echo?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function run(cmd: string, args: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: RUN_TIMEOUT_MS, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`))
      resolve(
        stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      )
    })
  })
}

function expectSmoke(lines: Record<string, unknown>[], runtime: RegExp): void {
  expect(lines[0]).toMatchObject({ webSocket: 'function' })
  expect(lines[0]!.runtime).toMatch(runtime)
  expect(lines[1]).toEqual({ echo: { bytes: 100_000, intact: true } })
  expect(lines[2]).toEqual({ localClose: true })
  expect(lines[3]).toEqual({
    refused: {
      name: 'TransportError',
      kind: 'refused',
      cause: { code: 4001, name: 'not-allowed', reason: `127.0.0.1:${refusedPort} is not on the allowlist` },
    },
  })
}

describe('runtime smoke: the client on the runtime global WebSocket through the bridge', () => {
  needs('deno').it('Deno', { timeout: RUN_TIMEOUT_MS + scaled(10_000) }, async () => {
    const lines = await run(DENO, ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', bundle, bridge.url, String(echo.port), String(refusedPort)])
    expectSmoke(lines, /^deno \d/)
  })
  needs('bun').it('Bun', { timeout: RUN_TIMEOUT_MS + scaled(10_000) }, async () => {
    const lines = await run(BUN, [bundle, bridge.url, String(echo.port), String(refusedPort)])
    expectSmoke(lines, /^bun \d/)
  })
})
