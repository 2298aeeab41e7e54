import { defineConfig } from 'vitest/config'
import { vitestTimeouts } from '../../test/harness/timing.js'
import { nodeVariantPlugin } from '../../rollup.shared.mjs'

/**
 * The specs that run a second time against the Node variant (the build the
 * "node" export condition selects, where `./x.js` resolves to `./x.node.ts`):
 * transaction ids, blocks and merkle trees, whose hashing takes different
 * paths there (node:crypto for long inputs, plain JS for short ones).
 */
const NODE_VARIANT_SPECS = ['test/tx/id-ranges.test.ts', 'test/tx/id.test.ts', 'test/block/block.test.ts', 'test/block/stream.test.ts', 'test/block/merkle.test.ts']

export default defineConfig({
  test: {
    environment: 'node',
    ...vitestTimeouts,
    projects: [
      // The default (browser) build: pure JS throughout.
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'], provide: { hashBackend: 'noble' } } },
      {
        extends: true,
        // 'pre': before vite's own resolver turns `./x.js` into `./x.ts`.
        plugins: [{ ...nodeVariantPlugin(), enforce: 'pre' }],
        test: { name: 'node-variant', include: NODE_VARIANT_SPECS, provide: { hashBackend: 'node:crypto' } },
      },
    ],
  },
})
