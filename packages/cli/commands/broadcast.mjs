// bitp2p broadcast: announce a raw transaction to a peer and report what it did.
import { Broadcaster, singlePeer } from '@bitp2p/session'
import { fromHex, hashToHex, parseTx, txid as txidOf } from '@bitp2p/wire'
import { CliError, connect, intOption, parse, PEER_OPTIONS, PEER_OPTIONS_HELP, printable, UsageError } from './common.mjs'

/** Default time the broadcast may take. */
const DEFAULT_DEADLINE_MS = 30_000
/** Default time to wait, once every peer fetched it, for an announcement back. */
const DEFAULT_SETTLE_MS = 2_000

export const summary = 'announce a signed raw transaction to a peer and report the outcome'
export const help = `usage: bitp2p broadcast <rawtx-hex> --peer host:port [--network <net>]

Announces the transaction (inv), serves it to peers that ask (getdata/tx)
and reports who fetched it, who announced it back, and any reject.
Exit code 0 once fetched or seen, 1 if no peer took it before the deadline.

${PEER_OPTIONS_HELP}
  --deadline <ms>    give up after this long (default ${DEFAULT_DEADLINE_MS})
  --settle <ms>      after every peer fetched it, wait this long to see it announced back (default ${DEFAULT_SETTLE_MS})`

function decodeTx(arg) {
  if (arg === undefined) throw new UsageError('broadcast needs a <rawtx-hex> argument')
  if (!/^([0-9a-fA-F]{2})+$/.test(arg)) throw new UsageError('<rawtx-hex> must be an even number of hex digits')
  try {
    return parseTx(fromHex(arg.toLowerCase()))
  } catch (e) {
    throw new UsageError(`<rawtx-hex> is not a transaction: ${e.message}`)
  }
}

export async function run(argv, ctx) {
  const { values, positionals } = parse(argv, { ...PEER_OPTIONS, deadline: { type: 'string' }, settle: { type: 'string' } }, { positionals: 1 })
  if (values.help) return void console.log(help)
  const tx = decodeTx(positionals[0])
  const deadlineMs = intOption(values, 'deadline', DEFAULT_DEADLINE_MS)
  const settleMs = intOption(values, 'settle', DEFAULT_SETTLE_MS)

  const { peer, clock, lost, close } = await connect(ctx, values)
  const source = singlePeer(peer)
  const broadcaster = new Broadcaster({ source, clock })
  const stop = new AbortController()
  ctx.onExit(() => stop.abort('exiting'))
  // What the events told us, for the report when we stop before the broadcaster resolves.
  const fetchedBy = []
  const seenFrom = []
  const rejectedBy = []
  broadcaster.on('announced', (_id, p) => console.log(`announced to ${p}`))
  broadcaster.on('fetched', (_id, p) => {
    console.log(`fetched by ${p}`)
    fetchedBy.push(p)
    if (fetchedBy.length >= source.peers().length) setTimeout(() => stop.abort('settled'), settleMs).unref()
  })
  broadcaster.on('seen', (_id, p) => {
    console.log(`seen from ${p}`)
    seenFrom.push(p)
  })
  broadcaster.on('rejected', (_id, r) => {
    console.log(`rejected by ${r.peer}: ${printable(r.reason)} (code ${r.ccode})`)
    rejectedBy.push(r)
  })

  const result = await Promise.race([
    broadcaster.broadcast(tx, { deadlineMs, signal: stop.signal }).catch((e) => {
      if (stop.signal.aborted && stop.signal.reason === 'settled') return undefined
      throw e
    }),
    lost,
  ])
  close()
  const txid = hashToHex(result?.txid ?? txidOf(tx))
  const outcome = result?.outcome ?? 'fetched'
  console.log(`txid ${txid}`)
  console.log(`fetchedBy: ${(result?.fetchedBy ?? fetchedBy).join(', ') || '-'}`)
  console.log(`seenFrom: ${(result?.seenFrom ?? seenFrom).join(', ') || '-'}`)
  if (rejectedBy.length > 0) console.log(`rejectedBy: ${rejectedBy.map((r) => `${r.peer} (${printable(r.reason)})`).join(', ')}`)
  console.log(`outcome: ${outcome}`)
  const taken = (result?.fetchedBy ?? fetchedBy).length > 0 || (result?.seenFrom ?? seenFrom).length > 0
  if (!taken) throw new CliError(`no peer fetched or announced ${txid} within ${deadlineMs} ms (a peer that already has it, or rejects it, does not ask for it)`)
  return 0
}
