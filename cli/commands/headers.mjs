// bitp2p headers: SPV header sync from one peer, optionally persisted.
import { HeaderSync, singlePeer } from '@bitp2p/session'
import { FileHeaderStore } from '@bitp2p/session/node'
import { hashToHex } from '@bitp2p/wire'
import { connect, duration, UsageError, parse, PEER_OPTIONS, PEER_OPTIONS_HELP } from './common.mjs'

/** How long a resumed run at the peer's claimed height waits for headers before calling it synced. */
const UP_TO_DATE_GRACE_MS = 2_000

export const summary = 'sync and validate block headers from a peer (SPV)'
export const help = `usage: bitp2p headers --peer host:port [--network <net>] [--store dir]

Syncs block headers with one peer, checking linkage, proof of work,
difficulty and timestamps; prints progress and the final tip.

${PEER_OPTIONS_HELP}
  --store <dir>      keep the headers in <dir>; a later run resumes from them`

export async function run(argv, ctx) {
  const { values } = parse(argv, { ...PEER_OPTIONS, store: { type: 'string' } })
  if (values.help) return void console.log(help)
  if (values.store === '') throw new UsageError('--store needs a directory')
  // Open the store before connecting: a bad directory fails without touching the network.
  const store = values.store !== undefined ? await FileHeaderStore.open(values.store) : undefined
  ctx.onExit(() => void store?.close())
  const stored = store ? await store.tip() : undefined

  const { peer, network, clock, lost, close } = await connect(ctx, values)
  const v = peer.info.peer
  console.log(`connected to ${v.userAgent} (protocol ${peer.info.negotiatedVersion}), its height ${v.startHeight}`)

  const sync = new HeaderSync({ source: singlePeer(peer), network, clock, store, unixTimeOffsetMs: performance.timeOrigin })
  sync.on('error', (e) => console.error(`bitp2p: header store write failed: ${e?.message ?? e}`))
  sync.on('progress', (p) => {
    const target = Math.max(p.peerHeight, p.height)
    const pct = target > 0 ? Math.floor((100 * p.height) / target) : 100
    const eta = p.headersPerSecond > 0 ? duration((target - p.height) / p.headersPerSecond) : '?'
    console.log(`height ${p.height}/${target} (${pct}%), ${Math.round(p.headersPerSecond)} headers/s, ETA ${eta}`)
  })
  await sync.start()
  if (stored !== undefined) console.log(`resumed at height ${sync.tree.height}`)

  // bcoin 1.0.2 sends no reply at all to a getheaders it has nothing for
  // (Core sends an empty headers message), so a run that resumes at the
  // peer's tip would wait for the request deadline: when our tip is already
  // at the height the peer claimed and no header came within a grace
  // period, take that as synced.
  let moved = false
  sync.on('tip', () => (moved = true))
  const upToDate = sync.tree.height >= peer.info.peer.startHeight
    ? new Promise((resolve) => setTimeout(() => !moved && resolve(sync.tree.tip), UP_TO_DATE_GRACE_MS).unref())
    : new Promise(() => {})
  const tip = await Promise.race([sync.synced(ctx.signal), lost, upToDate])
  sync.stop()
  await sync.flush()
  close()
  await store?.close()
  console.log(`tip ${hashToHex(tip.hash)} at height ${tip.height}`)
  return 0
}
