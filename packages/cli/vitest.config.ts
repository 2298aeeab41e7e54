import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { noteAbsent } from '../../test/harness/requirements.js'
import { vitestTimeouts } from '../../test/harness/timing.js'

// The CLI runs on the built packages (as a user runs it), against bcoin on
// regtest; the live view is checked in Chromium. One line per missing
// requirement (skipped locally, failing in CI).
noteAbsent('bitp2p (cli)', ['bcoin', 'chromium'])

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
