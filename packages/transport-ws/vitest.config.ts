import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { vitestTimeouts } from '../../test/harness/timing.js'

// The client's own tests (protocol helpers, bundle checks). The client
// against a real bridge, in Node and in Chromium, is tested in @bitp2p/bridge.
export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
