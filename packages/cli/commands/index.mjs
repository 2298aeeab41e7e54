// bitp2p index: the producer of a distributed block index on NATS JetStream.
import { HeaderSync, singlePeer } from '@bitp2p/session'
import { BlockProducer } from '@bitp2p/jetstream'
import { DEFAULT_MAX_BACKLOG, DEFAULT_PRODUCER_NAME, DEFAULT_MAX_IN_FLIGHT } from '@bitp2p/jetstream/limits'
import { DEFAULT_CHUNK_BYTES } from '@bitp2p/session/limits'
import { CliError, connect, intOption, parse, PEER_OPTIONS, PEER_OPTIONS_HELP, progressLine, UsageError } from './common.mjs'
import { adapterFailure, NATS_OPTIONS, NATS_OPTIONS_HELP, namesOption, natsOption, natsUrls, streamsOption } from './nats.mjs'

export const summary = 'publish blocks from a peer to NATS JetStream as parts for index workers'
export const help = `usage: bitp2p index --peer host:port --nats nats://host:port [--from H] [--to H] [options]

Syncs the peer's headers, downloads the blocks from --from to --to (the
peer's tip by default), cuts each into parts (one per chunk, transactions
whole, with their offsets) and publishes them to the <ns>-blocks work queue,
paced by JetStream's acks. Run 'bitp2p index-worker' on as many machines as
you like to process them.

Every part has a Nats-Msg-Id (block hash, chunk size, part index), and the
height up to which everything is published is kept in the <ns>-progress
bucket: run the same command again after a crash and it resumes there,
republishing nothing the stream holds.

${PEER_OPTIONS_HELP}
${NATS_OPTIONS_HELP}
  --from <H>            first height (default 0)
  --to <H>              last height (default the peer's tip)
  --chunk-size <bytes>  bytes per part (default ${DEFAULT_CHUNK_BYTES}); a resume must use the same
  --max-in-flight <n>   publishes awaiting their ack at once (default ${DEFAULT_MAX_IN_FLIGHT})
  --max-backlog <n>     most parts waiting in the stream for workers; beyond, the producer waits
                        and stops downloading (default ${DEFAULT_MAX_BACKLOG})
  --name <name>         the producer's progress key (default ${DEFAULT_PRODUCER_NAME})
  --json                one JSON object per line on stdout: resume, part, block, and done with the summary`

export async function run(argv, ctx) {
  const { values } = parse(argv, {
    ...PEER_OPTIONS,
    ...NATS_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    'chunk-size': { type: 'string' },
    'max-in-flight': { type: 'string' },
    'max-backlog': { type: 'string' },
    name: { type: 'string', default: DEFAULT_PRODUCER_NAME },
    json: { type: 'boolean' },
  })
  if (values.help) return void console.log(help)
  const names = namesOption(values)
  natsUrls(values) // checked before anything is started
  const streams = streamsOption(values)
  const from = intOption(values, 'from', 0)
  const askedTo = intOption(values, 'to', undefined)
  if (askedTo !== undefined && askedTo < from) throw new UsageError(`--to ${askedTo} is below --from ${from}`)
  const chunkSize = intOption(values, 'chunk-size', DEFAULT_CHUNK_BYTES)
  const maxInFlight = intOption(values, 'max-in-flight', DEFAULT_MAX_IN_FLIGHT)
  if (maxInFlight < 1) throw new UsageError('--max-in-flight must be at least 1')
  const maxBacklog = intOption(values, 'max-backlog', DEFAULT_MAX_BACKLOG)
  if (maxBacklog < 1) throw new UsageError('--max-backlog must be at least 1')
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(values.name)) throw new UsageError(`--name must be 1 to 64 letters, digits, '-' or '_', got '${values.name}'`)
  const out = values.json ? (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`) : undefined
  const say = values.json ? (line) => console.error(line) : (line) => console.log(line)

  const nc = await natsOption(ctx, values, `bitp2p index ${values.name}`)
  const { peer, network, clock, lost, close } = await connect(ctx, values, { streamBlocks: true })
  const source = singlePeer(peer)
  const sync = new HeaderSync({ source, network, clock, unixTimeOffsetMs: performance.timeOrigin })
  await sync.start()
  const tip = await Promise.race([sync.synced(ctx.signal), lost])
  sync.stop()
  const to = askedTo ?? tip.height
  if (to > tip.height) throw new CliError(`--to ${to} is above the peer's tip (${tip.height})`)
  if (from > to) throw new CliError(`--from ${from} is above the peer's tip (${tip.height})`)
  say(`headers synced to ${tip.height}; publishing blocks ${from}..${to} to ${names.blockStream}`)

  let producer
  try {
    producer = new BlockProducer({ nc, names, source, network, tree: sync.tree, chunkSize, streams, name: values.name, publish: { maxInFlight }, maxBacklog })
  } catch (e) {
    throw new UsageError(e.message)
  }
  const progress = progressLine(values.json ? process.stderr : process.stdout)
  const t0 = performance.now()
  let blocks = 0
  producer.on('resume', ({ progress: p, from: f }) => {
    say(`resuming after height ${p.height} (${p.hash}): from ${f}`)
    out?.({ event: 'resume', height: p.height, hash: p.hash, from: f })
  })
  producer.on('part', (p) => out?.({ event: 'part', ...p }))
  producer.on('block', (b) => {
    blocks++
    out?.({ event: 'block', ...b })
    const total = to - from + 1
    progress.update(`${blocks} block(s) published, height ${b.height}`, blocks / total)
  })
  let result
  try {
    result = await Promise.race([producer.run({ from, to }, ctx.signal), lost])
  } catch (e) {
    throw adapterFailure(e)
  } finally {
    progress.end()
  }
  close()
  const seconds = (performance.now() - t0) / 1000
  const doc = {
    event: 'done',
    from: result.from,
    to: result.to,
    blocks: result.blocks,
    parts: result.parts,
    txs: result.txs,
    bytes: result.bytes,
    seconds: Math.round(seconds * 1000) / 1000,
    duplicates: result.publish.duplicates,
    retries: result.publish.retries,
    fullRetries: result.publish.fullRetries,
    maxInFlight: result.publish.maxInFlightSeen,
    maxHeldBytes: result.maxHeldBytes,
    backlogWaits: result.backlogWaits,
    resumedFrom: result.resumedFrom?.height ?? null,
  }
  if (out) out(doc)
  else {
    console.log(`published ${result.blocks} block(s), ${result.parts} part(s), ${result.txs} transaction(s), ${(result.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s`)
    if (result.publish.duplicates > 0) console.log(`${result.publish.duplicates} part(s) were in the stream already (a resumed run)`)
  }
  return 0
}
