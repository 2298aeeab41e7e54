// In Node, the BUILT session speaks v2 with node:crypto's ChaCha20-Poly1305:
// session's dist imports @bitp2p/bip324, whose "node" export condition
// selects dist/node-variant/ (its packet AEAD on node:crypto) while the
// default build, what browsers bundle, stays pure JS (the bundle-size test of
// transport-ws checks that side). Vitest runs session's tests against the
// sources with pure aliases, so this looks at the built packages from a
// plain `node` process (test/runtime/v2-aead.mjs): it counts node:crypto's
// ChaCha20-Poly1305 calls while two codecs of @bitp2p/session/v2 exchange
// blocks after an in-memory handshake.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { scaled } from '../../../test/harness/timing.js'

const SCRIPT = fileURLToPath(new URL('./runtime/v2-aead.mjs', import.meta.url))
/** The builds the script loads (the test task builds them first). */
const DISTS = ['session/dist/v2.js', 'bip324/dist/index.js', 'bip324/dist/node-variant/index.js'].map((d) => fileURLToPath(new URL(`../../${d}`, import.meta.url)))
/** The script's whole run, Node start-up and an ElligatorSwift handshake included (~0.5 s idle), scaled: its kill timer. */
const RUN_TIMEOUT_MS = scaled(30_000)

interface Report {
  readonly node: string
  readonly bip324: string
  readonly backend: string
  readonly packets: number
  readonly intact: number
  readonly cipherCalls: number
  readonly decipherCalls: number
}

function runScript(): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SCRIPT], { timeout: RUN_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`node ${SCRIPT} failed: ${err.message}\n${stderr}`))
      const line = stdout.split('\n').find((l) => l.startsWith('{'))
      if (line === undefined) return reject(new Error(`the script printed no report:\n${stdout}\n${stderr}`))
      resolve(JSON.parse(line) as Report)
    })
  })
}

describe('the built @bitp2p/session/v2 on Node', () => {
  beforeAll(() => {
    const missing = DISTS.filter((d) => !existsSync(d))
    if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first`)
  })

  it('resolves @bitp2p/bip324 to its Node variant and seals and opens every packet with node:crypto', { timeout: RUN_TIMEOUT_MS + scaled(5_000) }, async () => {
    const r = await runScript()
    expect(r.bip324).toMatch(/\/bip324\/dist\/node-variant\/index\.js$/)
    expect(r.backend).toBe('node:crypto')
    expect(r.intact).toBe(r.packets)
    // One cipher per packet sealed, one decipher per packet opened: none went through @noble/ciphers.
    expect({ cipherCalls: r.cipherCalls, decipherCalls: r.decipherCalls }).toEqual({ cipherCalls: r.packets, decipherCalls: r.packets })
  })
})
