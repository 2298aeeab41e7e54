// bitp2p index-worker: one of N consumers of a distributed block index on NATS JetStream.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { networkByName } from '@bitp2p/wire'
import { blockWorker, ensureBucket } from '@bitp2p/jetstream'
import { DEFAULT_ACK_WAIT_MS, DEFAULT_MAX_DELIVERIES, DEFAULT_WORKER_CONCURRENCY } from '@bitp2p/jetstream/limits'
import { CliError, intOption, NETWORK_HELP, networkOption, parse, UsageError } from './common.mjs'
import { adapterFailure, NATS_OPTIONS, NATS_OPTIONS_HELP, namesOption, natsOption, natsUrls, streamsOption } from './nats.mjs'

export const summary = 'process block parts from NATS JetStream with a handler module (run N of them)'
export const help = `usage: bitp2p index-worker --nats nats://host:port --handler ./my-handler.mjs [options]

Takes block parts from the <ns>-blocks work queue (a durable pull consumer
shared by every worker) and hands each to the handler; a part is
acknowledged only after the handler resolves. A worker that dies leaves its
parts to be delivered again (at least once: make the handler idempotent). A
part whose handler throws comes back with a delay; after --max-deliveries it
goes to the dead-letter subject <ns>.dead.blocks.part.

The handler module exports:
  handle(part, ctx)     required (or the default export): part is a BlockPart
                        (hash, height, partIndex, partCount, txs with offsets and
                        ids, bytes); ctx has deliveryCount, streamSeq, msgId, signal
  init(env)             optional, awaited first: env has nc (the NATS connection),
                        names, network, bucket(name) (a key-value bucket), worker
  close()               optional, awaited when the worker stops
See examples/jetstream/block-stats-handler.mjs.

${NATS_OPTIONS_HELP}
  --handler <path>      the handler module (required)
${NETWORK_HELP}
  --consumer <name>     durable consumer: workers with the same one share the work (default <ns>-indexers)
  --concurrency <n>     parts handled at once (default ${DEFAULT_WORKER_CONCURRENCY})
  --max-deliveries <n>  deliveries of a part before it is dead-lettered (default ${DEFAULT_MAX_DELIVERIES})
  --ack-wait <ms>       how long the server waits for an ack before delivering again, set when
                        the consumer is created (default ${DEFAULT_ACK_WAIT_MS})
  --name <name>         this worker's name in events and dead letters (default worker-<pid>)
  --json                one JSON object per line on stdout: processed, retry, dead-letter, stall, recovered
  -h, --help            this help

Runs until Ctrl-C: the parts being handled finish and are acknowledged.`

/** The handler module at `path` (relative to the current directory). */
async function loadHandler(path) {
  const url = pathToFileURL(resolve(process.cwd(), path)).href
  let mod
  try {
    mod = await import(url)
  } catch (e) {
    throw new CliError(`cannot load the handler ${path}: ${e?.message ?? e}`)
  }
  const handle = typeof mod.handle === 'function' ? mod.handle : typeof mod.default === 'function' ? mod.default : undefined
  if (!handle) throw new CliError(`the handler ${path} exports no handle(part, ctx) function (nor a default one)`)
  return { handle, init: typeof mod.init === 'function' ? mod.init : undefined, close: typeof mod.close === 'function' ? mod.close : undefined }
}

export async function run(argv, ctx) {
  const { values } = parse(argv, {
    ...NATS_OPTIONS,
    handler: { type: 'string' },
    network: { type: 'string', default: 'mainnet' },
    consumer: { type: 'string' },
    concurrency: { type: 'string' },
    'max-deliveries': { type: 'string' },
    'ack-wait': { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) return void console.log(help)
  const names = namesOption(values)
  natsUrls(values) // checked before anything is started
  const streams = streamsOption(values)
  const network = networkOption(values)
  if (values.handler === undefined) throw new UsageError('--handler ./my-handler.mjs is required')
  const concurrency = intOption(values, 'concurrency', DEFAULT_WORKER_CONCURRENCY)
  const maxDeliveries = intOption(values, 'max-deliveries', DEFAULT_MAX_DELIVERIES)
  const ackWaitMs = intOption(values, 'ack-wait', DEFAULT_ACK_WAIT_MS)
  if (concurrency < 1) throw new UsageError('--concurrency must be at least 1')
  if (maxDeliveries < 1) throw new UsageError('--max-deliveries must be at least 1')
  if (ackWaitMs < 1_000) throw new UsageError('--ack-wait must be at least 1000 ms')
  const name = values.name ?? `worker-${process.pid}`
  if (values.consumer !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(values.consumer)) throw new UsageError(`--consumer must be letters, digits, '-' or '_', got '${values.consumer}'`)
  const handler = await loadHandler(values.handler)
  const nc = await natsOption(ctx, values, `bitp2p index-worker ${name}`)
  const out = values.json ? (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`) : undefined
  const say = values.json ? (line) => console.error(line) : (line) => console.log(line)

  try {
    await handler.init?.({ nc, names, network, worker: name, bucket: (bucket) => ensureBucket(nc, bucket, streams) })
  } catch (e) {
    throw new CliError(`the handler's init failed: ${e?.message ?? e}`)
  }
  const worker = blockWorker({
    nc,
    names,
    streams,
    consumer: values.consumer,
    name,
    concurrency,
    maxDeliveries,
    ackWaitMs,
    handler: handler.handle,
    signal: ctx.signal,
  })
  ctx.onExit(async () => {
    await worker.stop()
    await handler.close?.()
  })
  const errorText = (e) => String(e?.message ?? e)
  worker.on('processed', (i) => out?.({ event: 'processed', ...i, ms: Math.round(i.ms) }))
  worker.on('retry', (i) => {
    out?.({ event: 'retry', ...i, error: errorText(i.error) })
    if (!out) say(`part ${i.msgId}: handler failed (delivery ${i.deliveryCount}), again in ${i.delayMs} ms: ${errorText(i.error)}`)
  })
  worker.on('dead-letter', (i) => {
    out?.({ event: 'dead-letter', ...i, error: errorText(i.error) })
    if (!out) say(`part ${i.msgId}: dead-lettered to ${names.blockDeadSubject} (${i.reason}, ${i.deliveryCount} deliveries): ${errorText(i.error)}`)
  })
  worker.on('stall', (i) => out?.({ event: 'stall', error: errorText(i.error) }))
  worker.on('recovered', (i) => {
    out?.({ event: 'recovered', ms: Math.round(i.ms), failedPulls: i.failedPulls })
    if (!out) say(`pulling again after ${Math.round(i.ms)} ms (${i.failedPulls} failed pull(s))`)
  })
  say(`worker ${name} taking parts from ${names.blockStream} (consumer ${values.consumer ?? names.blockConsumer})`)
  worker.start()
  try {
    await worker.done
  } catch (e) {
    throw adapterFailure(e)
  }
  await handler.close?.()
  return 0
}
