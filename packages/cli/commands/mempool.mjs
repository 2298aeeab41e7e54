// bitp2p mempool: a live feed of the transactions a peer relays.
import { MempoolMonitor, singlePeer } from '@bitp2p/session'
import { hashToHex } from '@bitp2p/wire'
import { connect, intOption, parse, PEER_OPTIONS, PEER_OPTIONS_HELP, printable } from './common.mjs'

/**
 * Outputs remembered for fee computation. A peer relays a transaction's
 * parents before it (or not at all), so outputs seen in this session price
 * the children that spend them; older outputs are dropped first.
 */
export const MAX_CACHED_OUTPUTS = 200_000

export const summary = 'print transactions as a peer relays them (live mempool feed)'
export const help = `usage: bitp2p mempool --peer host:port [--network <net>] [--json] [--count N]

Listens for transaction announcements, fetches each new transaction and
prints its txid, virtual size, fee and fee rate, and the peer that
announced it first. The fee is known only when every input spends an
output of a transaction seen earlier in this session ('-' otherwise, null
with --json): a P2P client sees no UTXO set.

${PEER_OPTIONS_HELP}
  --json             one JSON object per line:
                     {txid, wtxid, vsize, size, fee, feeRate, firstSeenBy, receivedFrom}
                     (fee in satoshis, feeRate in sat/vB, both null when unknown)
  --count <N>        exit after N transactions`

/**
 * Values of the outputs of transactions seen, by "txid:index" (hex txid),
 * bounded by MAX_CACHED_OUTPUTS in insertion order.
 */
class OutputCache {
  #values = new Map()
  #limit

  constructor(limit = MAX_CACHED_OUTPUTS) {
    this.#limit = limit
  }

  /** Remember every output of `tx` (its txid in hex, RPC order). */
  add(txidHex, tx) {
    tx.outputs.forEach((o, i) => this.#values.set(`${txidHex}:${i}`, o.value))
    for (const key of this.#values.keys()) {
      if (this.#values.size <= this.#limit) break
      this.#values.delete(key)
    }
  }

  /** The fee of `tx` in satoshis, or undefined unless every input spends a cached output. */
  fee(tx) {
    let input = 0n
    for (const { prevout } of tx.inputs) {
      const v = this.#values.get(`${hashToHex(prevout.txid)}:${prevout.index}`)
      if (v === undefined) return undefined
      input += v
    }
    const output = tx.outputs.reduce((sum, o) => sum + o.value, 0n)
    return input - output
  }
}

/** sat/vB with two decimals, as a number. */
function feeRate(fee, vsize) {
  return Math.round((Number(fee) * 100) / vsize) / 100
}

/** The column headings above the text rows (aligned with them; --json has its field names instead). */
export const COLUMNS = `${'txid'.padEnd(64)}  ${'vsize'.padStart(9)}  ${'fee'.padStart(14)} ${'fee rate'.padStart(16)}  first seen by`

export async function run(argv, ctx) {
  const { values } = parse(argv, { ...PEER_OPTIONS, json: { type: 'boolean' }, count: { type: 'string' } })
  if (values.help) return void console.log(help)
  const count = intOption(values, 'count', undefined)
  if (count === 0) return 0

  const { peer, clock, lost, close } = await connect(ctx, values)
  // With --json, stdout carries only the JSON lines: the status line goes to stderr.
  const status = `connected to ${printable(peer.info.peer.userAgent)}; waiting for transactions (Ctrl-C to stop)`
  if (values.json) console.error(status)
  else console.log(`${status}\n${COLUMNS}`)
  const monitor = new MempoolMonitor({ source: singlePeer(peer), clock }).start()
  ctx.onExit(() => monitor.stop())
  const outputs = new OutputCache()

  let seen = 0
  const done = new Promise((resolve) => {
    monitor.on('tx', (t) => {
      if (count !== undefined && seen >= count) return
      seen++
      const txid = hashToHex(t.txid)
      const fee = outputs.fee(t.tx)
      outputs.add(txid, t.tx)
      const row = {
        txid,
        wtxid: hashToHex(t.wtxid),
        vsize: t.vsize,
        size: t.size,
        fee: fee === undefined ? null : Number(fee),
        feeRate: fee === undefined ? null : feeRate(fee, t.vsize),
        firstSeenBy: t.firstSeenBy,
        receivedFrom: t.receivedFrom,
      }
      const feeText = `${(fee === undefined ? '-' : `${row.fee} sat`).padStart(14)} ${(fee === undefined ? '-' : `${row.feeRate.toFixed(2)} sat/vB`).padStart(16)}`
      console.log(values.json ? JSON.stringify(row) : `${txid}  ${String(row.vsize).padStart(6)} vB  ${feeText}  first seen by ${row.firstSeenBy}`)
      if (count !== undefined && seen >= count) resolve()
    })
  })
  await Promise.race([done, lost])
  monitor.stop()
  close()
  return 0
}
