import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { vitestTimeouts } from '../harness/timing.js'

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
