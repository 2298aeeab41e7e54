// bitp2p demo: one Bitcoin P2P session, end to end, against a real node.
//
//   npm run demo        (builds the packages, then runs this file)
//
// 1. starts bcoin 1.0.2 as a regtest node on 127.0.0.1 and mines 200 blocks
// 2. connects to it over TCP with a bitp2p Peer (version handshake, ping)
// 3. syncs and validates the block headers from genesis
// 4. watches a transaction arrive: bcoin's wallet pays, bcoin announces it
//    to us (inv), we fetch it (getdata) and decode it
// 5. broadcasts a transaction: bcoin's wallet signs one without sending
//    it, we announce it, bcoin fetches it from us and takes it into its
//    mempool
// 6. closes everything; with --keep, prints the bitp2p commands to try
//    against the node and keeps it running until Ctrl-C
//
// Everything stays on this machine (127.0.0.1). The packages are imported
// as a user of the SDK would, from their built dist/ bundles.
import { HeaderTree, Peer } from '@bitp2p/session'
import { fromHex, hashToHex, hexToHash, InvType, parseTx, regtest, toHex, txid, txVsize } from '@bitp2p/wire'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { spawnBcoin } from '../test/harness/spawn-bcoin.mjs'

const BLOCKS = 200
/** --keep: leave the node running after the tour, for the next commands. */
const KEEP = process.argv.includes('--keep')
const API_KEY = `bitp2p-demo-${process.pid}`
const SATS_PER_BTC = 100_000_000n

const btc = (sats) => `${sats / SATS_PER_BTC}.${(sats % SATS_PER_BTC).toString().padStart(8, '0')} BTC`
const short = (hex) => `${hex.slice(0, 16)}…${hex.slice(-8)}`
const ms = (t0) => `${Math.round(performance.now() - t0)} ms`
const sleep = (n) => new Promise((r) => setTimeout(r, n))
/** How long the demo waits for bcoin to announce or accept a transaction. */
const WAIT_MS = 30_000

/** Polls `cond` every 10 ms; throws (naming `what`) when WAIT_MS pass first. */
async function waitFor(cond, what) {
  const deadline = performance.now() + WAIT_MS
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`no ${what} within ${WAIT_MS / 1000} s`)
    await sleep(10)
  }
}

/** A progress bar line: redrawn in place on a terminal, one line per update otherwise. */
function progressBar(out = process.stdout) {
  const width = 24
  const tty = out.isTTY === true
  return {
    update(done, total, text) {
      const full = total > 0 ? Math.floor((Math.min(done, total) / total) * width) : width
      const line = `   [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${text}`
      out.write(tty ? `\r${line}\x1b[K` : `${line}\n`)
    },
    end() {
      if (tty) out.write('\n')
    },
  }
}

/** The standard output script templates, by their fixed bytes. */
function scriptType(spk) {
  const hex = toHex(spk)
  if (spk.length === 25 && hex.startsWith('76a914') && hex.endsWith('88ac')) return 'p2pkh'
  if (spk.length === 23 && hex.startsWith('a914') && hex.endsWith('87')) return 'p2sh'
  if (spk.length === 22 && hex.startsWith('0014')) return 'p2wpkh'
  if (spk.length === 34 && hex.startsWith('0020')) return 'p2wsh'
  if (spk.length === 34 && hex.startsWith('5120')) return 'p2tr'
  return 'other'
}

// --- the regtest node ---------------------------------------------------------

/** Starts the bcoin regtest server script; resolves with its ready line (ports, wallet address). */
function startBcoin() {
  return spawnBcoin(
    {
      API_KEY,
      MINE: String(BLOCKS),
      WALLET: '1', // bcoin's wallet: it pays and signs for us
      INV_MS: '50', // announce transactions every 50 ms (bcoin's default is 5 s)
    },
    // bcoin's own log stays off our output; its tail explains a failed start.
    { captureStderr: true },
  )
}

/** A request to bcoin's HTTP API on 127.0.0.1 (JSON-RPC at '/'). */
async function bcoinHttp(port, path, body) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`x:${API_KEY}`)}` },
    body: JSON.stringify(body),
  })
  const json = await res.json()
  if (json.error) throw new Error(`bcoin ${path} ${body.method ?? ''}: ${json.error.message}`)
  return path === '/' ? json.result : json
}

// --- the demo -------------------------------------------------------------------

async function main() {
  console.log('bitp2p demo: a Bitcoin P2P session with a local bcoin regtest node\n')

  // 1. The node.
  let t0 = performance.now()
  console.log(`1. Starting bcoin (regtest, 127.0.0.1 only) and mining ${BLOCKS} blocks`)
  const { child, info } = await startBcoin()
  const rpc = (method, params = []) => bcoinHttp(info.http, '/', { method, params, id: 1 })
  const walletRpc = (method, params = []) => bcoinHttp(info.wallet, '/', { method, params, id: 1 })
  console.log(`   bcoin ${info.bcoin} ready in ${ms(t0)}: P2P on 127.0.0.1:${info.p2p}, height ${info.height}\n`)

  let peer
  try {
    // 2. Connect and shake hands. Listeners go on in `setup`, before any message can arrive.
    t0 = performance.now()
    console.log('2. Connecting with a bitp2p Peer over TCP')
    const invs = []
    peer = await Peer.connect(
      { host: '127.0.0.1', port: info.p2p },
      {
        connector: new TcpConnector(),
        network: regtest,
        setup: (p) => p.on('inv', (m) => invs.push(...m.items)),
      },
    )
    const rtt = await peer.ping()
    const v = peer.info.peer
    console.log(`   handshake done in ${ms(t0)}: ${v.userAgent} protocol ${peer.info.negotiatedVersion}, its height ${v.startHeight}`)
    console.log(`   ping ${rtt.toFixed(2)} ms\n`)

    // 3. Header sync: ask for headers after our tip (a block locator) until the peer has no more.
    console.log('3. Syncing block headers from genesis (each one checked: linkage, proof of work, difficulty, time)')
    const tree = new HeaderTree(regtest)
    const total = v.startHeight
    const bar = progressBar()
    t0 = performance.now()
    for (;;) {
      const headers = await peer.getHeaders(tree.locator())
      const result = tree.acceptMany(headers, Math.floor(Date.now() / 1000))
      if (result.rejected) throw new Error(`invalid header: ${JSON.stringify(result.rejected.error)}`)
      const rate = Math.round(tree.height / ((performance.now() - t0) / 1000))
      bar.update(tree.height, total, `headers ${tree.height}/${total} (${Math.round((100 * tree.height) / total)}%), ${rate} headers/s`)
      if (headers.length < 2000) break // a short reply: the peer has nothing more
    }
    bar.end()
    const best = await rpc('getbestblockhash')
    const tip = hashToHex(tree.tip.hash)
    console.log(`   tip ${short(tip)} at height ${tree.height} ${tip === best ? 'matches' : 'DIFFERS FROM'} bcoin's best block\n`)
    if (tip !== best) throw new Error(`our tip ${tip} is not bcoin's ${best}`)

    // 4. A transaction arrives: bcoin's wallet pays itself 1 BTC; bcoin announces it to us.
    console.log('4. Watching a transaction arrive from bcoin')
    t0 = performance.now()
    const sent = await walletRpc('sendtoaddress', [info.mineAddress, 1])
    await waitFor(() => invs.some((i) => hashToHex(i.hash) === sent), "announcement (inv) of bcoin's payment")
    console.log(`   bcoin's wallet paid 1 BTC; bcoin announced it to us (inv) after ${ms(t0)}`)
    const got = await peer.getData([{ type: InvType.MSG_WITNESS_TX, hash: hexToHash(sent) }])
    const tx = got.found[0].message.tx
    console.log(`   fetched it (getdata): txid ${short(hashToHex(txid(tx)))}, ${txVsize(tx)} vbytes, ${tx.inputs.length} input(s)`)
    tx.outputs.forEach((o, i) => console.log(`     output ${i}: ${btc(o.value).padStart(16)}  ${scriptType(o.scriptPubKey)} ${short(toHex(o.scriptPubKey))}`))
    console.log()

    // 5. Broadcast: bcoin's wallet signs a payment but does not send it; we do.
    console.log('5. Broadcasting a transaction')
    const signed = await bcoinHttp(info.wallet, '/wallet/primary/create', { outputs: [{ address: info.mineAddress, value: 10_000_000 }] })
    const ours = parseTx(fromHex(signed.hex))
    const ourId = hashToHex(txid(ours))
    console.log(`   bcoin's wallet signed 0.1 BTC without sending it: txid ${short(ourId)}`)
    peer.on('getdata', (m) => {
      if (!m.items.some((i) => hashToHex(i.hash) === ourId)) return
      console.log('   bcoin asked for it (getdata); sending it (tx)')
      peer.send({ command: 'tx', tx: ours })
    })
    t0 = performance.now()
    peer.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash: txid(ours) }] })
    console.log('   announced it to bcoin (inv)')
    await waitFor(async () => (await rpc('getrawmempool')).includes(ourId), 'broadcast transaction in bcoin\'s mempool')
    console.log(`   in bcoin's mempool after ${ms(t0)}\n`)
    peer.close('demo done')
    peer = undefined
    // The CLI defaults to mainnet: the next commands name the regtest node explicitly.
    const at = `--peer 127.0.0.1:${info.p2p} --network regtest`
    const next = [`bitp2p headers ${at}`, `bitp2p mempool ${at}`, `bitp2p block <hash> ${at}`, `bitp2p view ${at}`]
    if (KEEP) {
      console.log(`Next: the node keeps running. In another terminal, try:\n${next.map((c) => `   ${c}`).join('\n')}`)
      console.log('Ctrl-C stops it.\n')
      // In a terminal Ctrl-C reaches both `bitp2p` and this process, and
      // `bitp2p` passes it on too: the first one stops, a later one while
      // stopping is ignored (bcoin's stop is quick and bounded below).
      await new Promise((resolve) => process.on('SIGINT', resolve))
    } else {
      console.log("Next: 'bitp2p demo --keep' leaves the node running and prints commands to try against it\n   (bitp2p headers, mempool, block, view with --peer 127.0.0.1:<port> --network regtest)\n")
    }
  } finally {
    // 6. Close the connection and stop the node.
    console.log('6. Closing')
    peer?.close('demo done')
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
    console.log('   connection closed, bcoin stopped')
  }
  console.log('\ndone')
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`demo failed: ${e.stack ?? e}`)
    process.exit(1)
  },
)
