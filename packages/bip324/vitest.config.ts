import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { environment: 'node', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
})
