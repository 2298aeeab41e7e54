/**
 * The fuzzer (fuzz/, `npm run fuzz`) checks what it claims to check: its
 * targets cover every codec, the frame decoders and the block stream
 * parser; an input is rebuilt from (seed, target, iteration) alone; and
 * planted faults of each kind (a lossy codec, a codec throwing something
 * else than WireError, a cap below what decodes, an oversized allocation)
 * are reported as findings. A short seeded run of every target finds
 * nothing. (The long, time-budgeted runs are `npm run fuzz`, not tests.)
 */
import { describe, expect, it } from 'vitest'
import type { ByteReader } from '../src/bytes/reader.js'
import type { ByteWriter } from '../src/bytes/writer.js'
import { WireError } from '../src/errors.js'
import type { Codec } from '../src/messages/codec.js'
import { CODECS, type KnownMessage } from '../src/messages/registry.js'
import { createAllocGuard, guardedConstructors, MAX_ALLOCATION_BYTES } from '../fuzz/alloc-guard.js'
import { inputFor, runFuzz, runOne } from '../fuzz/run.js'
import { buildTargets, codecTarget, FuzzFinding } from '../fuzz/targets.js'
import { BLOCKS_PRESENT, readBlock, readFixtures } from './block/blocks-data.js'

const blocks = BLOCKS_PRESENT ? readFixtures().map((f) => readBlock(f.file)) : []
const targets = buildTargets({ blocks })

/** A codec reading one byte, with a fault planted in its decode or encode. */
function faulty(fault: 'lossy' | 'type-error' | 'cap'): Codec<KnownMessage> {
  const codec: Codec<{ readonly command: 'feefilter'; readonly feerate: bigint }> = {
    command: 'feefilter',
    maxPayload: () => (fault === 'cap' ? 0 : 1),
    encode(w: ByteWriter, m) {
      // Lossy: every value above 127 comes back as 127.
      w.u8(fault === 'lossy' ? Math.min(Number(m.feerate), 127) : Number(m.feerate))
    },
    decode(r: ByteReader) {
      const b = r.u8()
      if (fault === 'type-error' && b === 0x42) throw new TypeError('planted')
      return { command: 'feefilter', feerate: BigInt(b) }
    },
  }
  return codec as unknown as Codec<KnownMessage>
}

describe('fuzz targets', () => {
  it('cover the frame decoders, every codec of the registry and the block stream parser', () => {
    expect(targets.map((t) => t.name)).toEqual(['frames', ...CODECS.map((c) => `codec:${c.command}`), 'block-stream'])
  })

  it('rebuild an input from (seed, target, iteration) alone, whatever ran before', () => {
    for (const t of [targets[0]!, targets[1]!, targets.at(-1)!]) {
      const a = inputFor(t, 99, 12345).input
      inputFor(t, 99, 3) // a different input in between changes nothing
      expect(inputFor(t, 99, 12345).input).toEqual(a)
      expect(inputFor(t, 100, 12345).input).not.toEqual(a)
    }
  })
})

describe('planted faults are findings', () => {
  const seeds = [Uint8Array.of(5)]
  const run = (fault: 'lossy' | 'type-error' | 'cap') =>
    runFuzz({ seed: 1, targets: [codecTarget(faulty(fault), seeds, seeds)], budgetMs: 60_000, maxIterations: 5000, now: () => performance.now() }).finding

  it('a codec that does not give the bytes back: round-trip', () => {
    const f = run('lossy')
    expect(f?.kind).toBe('round-trip')
    expect(parseInt(f!.inputHex, 16)).toBeGreaterThan(127)
  })

  it('a codec throwing something else than WireError: exception, with the input that did it', () => {
    const f = run('type-error')
    expect(f?.kind).toBe('exception')
    expect(f?.inputHex).toBe('42')
    expect(f?.message).toContain('TypeError: planted')
  })

  it('a payload that decodes but is larger than the codec cap: cap', () => {
    expect(run('cap')?.kind).toBe('cap')
  })

  it('the same seed finds the same input at the same iteration', () => {
    const a = run('type-error')!
    const again = runOne(codecTarget(faulty('type-error'), seeds, seeds), 1, a.iteration)
    expect(again.finding?.inputHex).toBe(a.inputHex)
  })

  it('an allocation above the limit, even when the code under test swallows the throw: memory', () => {
    const guard = createAllocGuard()
    const G = guardedConstructors(guard)
    // Ordinary allocations and views pass, and are real typed arrays.
    const view = new G.Uint8Array(new ArrayBuffer(8), 2, 4)
    expect(view).toBeInstanceOf(Uint8Array)
    expect(view.length).toBe(4)
    expect(new G.Array(3).length).toBe(3)
    expect(guard.tripped).toBeUndefined()
    // One byte over: refused before any memory is taken.
    const e = (() => {
      try {
        new G.Uint8Array(MAX_ALLOCATION_BYTES + 1)
      } catch (err) {
        return err
      }
      return undefined
    })()
    expect(e).toBeInstanceOf(FuzzFinding)
    expect((e as FuzzFinding).kind).toBe('memory')
    expect(guard.tripped).toContain(String(MAX_ALLOCATION_BYTES + 1))
    guard.reset()
    expect(() => G.Array(2 ** 30)).toThrow(FuzzFinding)
    // A target whose code catches the guard's throw still yields a finding.
    const swallowing = {
      name: 'swallow',
      weight: 1,
      generate: () => new Uint8Array(0),
      run: () => {
        try {
          new G.ArrayBuffer(MAX_ALLOCATION_BYTES * 2)
        } catch {
          throw new WireError('INVALID_VALUE', 'looks like a clean refusal')
        }
        return false
      },
    }
    expect(runOne(swallowing, 1, 0, guard).finding?.kind).toBe('memory')
  })
})

describe('a short seeded run of every target', () => {
  it('finds nothing in 150 inputs per target (seed 20261)', () => {
    const r = runFuzz({ seed: 20261, targets, budgetMs: 600_000, maxIterations: 150, now: () => performance.now() })
    expect(r.finding).toBeUndefined()
    for (const s of r.stats) expect(s.inputs, s.name).toBe(150)
    // Mutants are accepted often enough for the round-trip checks to bite.
    const accepted = r.stats.reduce((n, s) => n + s.accepted, 0)
    expect(accepted).toBeGreaterThan(1000)
  })
})
