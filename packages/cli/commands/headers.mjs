// bitp2p headers: SPV header sync from one peer, optionally persisted.
import { HeaderSync, singlePeer } from '@bitp2p/session'
import { FileHeaderStore } from '@bitp2p/session/node'
import { bytesEqual, hashToHex } from '@bitp2p/wire'
import { CliError, connect, duration, networkOption, parse, PEER_OPTIONS, PEER_OPTIONS_HELP, printable, progressLine, UsageError } from './common.mjs'

/** How long a resumed run at the peer's claimed height waits for headers before calling it synced. */
const UP_TO_DATE_GRACE_MS = 2_000

export const summary = 'sync and validate block headers from a peer (SPV)'
export const help = `usage: bitp2p headers --peer host:port [--network <net>] [--store <dir>]

Syncs block headers with one peer, checking linkage, proof of work,
difficulty and timestamps. Shows progress (height, headers/s, and an ETA
against the height the peer announced in its version message): a bar
redrawn in place on a terminal, a line at most once a second otherwise.
Prints the final tip.

${PEER_OPTIONS_HELP}
  --store <dir>      keep the headers in <dir>; a later run resumes from them`

/** Open --store, refusing a directory that holds another network's chain. */
async function openStore(dir, network) {
  let store
  try {
    store = await FileHeaderStore.open(dir)
  } catch (e) {
    throw new CliError(`cannot open --store ${dir}: ${e.message}`)
  }
  const genesis = await store.getByHeight(0)
  if (genesis !== undefined && !bytesEqual(genesis.hash, network.genesisHash)) {
    await store.close()
    throw new CliError(`--store ${dir} holds headers of another network (genesis ${hashToHex(genesis.hash)}), not ${network.name}`)
  }
  return store
}

/** "height 1200/3000 (40%), 950 headers/s, ETA 2s" */
function progressText(height, target, rate) {
  const pct = target > 0 ? Math.floor((100 * height) / target) : 100
  const eta = height >= target ? '0s' : rate > 0 ? duration((target - height) / rate) : '?'
  return `height ${height}/${target} (${pct}%), ${Math.round(rate)} headers/s, ETA ${eta}`
}

export async function run(argv, ctx) {
  const { values } = parse(argv, { ...PEER_OPTIONS, store: { type: 'string' } })
  if (values.help) return void console.log(help)
  if (values.store === '') throw new UsageError('--store needs a directory')
  // Check the store before connecting: a bad directory fails without touching the network.
  const store = values.store !== undefined ? await openStore(values.store, networkOption(values)) : undefined
  let sync
  let storeClosed
  const closeStore = () => (storeClosed ??= store?.close())
  // On the way out (Ctrl-C, a lost peer): stop the sync and let its queued
  // writes land before the store closes, rather than write to a closed file.
  ctx.onExit(async () => {
    sync?.stop()
    await sync?.flush()
    await closeStore()
  })
  const stored = store ? await store.tip() : undefined

  const { peer, network, clock, lost, close } = await connect(ctx, values)
  const v = peer.info.peer
  console.log(`connected to ${printable(v.userAgent)} (protocol ${peer.info.negotiatedVersion}), its height ${v.startHeight}, transport v${peer.transportVersion}`)

  sync = new HeaderSync({ source: singlePeer(peer), network, clock, store })
  sync.on('error', (e) => console.error(`bitp2p: header store write failed: ${e?.message ?? e}`))
  const progress = progressLine(process.stdout)
  ctx.onExit(() => progress.end())
  sync.on('progress', (p) => {
    // The target: what the peer announced at the handshake, or more if it told us of newer blocks since.
    const target = Math.max(v.startHeight, p.peerHeight, p.height)
    progress.update(progressText(p.height, target, p.headersPerSecond), target > 0 ? p.height / target : 1, p.height >= target)
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
  const upToDate = sync.tree.height >= v.startHeight
    ? new Promise((resolve) => setTimeout(() => !moved && resolve(sync.tree.tip), UP_TO_DATE_GRACE_MS).unref())
    : new Promise(() => {})
  const tip = await Promise.race([sync.synced(ctx.signal), lost, upToDate])
  progress.end()
  sync.stop()
  await sync.flush()
  close()
  await closeStore()
  console.log(`tip ${hashToHex(tip.hash)} at height ${tip.height}`)
  return 0
}
