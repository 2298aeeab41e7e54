import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'
import { playwright } from '@vitest/browser-playwright'
import { sdkCommands } from './test/sdk.global.js'
import { v2Commands } from './test/btcd.global.js'
import { sourceAliases } from '../../vitest.aliases.js'
import { CHROMIUM_PATH, IN_CI, noteAbsent } from '../../test/harness/requirements.js'
import { TIME_SCALE, TIME_SCALE_ENV, vitestTimeouts } from '../../test/harness/timing.js'

// Debian's chromium (apt); never a downloaded browser. CHROMIUM_PATH
// overrides (test/harness/requirements.ts picks the default).
const chromiumArgs = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

// One line per missing requirement. The browser project needs Chromium, and
// bcoin for its SDK test; without them it is left out locally, and in CI
// replaced by one test that fails with the reason.
noteAbsent('@bitp2p/bridge', ['deno', 'bun'])
const browserAbsent = noteAbsent('@bitp2p/bridge', ['chromium', 'bcoin']).length > 0

const browserProject: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'browser',
    include: ['test/**/*.browser.test.ts'],
    // The page has no process.env: the time scale goes in as import.meta.env.
    env: { [TIME_SCALE_ENV]: String(TIME_SCALE) },
    // Start, in the Node process, a TCP echo upstream and bridges
    // (bridge.global.ts), and bcoin regtest behind a validating bridge
    // (sdk.global.ts, whose commands the SDK test calls from the page).
    // And btcd with BIP324 v2 behind a recording relay and a validating bridge (btcd.global.ts): the page speaks v2 end to end.
    globalSetup: ['./test/bridge.global.ts', './test/sdk.global.ts', './test/btcd.global.ts'],
    browser: {
      enabled: true,
      commands: { ...sdkCommands, ...v2Commands },
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

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    ...vitestTimeouts,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.browser.test.ts'],
        },
      },
      ...(!browserAbsent ? [browserProject] : IN_CI ? [browserAbsentProject] : []),
    ],
  },
})
