import { defineConfig } from 'vitest/config'
import { vitestTimeouts } from '../../test/harness/timing.js'

export default defineConfig({ test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts } })
