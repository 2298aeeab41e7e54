import { describe, expect, it } from 'vitest'
import { WireError } from '@bitp2p/wire'
import {
  DISCOURAGEMENT_THRESHOLD,
  framingOffense,
  Misbehavior,
  OFFENSE_SCORES,
  offenseScore,
  payloadOffense,
  type Offense,
} from '../../../src/core/fsm/misbehavior.js'

describe('Misbehavior', () => {
  it('defaults to Core’s old discouragement threshold', () => {
    expect(DISCOURAGEMENT_THRESHOLD).toBe(100)
    expect(new Misbehavior().threshold).toBe(100)
  })

  it('accumulates scores and reports crossing the threshold exactly once', () => {
    const m = new Misbehavior(30)
    const o: Offense = { kind: 'unsolicited-headers', count: 9 }
    expect(m.add(o)).toEqual({ added: 20, score: 20, crossed: false })
    expect(m.exceeded).toBe(false)
    expect(m.add(o)).toEqual({ added: 20, score: 40, crossed: true })
    expect(m.add(o)).toEqual({ added: 20, score: 60, crossed: false })
    expect(m.exceeded).toBe(true)
    expect(m.last).toBe(o)
  })

  it('a zero-score offense is recorded but costs nothing', () => {
    const m = new Misbehavior()
    const o = framingOffense(new WireError('BAD_MAGIC', 'x'))
    expect(m.add(o)).toEqual({ added: 0, score: 0, crossed: false })
    expect(m.last).toEqual(o)
  })

  it('rejects a threshold that is not positive', () => {
    expect(() => new Misbehavior(0)).toThrow(RangeError)
    expect(() => new Misbehavior(Number.NaN)).toThrow(RangeError)
  })

  it('scores every offense kind with a number in [0, 100]', () => {
    for (const [kind, score] of Object.entries(OFFENSE_SCORES)) {
      expect(Number.isInteger(score), kind).toBe(true)
      expect(score).toBeGreaterThanOrEqual(0)
      expect(score).toBeLessThanOrEqual(100)
    }
  })
})

describe('offense mapping', () => {
  it('maps framing errors to offenses', () => {
    const e = (code: WireError['code']) => new WireError(code, code)
    expect(framingOffense(e('BAD_MAGIC')).kind).toBe('wrong-network')
    expect(framingOffense(e('BAD_CHECKSUM')).kind).toBe('bad-checksum')
    expect(framingOffense(e('OVERSIZE')).kind).toBe('oversized-message')
    expect(framingOffense(e('BAD_COMMAND')).kind).toBe('bad-frame')
    expect(offenseScore(framingOffense(e('OVERSIZE')))).toBe(100)
  })

  it('maps undecodable payloads: OVERSIZE is too-many-items, the rest malformed', () => {
    expect(payloadOffense('addr', new WireError('OVERSIZE', 'x')).kind).toBe('too-many-items')
    expect(payloadOffense('addr', new WireError('TRUNCATED', 'x')).kind).toBe('malformed-payload')
    expect(payloadOffense('addr', new WireError('INVALID_VALUE', 'x'))).toMatchObject({ command: 'addr' })
  })
})
