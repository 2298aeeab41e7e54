import { describe, expect, it } from 'vitest'
import { main } from '../examples/echo.js'

describe('examples/echo.ts', () => {
  it('echoes its text through a TcpListener and a TcpConnector', async () => {
    expect(await main()).toBe('hello, bitp2p')
    // A long text crosses several TCP chunks and is reassembled in order.
    const long = 'bitp2p '.repeat(200_000)
    expect(await main(long)).toBe(long)
  })
})
