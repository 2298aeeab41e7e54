import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { noteAbsent } from '../../test/harness/requirements.js'
import { vitestTimeouts } from '../../test/harness/timing.js'

// The CLI runs on the built packages (as a user runs it), against bcoin on
// regtest (watch against btcd, which serves compact filters); the live
// view is checked in Chromium. One line per missing
// requirement (skipped locally, failing in CI).
noteAbsent('bitp2p (cli)', ['bcoin', 'btcd', 'chromium'])

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
