import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { noteAbsent } from '../../test/harness/requirements.js'
import { vitestTimeouts } from '../../test/harness/timing.js'

// One line per missing requirement of the JetStream tests (skipped locally, failing in CI).
noteAbsent('@bitp2p/jetstream', ['nats-server', 'bcoin'])

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
