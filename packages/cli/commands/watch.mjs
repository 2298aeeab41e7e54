// bitp2p watch: find every transaction paying or spending addresses or
// scripts, privately, with BIP157/158 compact block filters from one peer.
import { formatPeerAddress, singlePeer } from '@bitp2p/session'
import { FileHeaderStore } from '@bitp2p/session/node'
import { hashToHex, Services, toHex } from '@bitp2p/wire'
import { LightStateError, MemoryLightStore, ScriptWatcher, WatcherError, scriptToAddress, watchedScript } from '@bitp2p/light'
import { FileLightStore } from '@bitp2p/light/node'
import { bar, CliError, connect, duration, intOption, networkOption, parse, PEER_OPTIONS, PEER_OPTIONS_HELP, printable, progressLine, UsageError } from './common.mjs'

/**
 * getheaders deadline when resuming from --store: a node at its tip may not
 * answer a getheaders it has nothing for (btcd and bcoin send nothing), and
 * the header sync takes that silence as "nothing new" only at the deadline.
 */
const RESUME_HEADERS_TIMEOUT_MS = 10_000

export const summary = 'find the transactions paying or spending addresses, privately (BIP157/158 filters)'
export const help = `usage: bitp2p watch <address|script-hex>... --peer host:port [--network <net>]
                    [--from-height N] [--store <dir>] [--json] [--follow]

Syncs block headers and compact filter headers (BIP157) from the peer,
then its block filters (BIP158), and fetches only the blocks whose filter
matches one of the watched scripts, so the peer never learns which
addresses are yours. Prints one line per transaction that pays or spends
a watched address (outputs paying it; inputs spending an output found
before), with the values. The peer must serve compact filters
(NODE_COMPACT_FILTERS: btcd, or Bitcoin Core with -blockfilterindex
-peerblockfilters). A peer that serves a filter or filter header that is
provably wrong is disconnected.

Progress (header, filter header, filter and block counts) goes to stderr:
a bar redrawn in place on a terminal, a line at most once a second
otherwise. Exits when caught up with the peer, unless --follow.

${PEER_OPTIONS_HELP}
  --from-height <N>  scan from this height (default 0: the whole chain);
                     nothing before it is found
  --store <dir>      keep block headers, filter headers and the scan state
                     (watched scripts, transactions found, scan height) in
                     <dir>; a later run resumes without downloading again
  --json             one JSON object per line on stdout:
                     {"type":"tx", txid, height, blockHash, position,
                      outputs: [{index, value, address, script}],
                      inputs: [{index, txid, vout, value, address, script}]}
                     and {"type":"reorg", forkHeight, forkHash, unconfirmed: [txid]}
                     (values in satoshis; address null for a script without one)
  --follow           keep watching new blocks after catching up (Ctrl-C to stop)

With --store, the addresses watched before are watched again, and the
transactions found before are not printed again: a run prints what is new.`

/** Watched items: each an address of the network or a script in hex. Checked before connecting. */
function watchedItems(positionals) {
  if (positionals.length === 0) throw new UsageError('give at least one address or script (hex) to watch')
  return positionals
}

/** A transaction found, as a JSON-ready row. */
function txRow(t, network) {
  const addr = (script) => scriptToAddress(script, network) ?? null
  return {
    type: 'tx',
    txid: hashToHex(t.txid),
    height: t.height,
    blockHash: hashToHex(t.blockHash),
    position: t.position,
    outputs: t.outputs.map((o) => ({ index: o.index, value: Number(o.value), address: addr(o.script), script: toHex(o.script) })),
    inputs: t.inputs.map((i) => ({ index: i.index, txid: hashToHex(i.prevout.txid), vout: i.prevout.index, value: Number(i.value), address: addr(i.script), script: toHex(i.script) })),
  }
}

/** "<txid> height 1043 block 00ab... +40000000 to bcrt1q... -50000000 from bcrt1p..." */
function txText(row) {
  const parts = [`${row.txid}  height ${row.height}  block ${row.blockHash}`]
  for (const o of row.outputs) parts.push(`+${o.value} sat to ${o.address ?? o.script} (output ${o.index})`)
  for (const i of row.inputs) parts.push(`-${i.value} sat from ${i.address ?? i.script} (input ${i.index})`)
  return parts.join('  ')
}

/** Width of each stage's bar on a terminal. */
const STAGE_BAR_WIDTH = 10

/**
 * The progress of the three stages and the blocks fetched. Plain:
 * "headers 1349/1349 | filter headers 1349/1350 | filters 800/1350 | blocks 3";
 * with `bars` (a terminal), each stage also gets its own bar.
 */
export function progressText(p, { bars = false } = {}) {
  const target = Math.max(p.tip, p.peerHeight)
  const stages = [
    ['headers', p.tip, target],
    ['filter headers', Math.max(0, p.filterHeaders + 1), p.tip + 1],
    ['filters', Math.max(0, p.scanned + 1), p.tip + 1],
  ]
  const text = stages.map(([name, done, of]) => `${name} ${bars ? `${bar(of > 0 ? done / of : 0, STAGE_BAR_WIDTH)} ` : ''}${done}/${of}`)
  return `${text.join(' | ')} | blocks ${p.blocks}${p.blocksPending ? ` (+${p.blocksPending})` : ''}`
}

/**
 * Open --store: the block headers (session's FileHeaderStore) and the
 * light client's filter headers and state (FileLightStore), one directory;
 * a directory that holds another network's chain is refused.
 */
async function openStores(dir, network) {
  let headers
  let light
  try {
    light = await FileLightStore.open(dir)
    headers = await FileHeaderStore.open(dir)
  } catch (e) {
    await light?.close()
    throw new CliError(`cannot open --store ${dir}: ${e.message}`)
  }
  const genesis = await headers.getByHeight(0)
  if (genesis !== undefined && hashToHex(genesis.hash) !== hashToHex(network.genesisHash)) {
    await headers.close()
    await light.close()
    throw new CliError(`--store ${dir} holds headers of another network (genesis ${hashToHex(genesis.hash)}), not ${network.name}`)
  }
  return { headers, light }
}

export async function run(argv, ctx) {
  const { values, positionals } = parse(
    argv,
    { ...PEER_OPTIONS, 'from-height': { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' }, follow: { type: 'boolean' } },
    { positionals: Infinity },
  )
  if (values.help) return void console.log(help)
  const network = networkOption(values)
  const items = watchedItems(positionals)
  const fromHeight = intOption(values, 'from-height', 0)
  if (values.store === '') throw new UsageError('--store needs a directory')
  // Check the watched items before connecting: a typo fails without touching the network.
  for (const item of items) {
    try {
      watchedScript(item, network)
    } catch (e) {
      if (e instanceof WatcherError) throw new UsageError(e.message)
      throw e
    }
  }

  const stores = values.store !== undefined ? await openStores(values.store, network) : undefined
  const headerStore = stores?.headers
  const resumed = headerStore ? (await headerStore.tip()) !== undefined : false
  let watcher
  let storeClosed
  const closeStore = () => (storeClosed ??= Promise.all([headerStore?.close(), stores?.light.close()]))
  ctx.onExit(async () => {
    await watcher?.stop()
    await closeStore()
  })

  const { peer, clock, lost, close } = await connect(ctx, values)
  const v = peer.info.peer
  // With --json, stdout carries only the JSON lines: status goes to stderr.
  const status = (s) => (values.json ? console.error(s) : console.log(s))
  status(`connected to ${printable(v.userAgent)} (protocol ${peer.info.negotiatedVersion}), its height ${v.startHeight}, transport v${peer.transportVersion}`)
  if ((v.services & Services.NODE_COMPACT_FILTERS) === 0n) {
    close()
    throw new CliError(`${formatPeerAddress(peer.remote)} does not serve compact block filters (no NODE_COMPACT_FILTERS in its services): use a btcd node, or Bitcoin Core with -blockfilterindex -peerblockfilters`)
  }

  watcher = new ScriptWatcher({
    source: singlePeer(peer),
    network,
    clock,
    store: stores?.light ?? new MemoryLightStore(),
    headerStore,
    ...(resumed ? { headersTimeoutMs: RESUME_HEADERS_TIMEOUT_MS } : {}),
  })
  const progress = progressLine(process.stderr)
  ctx.onExit(() => progress.end())
  const t0 = performance.now()
  // On a terminal a bar per stage; in a log, plain lines.
  watcher.on('progress', (p) => progress.update(progressText(p, { bars: progress.tty }), undefined, p.scanned >= p.tip && p.filterHeaders >= p.tip))
  const print = (line) => {
    // Keep the progress bar off the line printed.
    progress.end()
    console.log(line)
  }
  watcher.on('tx', (t) => {
    const row = txRow(t, network)
    print(values.json ? JSON.stringify(row) : txText(row))
  })
  watcher.on('reorg', (r) => {
    const row = { type: 'reorg', forkHeight: r.fork.height, forkHash: hashToHex(r.fork.hash), unconfirmed: r.unconfirmed.map((t) => hashToHex(t.txid)) }
    print(values.json ? JSON.stringify(row) : `reorg: the chain forked at height ${row.forkHeight}; no longer confirmed: ${row.unconfirmed.join(', ') || 'none of ours'}`)
  })
  watcher.on('peer-dropped', (_p, offense) => status(`dropped ${formatPeerAddress(peer.remote)}: it served invalid filter data (${offense.detail})`))
  watcher.on('stuck', (s) => status(`waiting for block ${s.height}: ${s.reason}`))
  watcher.on('error', (e) => console.error(`bitp2p: header store write failed: ${e?.message ?? e}`))

  try {
    await watcher.watch(items, { birthday: fromHeight })
  } catch (e) {
    if (e instanceof LightStateError) throw new CliError(`--store ${values.store}: ${e.message}`)
    throw e
  }
  const before = watcher.transactions().length
  if (before > 0) status(`resumed: ${before} transaction${before === 1 ? '' : 's'} found before, scanned up to height ${watcher.machine.scanHeight}`)
  let tip
  try {
    tip = await Promise.race([watcher.synced(ctx.signal), lost])
  } catch (e) {
    if (e instanceof WatcherError && e.code === 'no-peers') throw new CliError(`${formatPeerAddress(peer.remote)} stopped serving filters (${e.message})`)
    throw e
  }
  progress.end()
  const txs = watcher.transactions()
  status(`caught up at height ${tip.height} (${hashToHex(tip.hash)}) in ${duration((performance.now() - t0) / 1000)}: ${txs.length} transaction${txs.length === 1 ? '' : 's'}, ${watcher.balance} sat unspent`)
  if (values.follow) {
    status('following new blocks (Ctrl-C to stop)')
    await Promise.race([lost, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))])
  }
  await watcher.stop()
  close()
  await closeStore()
  return 0
}
