// What the package may import: nothing of Node, and the runtime's
// `cloudflare:sockets` from one module only, left as an import in the
// built output (never bundled, never replaced).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const PKG = fileURLToPath(new URL('../', import.meta.url))
const sources = readdirSync(`${PKG}src`).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
/** Module specifiers of `import ... from '...'` and `export ... from '...'`. */
const specifiers = (code: string): string[] => [...code.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*'([^']+)'/gm)].map((m) => m[1]!)

describe('@bitp2p/transport-cloudflare imports', () => {
  it('its sources import no node:* module and use no Buffer or process', () => {
    expect(sources.length).toBeGreaterThanOrEqual(6)
    for (const f of sources) {
      const code = readFileSync(`${PKG}src/${f}`, 'utf8')
      expect(specifiers(code).filter((s) => s.startsWith('node:')), f).toEqual([])
      expect(code, f).not.toMatch(/\bBuffer\b|\bprocess\./)
    }
  })

  it('only runtime.ts imports cloudflare:sockets', () => {
    const importers = sources.filter((f) => specifiers(readFileSync(`${PKG}src/${f}`, 'utf8')).includes('cloudflare:sockets'))
    expect(importers).toEqual(['runtime.ts'])
  })

  it('the build keeps cloudflare:sockets as an import (external) and imports nothing else outside the package but @bitp2p/session (its main entry and /core)', () => {
    const dist = `${PKG}dist`
    if (!existsSync(`${dist}/index.js`)) throw new Error('dist/ missing: run `npm run build` first')
    const files = readdirSync(dist).filter((f) => f.endsWith('.js'))
    const outside = new Set(files.flatMap((f) => specifiers(readFileSync(`${dist}/${f}`, 'utf8'))).filter((s) => !s.startsWith('./')))
    expect([...outside].sort()).toEqual(['@bitp2p/session', '@bitp2p/session/core', 'cloudflare:sockets'])
    expect(readFileSync(`${dist}/runtime.js`, 'utf8')).toMatch(/^import \{ connect \} from 'cloudflare:sockets';$/m)
  })
})
