// bitp2p mempool: a live feed of the transactions a peer relays.
import { MempoolMonitor, singlePeer } from '@bitp2p/session'
import { hashToHex } from '@bitp2p/wire'
import { connect, intOption, parse, PEER_OPTIONS, PEER_OPTIONS_HELP } from './common.mjs'

export const summary = 'print transactions as a peer relays them (live mempool feed)'
export const help = `usage: bitp2p mempool --peer host:port [--network <net>] [--json] [--count N]

Listens for transaction announcements, fetches each new transaction and
prints its txid, virtual size and the peer that announced it first.

${PEER_OPTIONS_HELP}
  --json             one JSON object per line
  --count <N>        exit after N transactions`

export async function run(argv, ctx) {
  const { values } = parse(argv, { ...PEER_OPTIONS, json: { type: 'boolean' }, count: { type: 'string' } })
  if (values.help) return void console.log(help)
  const count = intOption(values, 'count', undefined)
  if (count === 0) return 0

  const { peer, clock, lost, close } = await connect(ctx, values)
  // With --json, stdout carries only the JSON lines: the status line goes to stderr.
  const status = `connected to ${peer.info.peer.userAgent}; waiting for transactions (Ctrl-C to stop)`
  if (values.json) console.error(status)
  else console.log(status)
  const monitor = new MempoolMonitor({ source: singlePeer(peer), clock }).start()
  ctx.onExit(() => monitor.stop())

  let seen = 0
  const done = new Promise((resolve) => {
    monitor.on('tx', (t) => {
      if (count !== undefined && seen >= count) return
      seen++
      const row = { txid: hashToHex(t.txid), wtxid: hashToHex(t.wtxid), vsize: t.vsize, size: t.size, firstSeenBy: t.firstSeenBy, receivedFrom: t.receivedFrom }
      console.log(values.json ? JSON.stringify(row) : `${row.txid}  ${String(row.vsize).padStart(6)} vB  first seen by ${row.firstSeenBy}`)
      if (count !== undefined && seen >= count) resolve()
    })
  })
  await Promise.race([done, lost])
  monitor.stop()
  close()
  return 0
}
