import { describe, expect, it } from 'vitest'
import { runBridgeEcho } from '../../examples/bridge-echo.js'

describe('examples/bridge-echo.ts', () => {
  it('relays through the bridge and shows a refusal', async () => {
    const log = await runBridgeEcho()
    const port = Number(/:(\d+)$/.exec(log[1]!)![1])
    expect(log).toEqual([
      `bridge: open 127.0.0.1:${port} via 127.0.0.1:${port}`,
      `client: connected to 127.0.0.1:${port}`,
      'client: got "hello"',
      `bridge: refused 127.0.0.1:${port === 65535 ? 1 : port + 1} (4001 not-allowed)`,
      'client: refused (refused, 4001 not-allowed)',
      'bridge: 1 relayed, 5 bytes up, 1 refused',
    ])
  })
})
