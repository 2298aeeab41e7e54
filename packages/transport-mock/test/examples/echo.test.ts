import { describe, it, expect } from 'vitest'
import { runEcho } from '../../examples/echo.js'

describe('examples/echo.ts', () => {
  it('connects in one round trip, echoes in pieces, and closes', async () => {
    const log = await runEcho()
    // latency 25 ms: connected at 2 x 25, the echo is back one round trip
    // later, and the client's FIN reaches the server 25 ms after that.
    expect(log.slice(0, 3)).toEqual([
      '50 ms client: connected to 10.0.0.1:7',
      expect.stringMatching(/^100 ms client: got "hello, world" in ([4-9]|1[0-2]) pieces$/),
      '125 ms server: closed (remote)',
    ])
    expect(log[3]).toMatch(/^trace: \d+ events, sha256 [0-9a-f]{64}$/)
  })

  it('is deterministic per seed', async () => {
    const a = await runEcho('s1')
    expect(await runEcho('s1')).toEqual(a)
    // A different seed splits the reply differently, so the trace differs.
    expect((await runEcho('s2'))[3]).not.toBe(a[3])
  })
})
