/**
 * The LightStore compliance suite: every store (memory, file, IndexedDB)
 * runs it. `open` gives a fresh store over the same backing storage each
 * time it is called with the same `name` (a reopen after a restart).
 */
import { describe, expect, it } from 'vitest'
import { isLightStoreError } from '../../src/store/error.js'
import type { LightStore } from '../../src/store/store.js'

/** Options of one store implementation under test. */
export interface StoreUnderTest {
  readonly name: string
  /** Opens the store kept under `key`; a second open with the same key sees what the first wrote. */
  open(key: string): Promise<LightStore>
}

function headers(from: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 32)
  for (let i = 0; i < count; i++) out.fill((from + i) & 0xff, i * 32, i * 32 + 32)
  return out
}

let keys = 0
function freshKey(): string {
  return `store-${Date.now().toString(36)}-${keys++}`
}

/** Runs the suite against `store`. */
export function lightStoreCompliance(store: StoreUnderTest): void {
  describe(`LightStore compliance: ${store.name}`, () => {
    it('starts empty: no filter headers and no state', async () => {
      const s = await store.open(freshKey())
      expect((await s.loadFilterHeaders()).length).toBe(0)
      expect(await s.loadState()).toBeUndefined()
      await s.close()
    })

    it('keeps filter headers and state across a reopen', async () => {
      const key = freshKey()
      const a = await store.open(key)
      await a.putFilterHeaders(0, headers(0, 3))
      await a.putFilterHeaders(3, headers(3, 2))
      await a.saveState({ scanHeight: 4, scripts: ['0014ab'], nested: { ok: true, n: null } })
      await a.close()
      const b = await store.open(key)
      expect(await b.loadFilterHeaders()).toEqual(headers(0, 5))
      expect(await b.loadState()).toEqual({ scanHeight: 4, scripts: ['0014ab'], nested: { ok: true, n: null } })
      await b.close()
    })

    it('a write below the tip replaces from there and drops everything above (a reorg)', async () => {
      const key = freshKey()
      const s = await store.open(key)
      await s.putFilterHeaders(0, headers(0, 10))
      const replacement = new Uint8Array(64).fill(0xee)
      await s.putFilterHeaders(4, replacement)
      const expected = new Uint8Array(6 * 32)
      expected.set(headers(0, 4))
      expected.set(replacement, 4 * 32)
      expect(await s.loadFilterHeaders()).toEqual(expected)
      await s.close()
      const again = await store.open(key)
      expect(await again.loadFilterHeaders()).toEqual(expected)
      await again.close()
    })

    it('an empty write at a height truncates to it', async () => {
      const s = await store.open(freshKey())
      await s.putFilterHeaders(0, headers(0, 5))
      await s.putFilterHeaders(2, new Uint8Array(0))
      expect(await s.loadFilterHeaders()).toEqual(headers(0, 2))
      await s.close()
    })

    it('refuses a write that would leave a gap or is not whole headers, and changes nothing', async () => {
      const s = await store.open(freshKey())
      await s.putFilterHeaders(0, headers(0, 2))
      await expect(s.putFilterHeaders(3, headers(3, 1))).rejects.toThrow(RangeError)
      await expect(s.putFilterHeaders(-1, headers(0, 1))).rejects.toThrow(RangeError)
      await expect(s.putFilterHeaders(1, new Uint8Array(31))).rejects.toThrow(RangeError)
      expect(await s.loadFilterHeaders()).toEqual(headers(0, 2))
      await s.close()
    })

    it('the saved state is a copy: changing the object afterwards does not change the store', async () => {
      const s = await store.open(freshKey())
      const state = { list: [1, 2] }
      await s.saveState(state)
      state.list.push(3)
      expect(await s.loadState()).toEqual({ list: [1, 2] })
      await s.saveState({ replaced: 'yes' })
      expect(await s.loadState()).toEqual({ replaced: 'yes' })
      await s.close()
    })

    it('returned headers are a copy the caller may change', async () => {
      const s = await store.open(freshKey())
      await s.putFilterHeaders(0, headers(0, 1))
      const got = await s.loadFilterHeaders()
      got.fill(0x99)
      expect(await s.loadFilterHeaders()).toEqual(headers(0, 1))
      await s.close()
    })

    it('applies calls made without waiting in the order they were made', async () => {
      const key = freshKey()
      const s = await store.open(key)
      const done = Promise.all([
        s.putFilterHeaders(0, headers(0, 3)),
        s.putFilterHeaders(3, headers(3, 2)),
        s.saveState({ n: 1 }),
        s.putFilterHeaders(1, headers(11, 2)),
        s.saveState({ n: 2 }),
      ])
      const [loaded, state] = await Promise.all([s.loadFilterHeaders(), s.loadState()])
      await done
      const expected = new Uint8Array(3 * 32)
      expected.set(headers(0, 1))
      expected.set(headers(11, 2), 32)
      expect(loaded).toEqual(expected)
      expect(state).toEqual({ n: 2 })
      await s.close()
    })

    it('refuses a state JSON cannot hold, and keeps the one before', async () => {
      const s = await store.open(freshKey())
      await s.saveState({ kept: true })
      await expect(s.saveState(undefined as never)).rejects.toThrow(TypeError)
      await expect(s.saveState({ n: 1n } as never)).rejects.toThrow(TypeError)
      expect(await s.loadState()).toEqual({ kept: true })
      await s.close()
    })

    it('rejects calls after close with LightStoreError CLOSED, and a second close is harmless', async () => {
      const s = await store.open(freshKey())
      await s.close()
      for (const call of [() => s.loadFilterHeaders(), () => s.saveState(1), () => s.loadState(), () => s.putFilterHeaders(0, headers(0, 1))]) {
        const e: unknown = await call().then(
          () => undefined,
          (err: unknown) => err,
        )
        expect(isLightStoreError(e) && e.code).toBe('CLOSED')
      }
      await s.close()
    })

    it('close waits for the calls made before it, and they take effect', async () => {
      const key = freshKey()
      const s = await store.open(key)
      const put = s.putFilterHeaders(0, headers(0, 4))
      const save = s.saveState('last')
      await s.close()
      await put
      await save
      const again = await store.open(key)
      expect(await again.loadFilterHeaders()).toEqual(headers(0, 4))
      expect(await again.loadState()).toBe('last')
      await again.close()
    })
  })
}
