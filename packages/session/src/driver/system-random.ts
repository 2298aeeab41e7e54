/**
 * The platform's cryptographic random source (`crypto.getRandomValues`,
 * present in Node 20+, Deno, Bun, browsers and workers) as a `Random`. Used
 * in production, e.g. for version and ping nonces; simulations pass a
 * SeededRandom instead. The one file of the package that reads system
 * randomness.
 */
import { U32Source } from '../core/random.js'
import type { Random } from '../core/ports.js'

/** How many u32 words `systemRandom()` fetches per call to getRandomValues. */
export const SYSTEM_RANDOM_BATCH = 64

/** Random backed by `globalThis.crypto.getRandomValues`, fetched in batches. */
class SystemRandom extends U32Source {
  readonly #buf = new Uint32Array(SYSTEM_RANDOM_BATCH)
  #pos = SYSTEM_RANDOM_BATCH

  u32(): number {
    if (this.#pos === SYSTEM_RANDOM_BATCH) {
      globalThis.crypto.getRandomValues(this.#buf)
      this.#pos = 0
    }
    return this.#buf[this.#pos++]
  }
}

/**
 * The platform's cryptographic random source as a `Random`.
 * @throws Error when the runtime has no `crypto.getRandomValues`.
 */
export function systemRandom(): Random {
  if (typeof globalThis.crypto?.getRandomValues !== 'function') {
    throw new Error('systemRandom: globalThis.crypto.getRandomValues is not available')
  }
  return new SystemRandom()
}
