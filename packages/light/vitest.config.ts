import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { noteAbsent } from '../../test/harness/requirements.js'
import { vitestTimeouts } from '../../test/harness/timing.js'

// One line per missing requirement of the interop tests (skipped locally, failing in CI).
noteAbsent('@bitp2p/light', ['btcd'])

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
