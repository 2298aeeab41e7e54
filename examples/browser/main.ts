/**
 * bitp2p in a web page: connects to Bitcoin nodes through a bitp2p bridge
 * (WebSocket -> TCP), syncs and validates their block headers, and lists
 * the transactions they announce, live.
 *
 * Query parameters (all optional):
 *   bridge   the bridge's URL                 default ws://127.0.0.1:8080/
 *   peer     host:port, repeat for several    default 127.0.0.1:18444
 *   network  mainnet, testnet3, testnet4, signet, regtest   default regtest
 *
 * Bundled for the browser by build.mjs into dist/main.js.
 */
import { WsConnector } from '@bitp2p/transport-ws'
import { describeDisconnect, parsePeerAddress, Peer } from '@bitp2p/session'
import { HeaderTree } from '@bitp2p/session/chain'
import { blockHash, hashToHex, InvType, networkByName, Services, txid, txVsize, type BlockHeader, type InvItem, type Transaction } from '@bitp2p/wire'

/** Largest headers message (Core's MAX_HEADERS_RESULTS): a full one means there are more. */
const MAX_HEADERS_RESULTS = 2000
/** How long one getheaders / getdata may take before the peer counts as stalled. */
const REQUEST_TIMEOUT_MS = 20_000
/** A headers message of at most this many new headers is a block announcement: its blocks are fetched to clear their txs from the list. */
const MAX_ANNOUNCED_BLOCKS = 8
/** Transactions kept in the list (the oldest go first). */
const MAX_LISTED_TXS = 200
const SATS_PER_BTC = 100_000_000n

const query = new URLSearchParams(location.search)
const bridgeUrl = query.get('bridge') ?? 'ws://127.0.0.1:8080/'
const peerList = query.getAll('peer').length > 0 ? query.getAll('peer') : ['127.0.0.1:18444']
const network = networkByName(query.get('network') ?? 'regtest')

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T

function log(line: string): void {
  const li = document.createElement('li')
  li.textContent = `${new Date().toLocaleTimeString()}  ${line}`
  const list = $('log')
  list.prepend(li)
  while (list.children.length > 100) list.lastElementChild!.remove()
}

function btc(sats: bigint): string {
  const whole = sats / SATS_PER_BTC
  const frac = (sats % SATS_PER_BTC).toString().padStart(8, '0')
  return `${whole}.${frac}`
}

// ---------------------------------------------------------------- headers

const tree = network === undefined ? undefined : new HeaderTree(network)
/** Block hashes announced by inv that the tree does not hold yet. */
const announced = new Set<string>()
let syncing = false

function showTip(): void {
  if (tree === undefined) return
  const height = $('height')
  height.textContent = String(tree.height)
  height.dataset.height = String(tree.height)
  $('tip').textContent = hashToHex(tree.tip.hash)
}

/**
 * Every headers message, a getheaders reply or a BIP130 announcement, goes
 * into the tree here, which validates each header against the network's
 * rules. A header whose parent we lack starts a sync; an invalid one ends
 * the connection.
 */
function onHeaders(peer: Peer, headers: readonly BlockHeader[], from: string): void {
  if (tree === undefined || headers.length === 0) return
  const before = tree.height
  const r = tree.acceptMany(headers, Math.floor(Date.now() / 1000))
  for (const h of headers) announced.delete(hashToHex(blockHash(h)))
  if (r.added > 0) {
    showTip()
    log(`${from}: ${r.added} new headers, height ${before} -> ${tree.height}`)
    if (r.added <= MAX_ANNOUNCED_BLOCKS && listed.size > 0) void dropConfirmed(peer, headers.map(blockHash), from)
  }
  if (r.rejected === undefined) return
  if (r.rejected.error.kind === 'orphan' && r.rejected.index === 0) {
    void syncHeaders(peer, from)
    return
  }
  log(`${from}: header ${r.rejected.index} rejected (${r.rejected.error.kind}); disconnecting`)
  peer.close('invalid header')
}

/**
 * getheaders from the tree's locator while the peer sends full batches
 * (onHeaders takes them in), then again while a block it announced is
 * still missing. Only ask when the peer has something for us: bcoin, unlike
 * Core, does not answer a getheaders it has nothing for, and an unanswered
 * request ends the connection as stalled.
 */
async function syncHeaders(peer: Peer, from: string): Promise<void> {
  if (tree === undefined || syncing) return
  syncing = true
  try {
    for (;;) {
      const before = tree.height
      const headers = await peer.getHeaders(tree.locator(), { timeoutMs: REQUEST_TIMEOUT_MS })
      if (headers.length === MAX_HEADERS_RESULTS) continue
      if (announced.size === 0 || tree.height === before || peer.state !== 'ready') break
    }
  } catch (e) {
    log(`${from}: header sync stopped: ${(e as Error).message}`)
  } finally {
    syncing = false
  }
}

// ---------------------------------------------------------------- mempool

const listed = new Map<string, HTMLElement>()
const requested = new Set<string>()

function showTx(tx: Transaction, from: string): void {
  const id = hashToHex(txid(tx))
  if (listed.has(id)) return
  const row = document.createElement('tr')
  row.dataset.txid = id
  const total = tx.outputs.reduce((sum, o) => sum + o.value, 0n)
  for (const text of [id, String(tx.inputs.length), String(tx.outputs.length), btc(total), String(txVsize(tx)), from]) {
    const td = document.createElement('td')
    td.textContent = text
    row.append(td)
  }
  $('mempool').prepend(row)
  listed.set(id, row)
  while (listed.size > MAX_LISTED_TXS) {
    const [oldest, el] = listed.entries().next().value!
    el.remove()
    listed.delete(oldest)
  }
  $('tx-count').textContent = String(listed.size)
}

/** getdata the announced transactions we have not asked for yet, and list them. */
async function fetchTxs(peer: Peer, items: readonly InvItem[], from: string): Promise<void> {
  const wanted = items.filter((i) => (i.type === InvType.MSG_TX || i.type === InvType.MSG_WTX) && !requested.has(hashToHex(i.hash)))
  if (wanted.length === 0) return
  for (const i of wanted) requested.add(hashToHex(i.hash))
  try {
    const { found } = await peer.getData(wanted, { timeoutMs: REQUEST_TIMEOUT_MS })
    for (const f of found) if (f.message?.command === 'tx') showTx(f.message.tx, from)
  } catch (e) {
    for (const i of wanted) requested.delete(hashToHex(i.hash))
    log(`${from}: getdata failed: ${(e as Error).message}`)
  }
}

/** Fetch newly announced blocks and take their transactions off the list. */
async function dropConfirmed(peer: Peer, hashes: readonly Uint8Array[], from: string): Promise<void> {
  try {
    const { found } = await peer.getData(hashes.map((hash) => ({ type: InvType.MSG_BLOCK, hash })), { timeoutMs: REQUEST_TIMEOUT_MS })
    for (const f of found) {
      if (f.message?.command !== 'block') continue
      let n = 0
      for (const tx of f.message.block.txs) {
        const id = hashToHex(txid(tx))
        const row = listed.get(id)
        if (row === undefined) continue
        row.remove()
        listed.delete(id)
        n++
      }
      if (n > 0) log(`${from}: block ${hashToHex(blockHash(f.message.block.header)).slice(0, 16)}... confirmed ${n} listed tx`)
    }
    $('tx-count').textContent = String(listed.size)
  } catch (e) {
    log(`${from}: block fetch failed: ${(e as Error).message}`)
  }
}

// ---------------------------------------------------------------- peers

function peerRow(addr: string): (state: string, cells?: Partial<Record<'agent' | 'version' | 'height' | 'rtt', string>>) => void {
  const row = document.createElement('tr')
  row.dataset.peer = addr
  const cells = ['addr', 'state', 'agent', 'version', 'height', 'rtt'].map((name) => {
    const td = document.createElement('td')
    td.className = name
    row.append(td)
    return td
  })
  cells[0]!.textContent = addr
  $('peers').append(row)
  return (state, more = {}) => {
    cells[1]!.textContent = state
    row.dataset.state = state
    if (more.agent !== undefined) cells[2]!.textContent = more.agent
    if (more.version !== undefined) cells[3]!.textContent = more.version
    if (more.height !== undefined) cells[4]!.textContent = more.height
    if (more.rtt !== undefined) cells[5]!.textContent = more.rtt
  }
}

async function connect(addrText: string, connector: WsConnector): Promise<void> {
  const show = peerRow(addrText)
  show('connecting')
  let peer: Peer
  try {
    peer = await Peer.connect(parsePeerAddress(addrText), {
      connector,
      network: network!,
      userAgent: '/bitp2p-browser-example:0.1.0/',
      setup: (p) => {
        p.on('inv', (m) => {
          void fetchTxs(p, m.items, addrText)
          const blocks = m.items.filter((i) => i.type === InvType.MSG_BLOCK && tree !== undefined && !tree.has(i.hash))
          for (const b of blocks) announced.add(hashToHex(b.hash))
          if (blocks.length > 0) void syncHeaders(p, addrText)
        })
        p.on('headers', (m) => onHeaders(p, m.headers, addrText))
        p.on('latency', (rtt) => show('ready', { rtt: `${Math.round(rtt)} ms` }))
        p.on('close', (reason) => {
          show('closed')
          log(`${addrText}: closed: ${describeDisconnect(reason)}`)
        })
      },
    })
  } catch (e) {
    show('failed')
    log(`${addrText}: ${(e as Error).message}`)
    return
  }
  const info = peer.info!.peer
  show('ready', { agent: info.userAgent, version: String(info.version), height: String(info.startHeight) })
  log(`${addrText}: ready (${info.userAgent}, height ${info.startHeight})`)
  // BIP35: ask for the mempool only where it is served (Core disconnects otherwise).
  if ((info.services & Services.NODE_BLOOM) !== 0n) peer.send({ command: 'mempool' })
  // Later blocks arrive as headers (we sent sendheaders) or inv.
  if (tree !== undefined && info.startHeight > tree.height) await syncHeaders(peer, addrText)
}

function main(): void {
  $('bridge').textContent = bridgeUrl
  $('network').textContent = network?.name ?? `unknown network '${query.get('network')}'`
  if (network === undefined) {
    $('status').textContent = 'unknown network'
    return
  }
  showTip()
  $('status').textContent = 'running'
  const connector = new WsConnector({ url: bridgeUrl })
  for (const p of peerList) void connect(p, connector)
}

main()
