import { describe, expect, it } from 'vitest'
import { runTwoPeers } from '../../../examples/two-peers.js'

describe('examples/two-peers.ts', () => {
  it('handshakes, fetches headers, pings and closes, in virtual time', async () => {
    const log = await runTwoPeers()
    // Link latency 25 ms; the dial completes after one round trip (50 ms).
    // The v2 (BIP324) key exchange takes one more (Alice's key reaches Bob
    // at 75, his key and version packet reach her at 100), then Alice's
    // version reaches Bob at 125; Bob answers with version ... verack at
    // once, which reach Alice at 150: ready. Each request after that is one
    // round trip (50 ms), and Bob hears of the close 25 ms later.
    expect(log).toEqual([
      '150 ms alice: connected to /bob:1.0/ (transport v2, version 70016, wtxidrelay true)',
      expect.stringMatching(/^200 ms alice: 3 headers, tip [0-9a-f]{16}\.\.\.$/),
      '250 ms alice: ping 50 ms',
      '250 ms alice: closed (local)',
      '275 ms bob: closed (transport)',
    ])
  })

  it('gives the same output for the same seed', async () => {
    expect(await runTwoPeers('s')).toEqual(await runTwoPeers('s'))
  })
})
