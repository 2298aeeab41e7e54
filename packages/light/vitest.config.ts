import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'
import { playwright } from '@vitest/browser-playwright'
import { sourceAliases } from '../../vitest.aliases.js'
import { CHROMIUM_PATH, IN_CI, noteAbsent } from '../../test/harness/requirements.js'
import { TIME_SCALE, TIME_SCALE_ENV, vitestTimeouts } from '../../test/harness/timing.js'

// The node project runs everything but the browser tests; the browser
// project runs test/**/*.browser.test.ts (the IndexedDB stores) in headless
// Chromium: Debian's (apt), never a downloaded browser; CHROMIUM_PATH
// overrides (test/harness/requirements.ts picks the default).
const chromiumArgs = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

// Without Chromium the browser project is left out locally, and in CI
// replaced by one test that fails with the reason.
const browserAbsent = noteAbsent('@bitp2p/light', ['chromium']).length > 0

const browserProject: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'browser',
    include: ['test/**/*.browser.test.ts'],
    // The page has no process.env: the time scale goes in as import.meta.env.
    env: { [TIME_SCALE_ENV]: String(TIME_SCALE) },
    // btcd with payments to a watched address, behind a bridge (in the Node process): test/watch.browser.test.ts.
    globalSetup: ['./test/watch.global.ts'],
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({ launchOptions: { executablePath: CHROMIUM_PATH, args: chromiumArgs } }),
      instances: [{ browser: 'chromium' }],
    },
  },
}

/** In CI without Chromium: the browser project is one failing test naming what is missing. */
const browserAbsentProject: TestProjectInlineConfiguration = {
  extends: true,
  test: { name: 'browser', environment: 'node', include: ['test/browser-absent.check.ts'] },
}

// The interop tests (btcd): skipped locally without it, failing in CI.
noteAbsent('@bitp2p/light', ['btcd'])

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    ...vitestTimeouts,
    projects: [
      {
        extends: true,
        test: { name: 'node', environment: 'node', include: ['test/**/*.test.ts'], exclude: ['test/**/*.browser.test.ts'] },
      },
      ...(!browserAbsent ? [browserProject] : IN_CI ? [browserAbsentProject] : []),
    ],
  },
})
