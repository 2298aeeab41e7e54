// bitp2p block: stream one block from a peer, chunk by chunk, and verify it.
import { BlockFetcher, HeaderSync, singlePeer } from '@bitp2p/session'
import { hashToHex, hexToHash } from '@bitp2p/wire'
import { CliError, connect, parse, PEER_OPTIONS, PEER_OPTIONS_HELP, UsageError } from './common.mjs'

export const summary = 'download one block by hash or height, streamed and verified'
export const help = `usage: bitp2p block <hash|height> --peer host:port [--network <net>]

Downloads one block, streamed in chunks, and checks its merkle root (and
witness commitment). A height needs the header chain first: the headers are
synced from the same peer.

${PEER_OPTIONS_HELP}`

/** A block hash (64 hex digits, RPC order) or a height (decimal). */
function target(arg) {
  if (arg === undefined) throw new UsageError('block needs a <hash|height> argument')
  if (/^[0-9a-fA-F]{64}$/.test(arg)) return { hash: hexToHash(arg.toLowerCase()) }
  if (/^\d{1,10}$/.test(arg)) return { height: Number(arg) }
  throw new UsageError(`'${arg}' is neither a block hash (64 hex digits) nor a height`)
}

export async function run(argv, ctx) {
  const { values, positionals } = parse(argv, PEER_OPTIONS, { positionals: 1 })
  if (values.help) return void console.log(help)
  const want = target(positionals[0])

  const { peer, network, clock, lost, close } = await connect(ctx, values, { streamBlocks: true })
  const source = singlePeer(peer)
  let tree
  let hash = want.hash
  if (want.height !== undefined) {
    const sync = new HeaderSync({ source, network, clock })
    await sync.start()
    const tip = await Promise.race([sync.synced(ctx.signal), lost])
    sync.stop()
    console.log(`headers synced to height ${tip.height}`)
    const entry = sync.tree.getByHeight(want.height)
    if (!entry) throw new CliError(`no block at height ${want.height} (the peer's tip is at ${tip.height})`)
    tree = sync.tree
    hash = entry.hash
  }

  const fetcher = new BlockFetcher({ source, network, tree })
  const download = fetcher.fetch([hash])
  ctx.onExit(() => download.cancel('interrupted'))
  const stream = (async () => {
    for await (const ev of download) {
      if (ev.type === 'chunk') {
        console.log(`chunk ${ev.chunkIndex}: bytes ${ev.offset}..${ev.offset + ev.bytes.length}, ${ev.txs.length} tx(s) completed`)
      } else {
        return ev
      }
    }
    throw new CliError('the download ended without the block')
  })()
  let done
  try {
    done = await Promise.race([stream, lost])
  } catch (e) {
    if (e?.name === 'BlockFetchError') {
      const why = e.code === 'exhausted' ? `${values.peer} did not send it (notfound, or no answer in time)` : e.message
      throw new CliError(`block ${hashToHex(hash)}: ${why}`)
    }
    throw e
  }
  close()
  const at = done.height !== undefined ? ` at height ${done.height}` : ''
  console.log(`block ${hashToHex(done.hash)}${at}: ${done.txCount} txs, ${done.size} bytes, weight ${done.weight}, ${done.chunks} chunk(s) from ${done.peer}`)
  console.log(`merkle root ${hashToHex(done.header.merkleRoot)} verified; witness commitment ${done.witnessCommitment}`)
  return 0
}
