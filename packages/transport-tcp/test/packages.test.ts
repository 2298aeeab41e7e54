/**
 * What `npm publish` would ship, checked on every run: each published
 * package carries the shared metadata (scripts/package-metadata.mjs writes
 * it), its own LICENSE, our packages as peers (one copy per app), and a
 * README whose links work on the registry page.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script without types
import { isApplication, publishedPackages, withMetadata } from '../../../scripts/package-metadata.mjs'
// @ts-expect-error: a plain .mjs script without types
import { cyclesIn, importCycles } from '../../../scripts/import-cycles.mjs'
import { existsSync } from 'node:fs'

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
