/**
 * Waiting in tests without guessing: poll a condition against a scaled
 * budget, and take a promise's rejection as a value.
 */
import { scaled } from './timing.js'

/** The rejection of `p` (throws if `p` resolves), typed as the caller expects. */
export async function rejection<E = Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p
  } catch (e) {
    return e as E
  }
  throw new Error('expected a rejection')
}

/** Resolves after `ms` of wall time (for pacing a poll, never as a guess at how long work takes). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Polls `cond` every 20 ms until it is true; throws after `ms` (a scaled
 * budget by default), naming `what` it waited for.
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string | (() => string), ms = scaled(10_000)): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`)
    await sleep(20)
  }
}
