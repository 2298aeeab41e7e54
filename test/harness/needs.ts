/**
 * `describe` and `it` for tests that need something beyond `npm ci`
 * (Chromium, Deno, Bun, a bcoin node: test/harness/requirements.ts).
 * When it is present the test runs as written. When it is absent the test
 * is skipped locally, its title saying why; in CI (CI=true) it is not
 * skipped but fails at once with the reason.
 *
 *   needs('deno').it('deno: ...', { timeout }, async () => { ... })
 *   needs('bcoin', 'chromium').describe('the page against bcoin', () => { ... })
 */
import { describe, it } from 'vitest'
import { IN_CI, reasons, REQUIREMENTS, type RequirementName } from './requirements.js'

/** A missing requirement in CI. */
export class RequirementMissingError extends Error {
  override readonly name = 'RequirementMissingError'
  constructor(readonly why: string) {
    super(`CI=true and a requirement is missing: ${why}. In CI a test that needs it must run, not be skipped.`)
  }
}

type DescribeArgs = Parameters<typeof describe>
/** A test body. */
type TestFn = () => unknown

/** describe() for tests that need something; `skipIf(cond)` also skips them, anywhere, when `cond` holds. */
export interface NeedingDescribe {
  (title: string, fn: () => void): void
  skipIf(cond: boolean): (title: string, fn: () => void) => void
}

/** `describe` and `it` for tests that need all of `names`. */
export interface Needing {
  /** describe(): as is when present; locally skipped, in CI one failing test, when absent. */
  readonly describe: NeedingDescribe
  /** it(): as is when present; locally skipped, in CI failing with the reason, when absent. */
  it(title: string, options: { timeout?: number }, fn: TestFn): void
  it(title: string, fn: TestFn): void
}

/** The tests for `names`: run when all are present; see the module comment otherwise. */
export function needs(...names: RequirementName[]): Needing {
  const why = reasons(names)
  const skipped = (title: string) => `${title} [skipped: ${why}]`
  const fail = () => {
    throw new RequirementMissingError(why!)
  }
  const needing = (title: string, fn: () => void): void => {
    if (why === undefined) describe(title, fn as DescribeArgs[1])
    else if (IN_CI) describe(title, () => it(`needs ${names.map((n) => REQUIREMENTS[n].label).join(' and ')}`, fail))
    else describe.skip(skipped(title), fn as DescribeArgs[1])
  }
  return {
    describe: Object.assign(needing, {
      skipIf: (cond: boolean) => (title: string, fn: () => void) => (cond ? describe.skip(title, fn as DescribeArgs[1]) : needing(title, fn)),
    }),
    it(title: string, a: unknown, b?: unknown) {
      const [options, fn] = (typeof a === 'function' ? [{}, a] : [a, b]) as [{ timeout?: number }, TestFn]
      if (why === undefined) it(title, options, fn)
      else if (IN_CI) it(title, options, fail)
      else it.skip(skipped(title), options, fn)
    },
  }
}

