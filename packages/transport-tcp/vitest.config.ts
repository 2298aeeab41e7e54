import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { noteAbsent } from '../../test/harness/requirements.js'
import { vitestTimeouts } from '../../test/harness/timing.js'

// One line per missing requirement of the interop and runtime tests (skipped locally, failing in CI).
noteAbsent('@bitp2p/transport-tcp', ['bcoin', 'btcd', 'deno', 'bun'])

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
