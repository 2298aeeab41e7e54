// The client stays browser-clean: bundling src/client.ts for the browser
// pulls in no node:* module and none of the bridge's code.
import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))

describe('client bundle', () => {
  it('bundles for the browser without node:* and without the bridge', async () => {
    const result = await build({
      entryPoints: [here('../src/client.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      metafile: true,
      // The subpath first: esbuild would otherwise read '@bitp2p/session/core' as a path under index.ts.
      alias: { '@bitp2p/session/core': here('../../session/src/core.ts'), '@bitp2p/session': here('../../session/src/index.ts') },
      logLevel: 'silent',
    })
    const inputs = Object.keys(result.metafile!.inputs)
    expect(inputs.some((i) => /(^|\/)src\/client\.ts$/.test(i))).toBe(true)
    expect(inputs.some((i) => /(^|\/)src\/protocol\.ts$/.test(i))).toBe(true)
    // Whole file names ('ip.ts' must not match session's gossip.ts) and the ws package.
    for (const banned of ['bridge.ts', 'cli.ts', 'policy.ts', 'ip.ts']) {
      expect(inputs.filter((i) => i === banned || i.endsWith(`/${banned}`))).toEqual([])
    }
    expect(inputs.filter((i) => i.includes('node_modules/ws/'))).toEqual([])
    const code = result.outputFiles[0]!.text
    expect(code).not.toMatch(/from\s*["']node:/)
    expect(code).not.toMatch(/require\(["']node:/)
  })
})
