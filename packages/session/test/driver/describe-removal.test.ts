// describeRemoval: the one line a pool prints when it drops a peer.
import { describe, expect, it } from 'vitest'
import type { DisconnectReason } from '../../src/core/fsm/reasons.js'
import type { PoolPeerInfo } from '../../src/core/pool/machine.js'
import { describeRemoval } from '../../src/driver/pool.js'

describe('describeRemoval', () => {
  const info = (host: string): PoolPeerInfo => ({
    id: 7,
    addr: { host, port: 8333 },
    slot: 'full-relay',
    direction: 'outbound',
    group: 'x',
    state: 'ready',
    services: 0n,
    inflight: 0,
    addrsLearned: 0,
    addrsDropped: 0,
  })
  it('names the peer host:port, an IPv6 host in brackets', () => {
    const reason: DisconnectReason = { kind: 'local', reason: 'bye' }
    expect(describeRemoval(info('203.0.113.1'), reason)).toMatch(/^#7 203\.0\.113\.1:8333 \(full-relay\): /)
    expect(describeRemoval(info('2001:db8::1'), reason)).toMatch(/^#7 \[2001:db8::1\]:8333 \(full-relay\): /)
  })
})
