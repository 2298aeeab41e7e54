/**
 * globalSetup of the browser project (runs in Node): a TCP echo upstream
 * and two bridges, handed to the browser tests through `inject`.
 * - open:   allowPrivate, allows only the echo upstream
 * - strict: no allowPrivate, requires a token, allows the echo upstream
 *           (so a tokened request gets 4002, an untokened one 4004)
 */
import type { TestProject } from 'vitest/node'
import type { Bridge } from '../src/bridge.js'
import { startBridge, startEcho, type Upstream } from './helpers.js'

declare module 'vitest' {
  export interface ProvidedContext {
    openBridgeUrl: string
    strictBridgeUrl: string
    strictToken: string
    echoPort: number
    refusedPort: number
  }
}

const STRICT_TOKEN = 'browser-t0ken'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const echo: Upstream = await startEcho()
  const allow = [`127.0.0.1:${echo.port}`]
  const open: Bridge = (await startBridge({ allow, allowPrivate: true })).bridge
  const strict: Bridge = (await startBridge({ allow, token: STRICT_TOKEN })).bridge
  project.provide('openBridgeUrl', open.url)
  project.provide('strictBridgeUrl', strict.url)
  project.provide('strictToken', STRICT_TOKEN)
  project.provide('echoPort', echo.port)
  project.provide('refusedPort', echo.port === 65535 ? 1 : echo.port + 1)
  return async () => {
    await open.close()
    await strict.close()
    await echo.close()
  }
}
