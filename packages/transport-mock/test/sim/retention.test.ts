import { describe, it, expect } from 'vitest'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'
import { Peer, SeededRandom } from '@bitp2p/session'
import type { FrameCodec } from '@bitp2p/session/core'
import { v2, type V2Support } from '@bitp2p/session/v2'
import { regtest } from '@bitp2p/wire'
import { MockNetwork } from '../../src/network.js'

/**
 * What a live connection keeps. A simulation of 100,000 peers holds all
 * their connections at once, so everything one keeps beyond its state is
 * multiplied (issue 17): the connection must not keep the driver's options
 * (callbacks, connector, v2 support) nor the v2 codec a v1 client made it
 * drop.
 */
describe('a live connection keeps neither its driver options nor a dropped codec', () => {
  it('after a v2-first accept of a v1 client, the setup callback and the v2 codec are collectable', async () => {
    // Expose gc() for this test, so what is retained is told from what awaits collection.
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    const net = new MockNetwork({ seed: 'retention' })
    const random = new SeededRandom('retention')
    let setupRef: WeakRef<object> | undefined
    let codecRef: WeakRef<object> | undefined
    // The real v2 support, remembering (weakly) the responder codec it made.
    const watched: V2Support = {
      codecFor(role, ctx): FrameCodec {
        const codec = v2.codecFor(role, ctx)
        codecRef = new WeakRef(codec)
        return codec
      },
    }
    const accepted: Promise<Peer>[] = []
    net.listen({ host: '10.0.0.1', port: 18444 }).onConnection((t) => {
      const setup = (): void => {}
      setupRef = new WeakRef(setup)
      accepted.push(Peer.accept(t, { network: regtest, clock: net.clock, random: random.fork('server'), v2: watched, transport: 'v2-first', setup }))
    })
    const client = Peer.connect({ host: '10.0.0.1', port: 18444 }, { network: regtest, clock: net.clock, random: random.fork('client'), connector: net.connector('10.0.0.2') })
    await net.clock.runAsync({ until: 1_000 })
    const server = await accepted[0]!
    await client
    expect(server.state).toBe('ready')
    expect(server.transportVersion).toBe(1)
    // WeakRefs made in this job hold their targets until it ends: collect in a later one.
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    gc()
    expect(setupRef!.deref(), 'the setup callback is kept').toBeUndefined()
    expect(codecRef!.deref(), 'the dropped v2 codec is kept').toBeUndefined()
    // The connection itself is alive and well.
    expect(server.state).toBe('ready')
  })
})
