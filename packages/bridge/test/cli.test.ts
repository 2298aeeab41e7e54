// The bitp2p-bridge command: argument parsing, help, errors, and serving
// (in-process through runCli, and as a real process under Bun).
import { afterEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { CliUsageError, parseCliArgs, runCli, TOKEN_ENV, USAGE } from '../src/cli.js'
import { WsConnector } from '@bitp2p/transport-ws'
import { startEcho, waitFor, WsCtor } from './helpers.js'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

describe('parseCliArgs', () => {
  it('maps every flag to a bridge option', () => {
    const cmd = parseCliArgs([
      '--listen', '0.0.0.0:9000',
      '--allow', 'seed.example:8333',
      '--allow=[2001:db8::1]:8333',
      '--allow-private',
      '--token', 'tok',
      '--origin', 'https://app.example',
      '--max-connections', '10',
      '--max-per-ip=3',
      '--connect-timeout-ms', '500',
      '--idle-timeout-ms', '60000',
      '--max-buffered-bytes', '65536',
      '--max-frame-bytes', '32768',
      '--validate-network', 'regtest',
    ])
    expect(cmd.help).toBe(false)
    if (cmd.help) return
    expect(cmd.options).toMatchObject({
      listen: { host: '0.0.0.0', port: 9000 },
      allow: ['seed.example:8333', '[2001:db8::1]:8333'],
      allowPrivate: true,
      token: 'tok',
      origins: ['https://app.example'],
      maxConnections: 10,
      maxPerIp: 3,
      connectTimeoutMs: 500,
      idleTimeoutMs: 60000,
      maxBufferedBytes: 65536,
      maxFrameBytes: 32768,
    })
    expect([...cmd.options.validateFraming!.magic]).toEqual([0xfa, 0xbf, 0xb5, 0xda])
    expect(cmd.options.validateFraming!.maxMessageBytes).toBe(4_000_000)
  })
  it('has safe defaults: loopback listener, nothing allowed, no private targets', () => {
    const cmd = parseCliArgs([])
    if (cmd.help) throw new Error('unexpected help')
    expect(cmd.options).toMatchObject({ listen: { host: '127.0.0.1', port: 8080 }, allow: [], allowPrivate: false })
    expect(cmd.options.token).toBeUndefined()
    expect(cmd.options.validateFraming).toBeUndefined()
  })
  it('reads the token from the environment, and --token wins', () => {
    const a = parseCliArgs([], { [TOKEN_ENV]: 'from-env' })
    const b = parseCliArgs(['--token', 'flag'], { [TOKEN_ENV]: 'from-env' })
    expect(!a.help && a.options.token).toBe('from-env')
    expect(!b.help && b.options.token).toBe('flag')
  })
  it('knows the networks, and testnet means testnet3', () => {
    const t = parseCliArgs(['--validate-network', 'testnet'])
    expect(!t.help && [...t.options.validateFraming!.magic]).toEqual([0x0b, 0x11, 0x09, 0x07])
    const m = parseCliArgs(['--validate-network', 'mainnet'])
    expect(!m.help && [...m.options.validateFraming!.magic]).toEqual([0xf9, 0xbe, 0xb4, 0xd9])
  })
  it.each([
    [['--bogus'], /unknown option/],
    [['--allow'], /needs a value/],
    [['--listen', 'nope'], /host:port/],
    [['--max-per-ip', '0'], /positive integer/],
    [['--max-connections', '1e3'], /positive integer/],
    [['--validate-network', 'dogecoin'], /unknown network/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(CliUsageError)
    expect(() => parseCliArgs(argv)).toThrow(message)
  })
  it('stops at --help', () => {
    expect(parseCliArgs(['--allow', 'x:1', '-h', '--bogus'])).toEqual({ help: true })
  })
})

describe('runCli', () => {
  const io = () => {
    const out: string[] = []
    const err: string[] = []
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {}, now: () => 0 } }
  }

  it('prints the usage for --help, exit 0', async () => {
    const { out, io: cli } = io()
    expect(await runCli(['--help'], cli)).toEqual({ code: 0 })
    expect(out.join('\n')).toBe(USAGE)
  })

  it('reports a usage error on stderr, exit 2', async () => {
    const { out, err, io: cli } = io()
    expect(await runCli(['--allow', 'bad entry'], cli)).toEqual({ code: 2 })
    expect(out).toEqual([])
    expect(err[0]).toContain("allowlist entry 'bad entry'")
  })

  it('serves: relays to an allowed target and logs JSON lines', async () => {
    const echo = await startEcho()
    cleanups.push(() => echo.close())
    const { out, io: cli } = io()
    const { code, bridge } = await runCli(['--listen', '127.0.0.1:0', '--allow', `127.0.0.1:${echo.port}`, '--allow-private', '--token', 'k'], cli)
    expect(code).toBe(0)
    cleanups.push(() => bridge!.close())
    const t = await new WsConnector({ url: bridge!.url, WebSocket: WsCtor, token: 'k' }).connect({ host: '127.0.0.1', port: echo.port })
    const back = new Promise<number[]>((r) => t.onData((b) => r([...b])))
    t.send(Uint8Array.of(1, 2))
    expect(await back).toEqual([1, 2])
    t.close()
    await waitFor(() => out.some((l) => l.includes('"event":"close"')))
    const events = out.map((l) => JSON.parse(l) as { ts: string; event: string })
    expect(events.every((e) => e.ts === '1970-01-01T00:00:00.000Z')).toBe(true)
    expect(events.map((e) => e.event)).toEqual(['listening', 'open', 'close'])
    // No warnings: there is an allowlist and a token.
    expect(out.join('\n')).not.toContain('warning')
  })

  it('warns when started without an allowlist or a token', async () => {
    const { out, io: cli } = io()
    const { bridge } = await runCli(['--listen', '127.0.0.1:0'], cli)
    cleanups.push(() => bridge!.close())
    const warnings = out.map((l) => JSON.parse(l) as { event: string; message?: string }).filter((e) => e.event === 'warning')
    expect(warnings.map((w) => w.message)).toEqual([
      'no --allow targets: every connection will be refused',
      'no token: anyone who can reach this port can use the allowed targets',
    ])
  })
})

const BUN = fileURLToPath(new URL('../../../node_modules/.bin/bun', import.meta.url))
const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url))

describe('bin.ts as a process', () => {
  needs('bun').it('starts, relays, and shuts down on SIGTERM with exit code 0 (run by Bun, which runs .ts)', { timeout: scaled(20_000) }, async () => {
    const echo = await startEcho()
    cleanups.push(() => echo.close())
    const proc = spawn(BUN, [BIN, '--listen', '127.0.0.1:0', '--allow', `127.0.0.1:${echo.port}`, '--allow-private'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [TOKEN_ENV]: 'env-token' },
    })
    cleanups.push(async () => void proc.kill('SIGKILL'))
    const lines: { event?: string; port?: number; code?: number }[] = []
    let buf = ''
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)))
        buf = buf.slice(nl + 1)
      }
    })
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)))
    await waitFor(() => lines.some((l) => l.event === 'listening'), scaled(10_000), 'the bridge to listen')
    const port = lines.find((l) => l.event === 'listening')!.port!
    const c = new WsConnector({ url: `ws://127.0.0.1:${port}/`, WebSocket: WsCtor, token: 'env-token' })
    const t = await c.connect({ host: '127.0.0.1', port: echo.port })
    const closed = new Promise((r) => t.onClose(r))
    proc.kill('SIGTERM')
    expect(await closed).toMatchObject({ code: 'refused', cause: { code: 1001 } })
    expect(await exited).toBe(0)
    expect(lines.at(-1)).toMatchObject({ event: 'shutdown', connections: 1 })
  })
})
