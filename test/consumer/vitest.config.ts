import { defineConfig } from 'vitest/config'
import { noteAbsent } from '../harness/requirements.js'
import { vitestTimeouts } from '../harness/timing.js'

// One line per missing requirement (skipped locally, failing in CI).
noteAbsent('consumer', ['bcoin', 'deno', 'bun', 'workerd'])

// No source aliases: this job sees the packages only as the tarballs npm
// installs into a fresh app.
export default defineConfig({
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
