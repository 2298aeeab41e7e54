/**
 * The bip324 fuzz targets (fuzz/targets.ts, run long by `npm run fuzz`)
 * run on the wire fuzzer's runner: a short seeded run of each finds
 * nothing, sees both accepted and refused inputs, and a pinned input (a v1
 * prefix cut across chunks, once a false finding of the target itself)
 * stays clean.
 */
import { describe, expect, it } from 'vitest'
import { runOne } from '../../wire/fuzz/run.js'
import { FuzzRng } from '../../wire/fuzz/rng.js'
import { bip324Targets, handshakeTarget } from '../fuzz/targets.js'
import { fromHex } from './helpers.js'

describe('bip324 fuzz targets', () => {
  for (const target of bip324Targets()) {
    it(`${target.name}: 150 seeded inputs, no finding, some accepted and some refused`, () => {
      let accepted = 0
      const findings: unknown[] = []
      for (let i = 0; i < 150; i++) {
        const r = runOne(target, 7, i)
        if (r.finding) findings.push(r.finding)
        if (r.accepted) accepted++
      }
      expect(findings).toEqual([])
      expect(accepted).toBeGreaterThan(0)
      expect(accepted).toBeLessThan(150)
    })
  }

  it('regression (seed 1, iteration 45): a v1 prefix split across chunks compares whole streams', () => {
    const input = fromHex('d95ce19ffabfb5da76657273696f6e0000000000f941474f2921e2d7')
    for (let s = 0; s < 20; s++) expect(handshakeTarget().run(input, new FuzzRng(s))).toBe(true)
  })
})
