// The shim that runs the compliance suite inside workerd
// (test/worker/vitest-shim.ts) must fail where vitest would: otherwise a
// passing suite in the worker would prove nothing.
import { describe, expect, it } from 'vitest'
import * as shim from './worker/vitest-shim.js'

describe('the worker vitest shim', () => {
  it('each matcher throws an AssertionError on a mismatch and passes on a match', () => {
    const fails = (f: () => void): boolean => {
      try {
        f()
        return false
      } catch (e) {
        return e instanceof shim.AssertionError
      }
    }
    const cases: [boolean, () => void][] = [
      [true, () => shim.expect(1).toBe(2)],
      [false, () => shim.expect(1).toBe(1)],
      [true, () => shim.expect(Uint8Array.of(1, 2)).toEqual(Uint8Array.of(1, 3))],
      [true, () => shim.expect(Uint8Array.of(1, 2)).toEqual(Uint8Array.of(1, 2, 3))],
      [false, () => shim.expect(Uint8Array.of(1, 2)).toEqual(Uint8Array.of(1, 2))],
      [true, () => shim.expect(undefined).toBeDefined()],
      [false, () => shim.expect(0).toBeDefined()],
      [true, () => shim.expect(null).toBeUndefined()],
      [false, () => shim.expect(undefined).toBeUndefined()],
      [true, () => shim.expect(['a', 'b']).toContain('c')],
      [false, () => shim.expect(['a', 'b']).toContain('b')],
      [true, () => shim.expect(1).toBeGreaterThan(1)],
      [false, () => shim.expect(2).toBeGreaterThan(1)],
      [true, () => shim.expect(0).toBeGreaterThanOrEqual(1)],
      [false, () => shim.expect(1).toBeGreaterThanOrEqual(1)],
      [true, () => shim.expect(2).toBeLessThanOrEqual(1)],
      [false, () => shim.expect(1).toBeLessThanOrEqual(1)],
      [true, () => shim.expect(() => { throw new Error('x') }).not.toThrow()],
      [false, () => shim.expect(() => {}).not.toThrow()],
    ]
    expect(cases.map(([, f]) => fails(f))).toEqual(cases.map(([want]) => want))
  })

  it('runCollected runs hooks around the cases and reports a failure, a timeout and a pass by name', async () => {
    const order: string[] = []
    shim.describe('sample', () => {
      shim.beforeAll(() => void order.push('before'))
      shim.afterAll(() => void order.push('after'))
      shim.it('passes', () => void order.push('passes'))
      shim.it('fails', () => shim.expect(1, 'one').toBe(2))
      shim.it('hangs', { timeout: 20 }, () => new Promise(() => {}))
    })
    const results = await shim.runCollected()
    expect(order).toEqual(['before', 'passes', 'after'])
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ['passes', true],
      ['fails', false],
      ['hangs', false],
    ])
    expect(results[1]!.error).toBe('AssertionError: one: expected 1 to be 2')
    expect(results[2]!.error).toBe('Error: timed out after 20 ms')
  })
})
