/**
 * Watching addresses privately in a web page: a ScriptWatcher
 * (@bitp2p/light) with its state in IndexedDB (@bitp2p/light/indexeddb),
 * talking BIP324 v2 through a bitp2p bridge (WsConnector) to one node
 * that serves compact block filters (BIP157/158). Reload the page and it
 * resumes from the height it had scanned: no filter is downloaded twice.
 *
 * Query parameters:
 *   address  an address of the network to watch; repeat it for several (required)
 *   bridge   the bridge's URL                       default ws://127.0.0.1:8080/
 *   peer     host:port of the filter-serving node   default 127.0.0.1:18444
 *   network  mainnet, testnet3, testnet4, signet, regtest   default regtest
 *   db       the IndexedDB database                 default bitp2p-light-<network>
 *
 * Machine-readable state, for tests and scripts, on <main id="app">:
 *   data-state         loading | connecting | syncing | synced | stopped | error
 *   data-resumed-from  the scan height an earlier visit stored, read from
 *                      IndexedDB before anything else (-1: nothing stored)
 *   data-scan-height   blocks scanned up to this height
 *   data-tip           height of the header chain's tip
 *   data-synced        'true' once the scan is at the tip and the state it
 *                      reached is written to IndexedDB (so a reload from
 *                      then on resumes from there); 'false' otherwise
 *   data-getcfilters, data-getcfheaders
 *                      those requests sent in this page load
 *   data-cfilters, data-blocks
 *                      filters and blocks received in this page load
 *   data-found-now     transactions found in this page load (the others
 *                      come from IndexedDB)
 *   data-error         the message, when data-state is 'error'
 * and one row per transaction found in #txs:
 *   <tr data-txid data-height data-block>  (display hex, like block explorers)
 *
 * Bundled for the browser by build.mjs into dist/main.js.
 */
import { describeDisconnect, parsePeerAddress, Peer, singlePeer } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'
import { WsConnector } from '@bitp2p/transport-ws'
import { hashToHex, networkByName } from '@bitp2p/wire'
import { ScriptWatcher, type LightState, type WalletTx, type WatcherProgress } from '@bitp2p/light'
import { openIndexedDbStores, type IndexedDbStores } from '@bitp2p/light/indexeddb'

/** Lines kept in the log (the oldest go first). */
const MAX_LOG_LINES = 100

const query = new URLSearchParams(location.search)
const bridgeUrl = query.get('bridge') ?? 'ws://127.0.0.1:8080/'
const peerArg = query.get('peer') ?? '127.0.0.1:18444'
const networkName = query.get('network') ?? 'regtest'
const network = networkByName(networkName)
const addresses = query.getAll('address')
const dbName = query.get('db') ?? `bitp2p-light-${networkName}`

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T
const app = $('app')

function log(line: string): void {
  const li = document.createElement('li')
  li.textContent = `${new Date().toLocaleTimeString()}  ${line}`
  const list = $('log')
  list.prepend(li)
  while (list.children.length > MAX_LOG_LINES) list.lastElementChild!.remove()
}

function setState(state: 'loading' | 'connecting' | 'syncing' | 'synced' | 'stopped' | 'error', text: string = state): void {
  app.dataset.state = state
  $('status').textContent = text
  $('status').className = state === 'error' ? 'error' : ''
}

// ---------------------------------------------------------------- what this page load did

/** Messages counted per page load: what a reload had to download again. */
const counted = { getcfilters: 0, getcfheaders: 0, cfilter: 0, block: 0 }
let foundNow = 0

/** A Peer's 'frame' event: every whole frame in or out (v1 or v2), by command. */
function countFrame(direction: 'in' | 'out', command: string): void {
  if (direction === 'out' && (command === 'getcfilters' || command === 'getcfheaders')) counted[command]++
  else if (direction === 'in' && (command === 'cfilter' || command === 'block')) counted[command]++
  else return
  showCounts()
}

function showCounts(): void {
  app.dataset.foundNow = String(foundNow)
  app.dataset.getcfilters = String(counted.getcfilters)
  app.dataset.getcfheaders = String(counted.getcfheaders)
  app.dataset.cfilters = String(counted.cfilter)
  app.dataset.blocks = String(counted.block)
  $('traffic').textContent =
    `${counted.getcfheaders} getcfheaders and ${counted.getcfilters} getcfilters sent, ` +
    `${counted.cfilter} filters and ${counted.block} blocks received, ${foundNow} transactions found`
}

// ---------------------------------------------------------------- showing the watcher

/** Sats a transaction moved to (+) or from (-) the watched addresses. */
function netSats(tx: WalletTx): bigint {
  let n = 0n
  for (const o of tx.outputs) n += o.value
  for (const i of tx.inputs) n -= i.value
  return n
}

/** The table, newest first, rebuilt from the watcher's transactions (restored from IndexedDB, then found). */
function renderTxs(watcher: ScriptWatcher): void {
  const body = $('txs')
  const rows = watcher.transactions().map((tx) => {
    const tr = document.createElement('tr')
    const txid = hashToHex(tx.txid)
    const block = hashToHex(tx.blockHash)
    tr.dataset.txid = txid
    tr.dataset.height = String(tx.height)
    tr.dataset.block = block
    for (const [text, numeric] of [[txid, false], [String(tx.height), true], [block, false], [netSats(tx).toString(), true]] as const) {
      const td = document.createElement('td')
      td.textContent = text
      if (numeric) td.className = 'num'
      tr.append(td)
    }
    return tr
  })
  body.replaceChildren(...rows.reverse())
  $('tx-count').textContent = String(rows.length)
  $('balance').textContent = `${watcher.balance} sat`
}

function showProgress(p: { readonly scanned: number; readonly tip: number }): void {
  app.dataset.scanHeight = String(p.scanned)
  app.dataset.tip = String(p.tip)
  $('scanned').textContent = String(p.scanned)
  $('tip').textContent = String(p.tip)
  const bar = $<HTMLProgressElement>('progress')
  bar.max = Math.max(1, p.tip)
  bar.value = Math.max(0, p.scanned)
}

// ---------------------------------------------------------------- the run

let stores: IndexedDbStores | undefined
let peer: Peer | undefined
let watcher: ScriptWatcher | undefined
let stopped = false
/** Bumped whenever the scan falls behind: a 'synced' whose writes finish later than that is stale. */
let syncRound = 0

/** Caught up: mark the page synced once what the scan reached is in IndexedDB. */
async function onSynced(w: ScriptWatcher): Promise<void> {
  const round = syncRound
  showProgress({ scanned: w.machine.scanHeight, tip: w.headerSync.tree.height })
  // The filter state and the block headers: both written, so a reload from now on resumes here.
  await Promise.all([w.flush(), w.headerSync.flush()])
  if (stopped || round !== syncRound) return
  app.dataset.synced = 'true'
  setState('synced', `synced: ${w.machine.scanHeight} blocks scanned and stored`)
}

function onProgress(p: WatcherProgress): void {
  showProgress(p)
  if (p.scanned < p.tip && app.dataset.synced === 'true') {
    syncRound++
    app.dataset.synced = 'false'
    setState('syncing', `scanning new blocks to ${p.tip}`)
  }
}

async function stop(): Promise<void> {
  if (stopped) return
  stopped = true
  $<HTMLButtonElement>('stop').disabled = true
  app.dataset.synced = 'false'
  await watcher?.stop()
  peer?.close()
  await stores?.close()
  setState('stopped', 'stopped: the state is stored; reload to resume')
  log('stopped')
}

async function run(): Promise<void> {
  $('bridge').textContent = bridgeUrl
  $('peer').textContent = peerArg
  $('network').textContent = networkName
  $('db').textContent = dbName
  if (network === undefined) throw new Error(`unknown network '${networkName}'`)
  if (addresses.length === 0) throw new Error('no address to watch: add ?address=... to the URL')
  $('addresses').replaceChildren(
    ...addresses.map((a) => {
      const li = document.createElement('li')
      li.textContent = a
      return li
    }),
  )

  // What an earlier visit stored, before the watcher moves anything.
  stores = await openIndexedDbStores(dbName)
  const saved = (await stores.light.loadState()) as LightState | undefined
  const resumedFrom = saved?.scanHeight ?? -1
  app.dataset.resumedFrom = String(resumedFrom)
  $('resumed').textContent = resumedFrom < 0 ? 'nothing stored: scanning from genesis' : `height ${resumedFrom}, stored by an earlier visit`
  log(resumedFrom < 0 ? `opened ${dbName}: empty` : `opened ${dbName}: resuming from height ${resumedFrom}`)

  setState('connecting', `connecting to ${peerArg}`)
  peer = await Peer.connect(parsePeerAddress(peerArg), {
    connector: new WsConnector({ url: bridgeUrl }),
    network,
    v2,
    transport: 'v2',
    // Attached before the handshake, so every frame of this page load is counted.
    setup: (p) => p.on('frame', countFrame),
  })
  peer.on('close', (reason) => {
    if (!stopped) setState('error', `disconnected: ${describeDisconnect(reason)}`)
    log(`disconnected: ${describeDisconnect(reason)}`)
  })
  log(`connected to ${peerArg} (${peer.info?.peer.userAgent ?? '?'}) over v${peer.transportVersion}`)

  const w = new ScriptWatcher({ source: singlePeer(peer), network, store: stores.light, headerStore: stores.headers })
  watcher = w
  w.on('tx', (tx) => {
    foundNow++
    showCounts()
    renderTxs(w)
    log(`found ${hashToHex(tx.txid)} in block ${tx.height}`)
  })
  w.on('reorg', ({ fork, unconfirmed }) => {
    renderTxs(w)
    log(`reorg below ${fork.height}: ${unconfirmed.length} transactions unconfirmed again`)
  })
  w.on('stuck', ({ height, reason }) => log(`waiting at block ${height}: ${reason}`))
  // A failed IndexedDB write: the watcher goes on in memory, but a reload would not resume from here.
  w.on('error', (e) => fail(e instanceof Error ? `writing to IndexedDB: ${e.message}` : `writing to IndexedDB: ${String(e)}`))
  w.on('progress', onProgress)
  w.on('synced', () => void onSynced(w))
  $<HTMLButtonElement>('stop').disabled = false
  $<HTMLButtonElement>('stop').onclick = () => void stop()

  await w.watch(addresses)
  renderTxs(w) // what IndexedDB held
  setState('syncing')
  await w.synced()
  await onSynced(w)
}

/** Show an error; the page is no longer synced. */
function fail(message: string): void {
  syncRound++
  app.dataset.synced = 'false'
  app.dataset.error = message
  setState('error', `error: ${message}`)
  log(`error: ${message}`)
}

run().catch((e: unknown) => {
  if (!stopped) fail(e instanceof Error ? e.message : String(e))
})
