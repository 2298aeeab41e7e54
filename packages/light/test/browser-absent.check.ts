// Run by vitest.config.ts as the browser project only in CI when Chromium is
// missing: the browser tests cannot run, and in CI that is a failure, not a skip.
import { needs } from '../../../test/harness/needs.js'

needs('chromium').it('the browser tests (test/**/*.browser.test.ts) run in headless Chromium', () => {
  throw new Error('the browser project was left out although Chromium is present: see vitest.config.ts')
})
