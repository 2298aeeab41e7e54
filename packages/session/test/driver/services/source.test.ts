import { EventEmitter } from 'eventemitter3'
import { describe, expect, it } from 'vitest'
import type { DisconnectReason } from '../../../src/core/fsm/reasons.js'
import type { Peer } from '../../../src/driver/peer.js'
import { DISCOURAGEMENT_THRESHOLD, offenseScore } from '../../../src/core/fsm/misbehavior.js'
import { describeServiceOffense, watchPeers, type PeerSource, type PeerSourceEvents } from '../../../src/driver/services/source.js'

/** A source whose peers are opaque tokens: watchPeers never looks inside a peer. */
class FakeSource extends EventEmitter<PeerSourceEvents> implements PeerSource {
  constructor(public list: Peer[]) {
    super()
  }
  peers(): readonly Peer[] {
    return this.list
  }
  pick(): Peer | undefined {
    return this.list[0]
  }
  drop(): void {}
}

const peer = (name: string): Peer => ({ name }) as unknown as Peer
const reason: DisconnectReason = { kind: 'local', message: 'test' } as DisconnectReason

describe('watchPeers', () => {
  it('reports the peers listed now, then each that joins or closes, until unwatched', () => {
    const [a, b, c] = [peer('a'), peer('b'), peer('c')]
    const source = new FakeSource([a, b])
    const seen: string[] = []
    const label = (p: Peer): string => (p as unknown as { name: string }).name
    const unwatch = watchPeers(
      source,
      (p) => seen.push(`+${label(p)}`),
      (p) => seen.push(`-${label(p)}`),
    )
    expect(seen).toEqual(['+a', '+b'])

    source.emit('peer', c)
    source.emit('peer-closed', a, reason)
    expect(seen).toEqual(['+a', '+b', '+c', '-a'])
    expect(source.listenerCount('peer')).toBe(1)
    expect(source.listenerCount('peer-closed')).toBe(1)

    unwatch()
    source.emit('peer', peer('d'))
    source.emit('peer-closed', b, reason)
    expect(seen).toEqual(['+a', '+b', '+c', '-a'])
    expect(source.listenerCount('peer')).toBe(0)
    expect(source.listenerCount('peer-closed')).toBe(0)
  })
})

describe('describeServiceOffense', () => {
  it('names a wrong BIP157 filter by its block, height and what was wrong; it scores 100 (one is enough)', () => {
    const o = { kind: 'invalid-filter', hash: 'ab'.repeat(32), height: 1_234, detail: 'output script 0014aa.. of tx 2 output 0 missing' } as const
    expect(describeServiceOffense(o)).toBe(`invalid-filter: block ${'ab'.repeat(32)} at height 1234: output script 0014aa.. of tx 2 output 0 missing`)
    expect(offenseScore(o)).toBe(DISCOURAGEMENT_THRESHOLD)
  })
})
