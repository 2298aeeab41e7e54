/**
 * The `bitp2p-bridge` command: argument parsing and the run loop, kept apart
 * from process plumbing (bin.ts) so tests drive it in-process.
 *
 * Logs are JSON lines on stdout, one per bridge event, with an ISO `ts`.
 * Usage errors go to stderr with exit code 2.
 */
/// <reference types="node" />
import { NETWORKS, networkByName } from '@bitp2p/wire'
import { createBridge, type Bridge, type BridgeOptions } from './bridge.js'
import { parsePeerAddress, PeerAddressError, type PeerAddress } from '@bitp2p/session'

/** Listen address when --listen is not given. */
export const DEFAULT_CLI_LISTEN = '127.0.0.1:8080'
/** Environment variable read for the token (keeps it out of `ps` output). */
export const TOKEN_ENV = 'BITP2P_BRIDGE_TOKEN'

/** Magic bytes of the networks --validate-network knows, from @bitp2p/wire's parameters. */
export const NETWORK_MAGIC: Readonly<Record<string, readonly number[]>> = Object.fromEntries(
  NETWORKS.map((n) => [n.name, [...n.magic]]),
)
/** Aliases accepted by --validate-network. */
const NETWORK_ALIASES: Readonly<Record<string, string>> = { testnet: 'testnet3' }

/** The `bitp2p-bridge --help` text: every option with its default. */
export const USAGE = `Usage: bitp2p-bridge [options]

A WebSocket-to-TCP bridge for bitp2p clients in browsers and edge workers.
Not an open proxy: only --allow targets are reachable.

Options:
  --listen host:port        address to listen on (default ${DEFAULT_CLI_LISTEN})
  --allow host:port         a reachable target; repeat for more. host may be a
                            DNS name (every address it resolves to is checked)
  --allow-private           allow loopback/private/link-local/CGNAT targets
  --token T                 require this shared secret (or set ${TOKEN_ENV})
  --origin O                allowed page Origin, e.g. https://app.example; repeat
  --max-connections N       connections in total (default 256)
  --max-per-ip N            connections per client address (default 8)
  --connect-timeout-ms N    upstream TCP connect timeout (default 10000)
  --idle-timeout-ms N       close after N ms without traffic (default 600000)
  --max-buffered-bytes N    flow-control mark per direction (default 1048576)
  --max-frame-bytes N       largest client frame (default 262144)
  --validate-network NAME   check client bytes are P2P frames of NAME:
                            ${Object.keys(NETWORK_MAGIC).join(', ')} (testnet = testnet3)
  -h, --help                show this help

Logs: JSON lines on stdout. Stop with SIGINT or SIGTERM (connections get 1001).`

/** A command-line mistake; the message is for the user. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
}

/** What the command line asks for. */
export type CliCommand = { readonly help: true } | { readonly help: false; readonly options: BridgeOptions }

/** Parse argv (without node and the script). Throws CliUsageError. `--flag=value` and `--flag value` both work. */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): CliCommand {
  let listen = DEFAULT_CLI_LISTEN
  const allow: string[] = []
  const origins: string[] = []
  let allowPrivate = false
  let token = env[TOKEN_ENV]
  const numbers: Partial<Record<NumberFlag, number>> = {}
  let network: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1)
      const v = argv[++i]
      if (v === undefined) throw new CliUsageError(`${flag} needs a value`)
      return v
    }
    switch (flag) {
      case '-h':
      case '--help':
        return { help: true }
      case '--listen':
        listen = value()
        break
      case '--allow':
        allow.push(value())
        break
      case '--allow-private':
        allowPrivate = true
        break
      case '--token':
        token = value()
        break
      case '--origin':
        origins.push(value())
        break
      case '--validate-network':
        network = value()
        break
      default:
        if (flag in NUMBER_FLAGS) {
          const text = value()
          if (!/^[1-9][0-9]*$/.test(text)) throw new CliUsageError(`${flag} needs a positive integer, got '${text}'`)
          numbers[flag as NumberFlag] = Number(text)
          break
        }
        throw new CliUsageError(`unknown option '${arg}'`)
    }
  }
  // Port 0 (any free port) is fine for a listener, unlike for a peer.
  const zeroPort = /:0$/.test(listen)
  let at: PeerAddress
  try {
    at = parsePeerAddress(zeroPort ? listen.slice(0, -1) + '1' : listen)
  } catch (e) {
    if (!(e instanceof PeerAddressError)) throw e
    throw new CliUsageError(`--listen needs host:port, got '${listen}'`)
  }

  let validateFraming: BridgeOptions['validateFraming']
  if (network !== undefined) {
    const params = networkByName(NETWORK_ALIASES[network] ?? network)
    if (params === undefined) throw new CliUsageError(`unknown network '${network}' (known: ${Object.keys(NETWORK_MAGIC).join(', ')})`)
    validateFraming = { magic: params.magic, maxMessageBytes: params.maxMessageBytes }
  }
  const options: BridgeOptions = {
    listen: { host: at.host, port: zeroPort ? 0 : at.port },
    allow,
    allowPrivate,
    ...(token !== undefined ? { token } : {}),
    ...(origins.length > 0 ? { origins } : {}),
    ...(validateFraming !== undefined ? { validateFraming } : {}),
    maxConnections: numbers['--max-connections'],
    maxPerIp: numbers['--max-per-ip'],
    connectTimeoutMs: numbers['--connect-timeout-ms'],
    idleTimeoutMs: numbers['--idle-timeout-ms'],
    maxBufferedBytes: numbers['--max-buffered-bytes'],
    maxFrameBytes: numbers['--max-frame-bytes'],
  }
  return { help: false, options }
}

const NUMBER_FLAGS = {
  '--max-connections': true,
  '--max-per-ip': true,
  '--connect-timeout-ms': true,
  '--idle-timeout-ms': true,
  '--max-buffered-bytes': true,
  '--max-frame-bytes': true,
} as const
type NumberFlag = keyof typeof NUMBER_FLAGS

/** Where the CLI writes, and what it reads. */
export interface CliIo {
  /** One line to stdout (no newline). */
  out(line: string): void
  /** One line to stderr (no newline). */
  err(line: string): void
  readonly env: Readonly<Record<string, string | undefined>>
  /** The clock for log timestamps. Default: Date.now. */
  readonly now?: () => number
}

/**
 * Run the command: print help, or start a bridge that logs JSON lines.
 * Resolves with the exit code and, when serving, the running bridge (the
 * caller stops it; bin.ts does so on SIGINT/SIGTERM).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<{ code: number; bridge?: Bridge }> {
  let command: CliCommand
  try {
    command = parseCliArgs(argv, io.env)
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err
    io.err(`bitp2p-bridge: ${err.message}`)
    io.err(`Try 'bitp2p-bridge --help'.`)
    return { code: 2 }
  }
  if (command.help) {
    for (const line of USAGE.split('\n')) io.out(line)
    return { code: 0 }
  }
  const now = io.now ?? Date.now
  const print = (event: object): void => io.out(JSON.stringify({ ts: new Date(now()).toISOString(), ...event }))
  const opts = command.options
  try {
    const bridge = await createBridge({ ...opts, log: print })
    if (opts.allow.length === 0) print({ event: 'warning', message: 'no --allow targets: every connection will be refused' })
    if (opts.token === undefined) print({ event: 'warning', message: 'no token: anyone who can reach this port can use the allowed targets' })
    return { code: 0, bridge }
  } catch (err) {
    io.err(`bitp2p-bridge: ${err instanceof Error ? err.message : String(err)}`)
    return { code: err instanceof RangeError ? 2 : 1 }
  }
}
