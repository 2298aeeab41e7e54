/**
 * What `npm publish` would ship, checked on every run: each published
 * package carries the shared metadata (scripts/package-metadata.mjs writes
 * it), its own LICENSE, our packages as peers (one copy per app), and a
 * README whose links work on the registry page.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script without types
import { isApplication, publishedPackages, withMetadata } from '../../../scripts/package-metadata.mjs'
// @ts-expect-error: a plain .mjs script without types
import { cyclesIn, importCycles } from '../../../scripts/import-cycles.mjs'

interface Pkg {
  dir: string
  folder: string
  json: Record<string, any>
}
const ROOT = new URL('../../../', import.meta.url).pathname
const packages: Pkg[] = publishedPackages()

describe('published packages', () => {
  it('are all found (the list is not empty by accident)', () => {
    expect(packages.map((p) => p.json.name)).toEqual(expect.arrayContaining(['@bitp2p/wire', '@bitp2p/session', '@bitp2p/transport-tcp', '@bitp2p/transport-ws', '@bitp2p/bridge']))
  })

  it('the cycle finder finds cycles (a check that cannot fail proves nothing)', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])
    expect(cyclesIn(graph)).toEqual([['a', 'b', 'c', 'a']])
    expect(cyclesIn(new Map([['a', ['b']], ['b', []]]))).toEqual([])
  })

  it('only the Node bridge and the CLI depend on ws (browser users never install it)', () => {
    const withWs = packages.filter((p) => 'ws' in (p.json.dependencies ?? {}) || 'ws' in (p.json.peerDependencies ?? {})).map((p) => p.json.name)
    expect(withWs.sort()).toEqual(['@bitp2p/bridge', 'bitp2p'])
  })

  for (const p of packages) {
    describe(p.json.name, () => {
      it('has the shared metadata (run node scripts/package-metadata.mjs when this fails)', () => {
        expect(p.json).toEqual(withMetadata(p.json, p.folder))
        expect(typeof p.json.description).toBe('string')
        expect(p.json.description.length).toBeGreaterThan(20)
      })

      // (The CLI has no src/: plain .mjs files, no library code to check.)
      if (existsSync(join(p.dir, 'src'))) {
        it('has no import cycles among its runtime imports', () => {
          expect(importCycles(join(p.dir, 'src'))).toEqual([])
        })
      }

      it("ships the root's LICENSE", () => {
        expect(readFileSync(join(p.dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'))
        expect(p.json.files).toContain('LICENSE')
      })

      it(isApplication(p.json) ? 'as an application, pins our packages to the exact workspace versions' : 'depends on our own packages only as peers, within the same minor version', () => {
        if (isApplication(p.json)) {
          const ours = Object.entries<string>(p.json.dependencies ?? {}).filter(([name]) => name.startsWith('@bitp2p/'))
          expect(ours.length).toBeGreaterThan(0)
          for (const [name, version] of ours) expect(version).toBe(packages.find((q) => q.json.name === name)!.json.version)
          return
        }
        for (const name of Object.keys(p.json.dependencies ?? {})) expect(name.startsWith('@bitp2p/'), name).toBe(false)
        for (const [name, range] of Object.entries<string>(p.json.peerDependencies ?? {})) {
          if (!name.startsWith('@bitp2p/')) continue
          const target = packages.find((q) => q.json.name === name)
          expect(target, `${name} is a workspace package`).toBeDefined()
          expect(range).toBe(`^${target!.json.version}`)
          expect(p.json.devDependencies?.[name]).toBe(target!.json.version)
        }
      })

      it('states the runtime and TypeScript floors in its README', () => {
        expect(readFileSync(join(p.dir, 'README.md'), 'utf8')).toContain('Requires Node 20.19+, Deno 2, Bun 1.2+ or an ES2022 browser; TypeScript 5.7+')
      })

      it("has README links that resolve on the registry page (absolute, or this page's anchors)", () => {
        const readme = readFileSync(join(p.dir, 'README.md'), 'utf8')
        const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
        for (const t of targets) expect(t, `link ${t}`).toMatch(/^(https:\/\/|#)/)
      })
    })
  }
})

/** Every .d.ts file under `dir` (the Node variant's tree holds none). */
function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.d.ts'))
    .map((d) => join(d.parentPath, d.name))
}

describe('built declarations (dist/*.d.ts; run `npm run build` first)', () => {
  for (const p of packages.filter((q) => q.json.types !== undefined)) {
    const dist = join(p.dir, 'dist')
    describe(p.json.name, () => {
      it('is built (turbo builds every package before this test; locally run `npm run build` first)', () => {
        expect(existsSync(join(p.dir, p.json.types)), `${p.json.name}: ${p.json.types}`).toBe(true)
      })

      it('declare each class once, however many entry points reach it (a copy per entry would make two types of it)', () => {
        const where = new Map<string, string[]>()
        for (const f of declarationFiles(dist)) {
          for (const m of readFileSync(f, 'utf8').matchAll(/^declare (?:abstract )?class (\w+)/gm)) {
            where.set(m[1]!, [...(where.get(m[1]!) ?? []), relative(dist, f)])
          }
        }
        expect([...where].filter(([, files]) => files.length > 1)).toEqual([])
      })

      it('resolve every "exports" entry under the "node" condition to a build with the same exports as the default one', async () => {
        const entries = Object.entries<any>(p.json.exports).filter(([k, t]) => k !== './package.json' && t.node !== undefined)
        for (const [subpath, target] of entries) {
          const [node, plain] = await Promise.all([import(join(p.dir, target.node)), import(join(p.dir, target.default))])
          expect(Object.keys(node).sort(), `${p.json.name} ${subpath}`).toEqual(Object.keys(plain).sort())
        }
      })

      it('give every "exports" entry its declarations, whose relative imports name files that exist', () => {
        const entries = Object.entries<any>(p.json.exports).filter(([k]) => k !== './package.json')
        for (const [subpath, target] of entries) expect(existsSync(join(p.dir, target.types)), `${subpath} -> ${target.types}`).toBe(true)
        for (const f of declarationFiles(dist)) {
          for (const m of readFileSync(f, 'utf8').matchAll(/from '(\.\.?\/[^']+)\.js'/g)) {
            expect(existsSync(resolve(dirname(f), `${m[1]}.d.ts`)), `${relative(dist, f)} imports ${m[1]}.js`).toBe(true)
          }
        }
      })
    })
  }
})

describe('the "node" export condition, as Node resolves it (built dist)', () => {
  const wire = packages.find((q) => q.json.name === '@bitp2p/wire')!
  const entries = Object.keys(wire.json.exports).filter((k) => k !== './package.json')
  it('gives every @bitp2p/wire entry the node:crypto build', () => {
    expect(existsSync(join(wire.dir, 'dist', 'node-variant', 'index.js')), 'wire is built (npm run build)').toBe(true)
    // A plain node process from the repository root: node_modules/@bitp2p/wire and its "exports".
    const specifiers = entries.map((k) => (k === '.' ? '@bitp2p/wire' : `@bitp2p/wire/${k.slice(2)}`))
    const script = `const out = {}; for (const s of ${JSON.stringify(specifiers)}) out[s] = import.meta.resolve(s); console.log(JSON.stringify(out))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })
    expect(r.stderr).toBe('')
    const resolved = JSON.parse(r.stdout) as Record<string, string>
    expect(Object.keys(resolved).length).toBeGreaterThan(1)
    for (const [s, url] of Object.entries(resolved)) expect(url, s).toMatch(/\/packages\/wire\/dist\/node-variant\/[\w-]+\.js$/)
    const hash = spawnSync(process.execPath, ['--input-type=module', '-e', `console.log((await import('@bitp2p/wire/hash')).SHA256_BACKEND)`], { cwd: ROOT, encoding: 'utf8' })
    expect(hash.stdout.trim()).toBe('node:crypto')
  })
})
