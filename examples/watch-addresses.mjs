// watch-addresses: find every transaction paying or spending some
// addresses, privately: the peer serves compact block filters (BIP157/158)
// for every block, the filters are matched here, and only the blocks that
// match are downloaded, so the peer never learns which addresses are ours.
//
//   npm run build
//   node examples/watch-addresses.mjs <address>... [--peer host:port] [--from-height N]
//
// The peer must serve compact filters: btcd, or Bitcoin Core with
// -blockfilterindex -peerblockfilters (default 127.0.0.1:18444).
// BITP2P_NETWORK (default regtest) names the network. Prints one line per
// transaction found and exits once caught up with the peer's chain.
import { parseArgs } from 'node:util'
import { parsePeerAddress, Peer, RealtimeClock, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { hashToHex, networkByName } from '@bitp2p/wire'
import { MemoryLightStore, ScriptWatcher, scriptToAddress } from '@bitp2p/light'

async function main() {
  const { values, positionals } = parseArgs({ options: { peer: { type: 'string' }, 'from-height': { type: 'string' } }, allowPositionals: true })
  if (positionals.length === 0) throw new Error('give at least one address to watch')
  const network = networkByName(process.env.BITP2P_NETWORK ?? 'regtest')
  if (!network) throw new Error(`unknown network '${process.env.BITP2P_NETWORK}'`)
  const clock = new RealtimeClock()
  const peer = await Peer.connect(parsePeerAddress(values.peer ?? '127.0.0.1:18444'), { connector: new TcpConnector(), network, clock })
  console.log(`connected to ${peer.info.peer.userAgent}, height ${peer.info.peer.startHeight}`)

  // A MemoryLightStore keeps everything in memory; a file or IndexedDB store keeps it across runs.
  const watcher = new ScriptWatcher({ source: singlePeer(peer), network, clock, store: new MemoryLightStore() })
  watcher.on('tx', (tx) => {
    const paid = tx.outputs.map((o) => `+${o.value} sat to ${scriptToAddress(o.script, network)}`)
    const spent = tx.inputs.map((i) => `-${i.value} sat from ${scriptToAddress(i.script, network)}`)
    console.log(`tx ${hashToHex(tx.txid)} in block ${tx.height}: ${[...paid, ...spent].join(', ')}`)
  })
  watcher.on('reorg', (r) => console.log(`reorg at height ${r.fork.height}: ${r.unconfirmed.length} transaction(s) no longer confirmed`))
  await watcher.watch(positionals, { birthday: Number(values['from-height'] ?? 0) })
  const tip = await watcher.synced(AbortSignal.timeout(10 * 60_000))
  console.log(`caught up at height ${tip.height}: ${watcher.transactions().length} transaction(s), ${watcher.balance} sat unspent`)
  await watcher.stop()
  peer.close('done')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
