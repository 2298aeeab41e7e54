// Shared pieces of the bitp2p commands: argument parsing, errors with exit
// codes, connecting one peer (with readable reasons when that fails), and a
// progress line that redraws itself on a terminal.
import { parseArgs } from 'node:util'
import { networkByName, NETWORKS, toHex } from '@bitp2p/wire'
import { describeDisconnect, formatPeerAddress, parsePeerAddress, Peer, PeerAddressError, PeerError, RealtimeClock } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, UsageError } from './errors.mjs'

export { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, UsageError }

/** Default TCP connect + handshake deadline, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** A plain (non-terminal) progress report is written at most this often, ms; the last one always. */
export const PLAIN_PROGRESS_INTERVAL_MS = 1_000
/** Width of the progress bar, characters. */
const BAR_WIDTH = 24

/** The options every network command takes, in node:util parseArgs form. */
export const PEER_OPTIONS = {
  network: { type: 'string', default: 'mainnet' },
  peer: { type: 'string' },
  timeout: { type: 'string' },
  transport: { type: 'string', default: 'v2-first' },
  help: { type: 'boolean', short: 'h' },
}

/** The help line of --network. */
export const NETWORK_HELP = `  --network <net>    ${NETWORKS.map((n) => n.name).join(' | ')} (default mainnet)`

/** The help lines of PEER_OPTIONS. */
export const PEER_OPTIONS_HELP = `${NETWORK_HELP}
  --peer host:port   the peer to connect to (required); [v6-address]:port for IPv6
  --timeout <ms>     connect and handshake deadline (default ${DEFAULT_CONNECT_TIMEOUT_MS})
  --transport <t>    v2-first | v2 | v1: BIP324 encrypted transport first, with a v1 fallback (default), v2 only, or v1 only
  -h, --help         this help`

/** parseArgs in strict mode; its complaints become UsageErrors. */
export function parse(argv, options, { positionals = 0 } = {}) {
  let parsed
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: positionals > 0, strict: true })
  } catch (e) {
    // parseArgs explains some mistakes over several lines: keep the one-line contract.
    throw new UsageError(e.message.replace(/\s*\n\s*/g, ' '))
  }
  if (!parsed.values.help && parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[positionals]}'`)
  }
  return parsed
}

/**
 * `--count -5` as `--count=-5`: parseArgs takes a value that starts with a
 * dash for an option and fails with its own wording; joined, the value
 * reaches our checks, whose message says what the option accepts.
 */
function joinNegativeValues(argv, options) {
  const out = []
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([\w-]+)$/.exec(argv[i])?.[1]
    const next = argv[i + 1]
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`)
      i++
    } else {
      out.push(argv[i])
    }
  }
  return out
}

/** A non-negative integer option, or `fallback` when absent. */
export function intOption(values, name, fallback) {
  const v = values[name]
  if (v === undefined) return fallback
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new UsageError(`--${name} must be a non-negative integer, got '${v}'`)
  return Number(v)
}

/** --timeout in ms (at least 1: a zero deadline would expire before any peer could answer), or the default. */
export function timeoutOption(values) {
  const ms = intOption(values, 'timeout', DEFAULT_CONNECT_TIMEOUT_MS)
  if (ms < 1) throw new UsageError(`--timeout must be at least 1 ms, got ${ms}`)
  return ms
}

/** The transport modes --transport takes. */
const TRANSPORTS = ['v2-first', 'v2', 'v1']

/** Peer options for --transport: the mode, and the v2 support unless v1 only. */
export function transportOption(values) {
  const t = values.transport ?? 'v2-first'
  if (!TRANSPORTS.includes(t)) throw new UsageError(`--transport must be one of ${TRANSPORTS.join(', ')}, got '${t}'`)
  return t === 'v1' ? { transport: 'v1' } : { transport: t, v2 }
}

/** The network named by --network. */
export function networkOption(values) {
  const net = networkByName(values.network)
  if (!net) throw new UsageError(`unknown network '${values.network}' (one of: ${NETWORKS.map((n) => n.name).join(', ')})`)
  return net
}

/**
 * "host:port" or "[v6]:port" as { host, port } (parsePeerAddress); `option`
 * names the flag in the complaint, which says what is wrong.
 */
export function parseAddress(s, option) {
  try {
    return parsePeerAddress(s)
  } catch (e) {
    if (!(e instanceof PeerAddressError)) throw e
    throw new UsageError(`${option} must be host:port, got '${printable(s)}' (${e.reason})`)
  }
}

/** The address of --peer. */
export function peerOption(values) {
  if (values.peer === undefined) throw new UsageError('--peer host:port is required')
  return parseAddress(values.peer, '--peer')
}

/**
 * `s` safe to print on a terminal: a peer chooses its user agent, and
 * control characters in it (escape sequences) would reach the terminal.
 */
export function printable(s) {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}


/**
 * The network whose magic a BAD_MAGIC error received: the decoder reports
 * all four bytes it judged (`detail.received`, hex), and only an exact
 * match names a network (random bytes that merely start like one do not).
 */
function networksMatching(ours, detail) {
  const received = detail?.received
  if (typeof received !== 'string') return []
  return NETWORKS.filter((n) => n !== ours && toHex(n.magic) === received)
}

/**
 * A disconnect reason in words. A peer on another network (frames under
 * another magic) is named as such rather than as a framing error.
 */
export function describeReason(reason, network) {
  if (reason.kind === 'framing' && reason.error?.code === 'BAD_MAGIC') {
    const guess = networksMatching(network, reason.error.detail)
    const which = guess.length === 1 ? `: it looks like ${guess[0].name} (try --network ${guess[0].name})` : ''
    return `on another network, not ${network.name}: its messages carry another network's magic bytes${which}`
  }
  return describeDisconnect(reason)
}

/**
 * Why connecting to `addr` failed, in words: see describeReason; a peer
 * that hangs up during the handshake may be on another network too (Core
 * disconnects on a wrong magic without a word).
 */
export function connectFailure(e, addr, network) {
  const where = formatPeerAddress(addr)
  const reason = e instanceof PeerError || e?.name === 'PeerError' ? e.reason : undefined
  if (reason?.kind === 'framing' && reason.error?.code === 'BAD_MAGIC') return `${where} is ${describeReason(reason, network)}`
  if (reason?.kind === 'transport' && (reason.error?.code === 'remote' || reason.error?.code === 'reset')) {
    return `cannot connect to ${where}: it closed the connection during the handshake (${reason.error.code}); is it a ${network.name} node? (check --network)`
  }
  return `cannot connect to ${where}: ${reason ? describeDisconnect(reason) : (e?.message ?? String(e))}`
}

/**
 * Connect and shake hands with the --peer. Returns the peer and `lost`, a
 * promise that rejects (CliError, exit 1) if the connection ends before
 * the command closes it; the peer is closed on Ctrl-C.
 */
export async function connect(ctx, values, extra = {}) {
  const network = networkOption(values)
  const addr = peerOption(values)
  const timeoutMs = timeoutOption(values)
  const transport = transportOption(values)
  const clock = new RealtimeClock()
  let peer
  try {
    peer = await Peer.connect(addr, {
      connector: new TcpConnector({ connectTimeoutMs: timeoutMs }),
      network,
      clock,
      handshakeTimeoutMs: timeoutMs,
      signal: ctx.signal,
      ...transport,
      ...extra,
    })
  } catch (e) {
    if (ctx.signal.aborted) throw e
    throw new CliError(connectFailure(e, addr, network))
  }
  let closing = false
  ctx.onExit(() => {
    closing = true
    peer.close('bitp2p exiting')
    return peer.closed
  })
  const lost = peer.closed.then((reason) => {
    if (closing) return new Promise(() => {})
    throw new CliError(`connection to ${formatPeerAddress(addr)} closed: ${describeDisconnect(reason)}`)
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

/** "[#########...............]" for a fraction in [0, 1]. */
export function bar(fraction, width = BAR_WIDTH) {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0
  const full = Math.floor(f * width)
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`
}

/**
 * A progress report on `stream`. On a terminal it is one line redrawn in
 * place (with a bar); elsewhere (a pipe, a log file) plain lines, at most one
 * per PLAIN_PROGRESS_INTERVAL_MS except the final one, so logs stay short.
 * `update(text, fraction, final)`; `end()` finishes the terminal line.
 */
export function progressLine(stream = process.stdout, { tty = stream.isTTY === true } = {}) {
  let lastPlainAt = -Infinity
  let drawn = false
  return {
    tty,
    update(text, fraction, final = false) {
      if (tty) {
        // \r back to the start, \x1b[K clears what a longer previous line left.
        // fraction undefined: the text draws its own bars.
        stream.write(`\r${fraction === undefined ? '' : `${bar(fraction)} `}${text}\x1b[K`)
        drawn = true
        return
      }
      const now = performance.now()
      if (!final && now - lastPlainAt < PLAIN_PROGRESS_INTERVAL_MS) return
      lastPlainAt = now
      stream.write(`${text}\n`)
    },
    end() {
      if (tty && drawn) stream.write('\n')
      drawn = false
    },
  }
}
