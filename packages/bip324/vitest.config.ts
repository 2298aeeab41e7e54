import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { nodeVariantPlugin } from '../../rollup.shared.mjs'

/**
 * The specs that run a second time against the Node variant (the build the
 * "node" export condition selects, where `./x.js` resolves to `./x.node.ts`):
 * every test of packets and handshakes, so the node:crypto AEAD meets the
 * BIP vectors and the session and handshake specifications too.
 */
const NODE_VARIANT_SPECS = ['test/vectors.test.ts', 'test/session.test.ts', 'test/handshake.test.ts', 'test/fuzz.test.ts', 'test/variant.test.ts']

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    environment: 'node',
    testTimeout: 60_000,
    projects: [
      // The default (browser) build: pure JS throughout.
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'], provide: { aeadBackend: 'noble' } } },
      {
        extends: true,
        // 'pre': before vite's own resolver turns `./x.js` into `./x.ts`. Wire's sources (aliased) get their Node variant too, as a Node app does.
        plugins: [{ ...nodeVariantPlugin(), enforce: 'pre' }],
        test: { name: 'node-variant', include: NODE_VARIANT_SPECS, provide: { aeadBackend: 'node:crypto' } },
      },
    ],
  },
})
