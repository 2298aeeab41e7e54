import { defineConfig } from 'vitest/config'
import { playwright } from '@vitest/browser-playwright'
import { sdkCommands } from './test/sdk.global.js'
import { sourceAliases } from '../../vitest.aliases.js'

// Debian's chromium (apt); never a downloaded browser. The real binary avoids
// the /usr/bin/chromium wrapper's stderr noise; CHROMIUM_PATH overrides.
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

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
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
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/**/*.browser.test.ts'],
          // Start, in the Node process, a TCP echo upstream and bridges
          // (bridge.global.ts), and bcoin regtest behind a validating bridge
          // (sdk.global.ts, whose commands the SDK test calls from the page).
          globalSetup: ['./test/bridge.global.ts', './test/sdk.global.ts'],
          browser: {
            enabled: true,
            commands: sdkCommands,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
                args: chromiumArgs,
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
})
