/**
 * What every light store shares besides the interface: the state's JSON
 * text, and a queue that applies calls one at a time in the order they were
 * made (a store's own bookkeeping is read and written across awaits).
 * Internal: not exported from the package.
 */
import type { JsonValue } from './store.js'

/**
 * The JSON text of a state. Throws TypeError for what JSON cannot hold
 * (undefined, a function, a symbol; a BigInt throws from JSON.stringify
 * itself): a misuse by the program.
 */
export function stateToJson(state: JsonValue): string {
  const text = JSON.stringify(state) as string | undefined
  if (typeof text !== 'string') throw new TypeError(`light store: a ${typeof state} is not a JSON value and cannot be saved as the state`)
  return text
}

/** Runs tasks one after another in call order; a failed task does not stop the ones after it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  /** Runs `task` once every task queued before it has settled; settles as `task` does. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task)
    this.tail = result.catch(() => undefined)
    return result
  }
}
