// Shared pieces of the bitp2p commands: argument parsing, errors with exit
// codes, connecting one peer, and Ctrl-C handling.
import { parseArgs } from 'node:util'
import { networkByName, NETWORKS } from '@bitp2p/wire'
import { Peer, RealtimeClock } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'

/** Exit code of a bad command line. */
export const EXIT_USAGE = 2
/** Exit code of a failure at run time (unreachable peer, invalid data, ...). */
export const EXIT_FAILURE = 1
/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130
/** Default TCP connect + handshake deadline, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/** An error the CLI reports as one line on stderr, exiting with `code`. */
export class CliError extends Error {
  constructor(message, code = EXIT_FAILURE) {
    super(message)
    this.name = 'CliError'
    this.code = code
  }
}

/** A bad command line: exit code 2. */
export class UsageError extends CliError {
  constructor(message) {
    super(message, EXIT_USAGE)
    this.name = 'UsageError'
  }
}

/** The options every network command takes, in node:util parseArgs form. */
export const PEER_OPTIONS = {
  network: { type: 'string', default: 'mainnet' },
  peer: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}

/** The help lines of PEER_OPTIONS. */
export const PEER_OPTIONS_HELP = `  --network <net>    ${NETWORKS.map((n) => n.name).join(' | ')} (default mainnet)
  --peer host:port   the peer to connect to (required); [v6-address]:port for IPv6
  --timeout <ms>     connect and handshake deadline (default ${DEFAULT_CONNECT_TIMEOUT_MS})
  -h, --help         this help`

/** parseArgs in strict mode; its complaints become UsageErrors. */
export function parse(argv, options, { positionals = 0 } = {}) {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true })
  } catch (e) {
    throw new UsageError(e.message)
  }
  if (!parsed.values.help && parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[positionals]}'`)
  }
  return parsed
}

/** A non-negative integer option, or `fallback` when absent. */
export function intOption(values, name, fallback) {
  const v = values[name]
  if (v === undefined) return fallback
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new UsageError(`--${name} must be a non-negative integer, got '${v}'`)
  return Number(v)
}

/** The network named by --network. */
export function networkOption(values) {
  const net = networkByName(values.network)
  if (!net) throw new UsageError(`unknown network '${values.network}' (one of: ${NETWORKS.map((n) => n.name).join(', ')})`)
  return net
}

/** "host:port" or "[v6]:port" from --peer. */
export function peerOption(values) {
  const s = values.peer
  if (s === undefined) throw new UsageError('--peer host:port is required')
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:\s]+):(\d+)$/.exec(s)
  const port = m ? Number(m[2]) : NaN
  if (!m || !(port >= 1 && port <= 0xffff)) throw new UsageError(`--peer must be host:port, got '${s}'`)
  return { host: m[1], port }
}

/** "host:port" for messages. */
export function label(addr) {
  return addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`
}

/**
 * Connect and shake hands with the --peer. Returns the peer and `lost`, a
 * promise that rejects (CliError, exit 1) if the connection ends before
 * the command closes it; the peer is closed on Ctrl-C.
 */
export async function connect(ctx, values, extra = {}) {
  const network = networkOption(values)
  const addr = peerOption(values)
  const timeoutMs = intOption(values, 'timeout', DEFAULT_CONNECT_TIMEOUT_MS)
  const clock = new RealtimeClock()
  let peer
  try {
    peer = await Peer.connect(addr, {
      connector: new TcpConnector({ connectTimeoutMs: timeoutMs }),
      network,
      clock,
      handshakeTimeoutMs: timeoutMs,
      signal: ctx.signal,
      ...extra,
    })
  } catch (e) {
    if (ctx.signal.aborted) throw e
    throw new CliError(`cannot connect to ${label(addr)}: ${e.message}`)
  }
  let closing = false
  ctx.onExit(() => {
    closing = true
    peer.close('bitp2p exiting')
  })
  const lost = peer.closed.then((reason) => {
    if (closing) return new Promise(() => {})
    throw new CliError(`connection to ${label(addr)} closed: ${reason.kind}`)
  })
  lost.catch(() => {}) // observed by whoever races it
  return {
    peer,
    network,
    clock,
    lost,
    close: () => {
      closing = true
      peer.close('done')
    },
  }
}

/** "1m05s" style duration for ETAs. */
export function duration(seconds) {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}
