/**
 * Catches allocations sized beyond any input: wraps the global ArrayBuffer,
 * Uint8Array, Uint32Array and Array constructors (in the fuzz worker only)
 * so that asking for more than the limit throws a FuzzFinding of kind
 * 'memory' and marks the guard as tripped. A decoder that sizes a buffer
 * from an unchecked length is caught at that call, before the memory is
 * taken, whichever code catches the throw (the runner checks the mark
 * after every input).
 */
import { FuzzFinding } from './targets.js'

/** Largest single buffer a decoder may allocate while fuzzed: 16 x the 4 MB payload cap. */
export const MAX_ALLOCATION_BYTES = 64 * 1024 * 1024
/** Largest array length (elements) a decoder may allocate while fuzzed. */
export const MAX_ARRAY_LENGTH = 16 * 1024 * 1024

/** The guard's state: the first oversized request seen, if any. */
export interface AllocGuard {
  /** Message of the first oversized allocation since the last `reset`, or undefined. */
  tripped: string | undefined
  /** Forget a trip (between inputs). */
  reset(): void
}

type Ctor = abstract new (...args: never[]) => unknown

/** `ctor` behind a proxy that refuses a first argument (a length) above `maxCount`. */
function wrap<C extends Ctor>(ctor: C, name: string, maxCount: number, unit: string, guard: AllocGuard, callable: boolean): C {
  const check = (args: readonly unknown[]): void => {
    const n = args[0]
    if (typeof n === 'number' && n > maxCount) {
      const msg = `${name}(${n}): allocation above the fuzz limit of ${maxCount} ${unit}`
      guard.tripped ??= msg
      throw new FuzzFinding('memory', msg)
    }
  }
  return new Proxy(ctor, {
    construct(target, args, newTarget) {
      check(args)
      return Reflect.construct(target as unknown as new (...a: unknown[]) => object, args, newTarget as new (...a: unknown[]) => object)
    },
    ...(callable
      ? {
          apply(target: C, thisArg: unknown, args: unknown[]) {
            check(args)
            return Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args)
          },
        }
      : {}),
  })
}

/** A new guard, not yet tripped. */
export function createAllocGuard(): AllocGuard {
  return {
    tripped: undefined,
    reset() {
      this.tripped = undefined
    },
  }
}

/** The guarded constructors, for `guard`; `installAllocGuard` puts them on globalThis. */
export function guardedConstructors(guard: AllocGuard): {
  ArrayBuffer: ArrayBufferConstructor
  Uint8Array: Uint8ArrayConstructor
  Uint32Array: Uint32ArrayConstructor
  Array: ArrayConstructor
} {
  return {
    ArrayBuffer: wrap(ArrayBuffer, 'ArrayBuffer', MAX_ALLOCATION_BYTES, 'bytes', guard, false),
    Uint8Array: wrap(Uint8Array, 'Uint8Array', MAX_ALLOCATION_BYTES, 'bytes', guard, false),
    Uint32Array: wrap(Uint32Array, 'Uint32Array', MAX_ALLOCATION_BYTES / 4, 'elements', guard, false),
    Array: wrap(Array, 'Array', MAX_ARRAY_LENGTH, 'elements', guard, true),
  }
}

/** Install the guard on globalThis (in the fuzz worker only: every later allocation in the thread goes through it). */
export function installAllocGuard(): AllocGuard {
  const guard = createAllocGuard()
  Object.assign(globalThis, guardedConstructors(guard))
  return guard
}
