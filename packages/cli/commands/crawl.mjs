// bitp2p crawl: visit the nodes reachable from some seeds and summarise them.
import { crawl, formatPeerAddress, RealtimeClock } from '@bitp2p/session'
import { DEFAULT_CRAWL_CONCURRENCY } from '@bitp2p/session/limits'
import { serviceNames } from '@bitp2p/wire'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { CliError, DEFAULT_CONNECT_TIMEOUT_MS, describeReason, intOption, NETWORK_HELP, networkOption, parse, parseAddress, printable, timeoutOption, UsageError } from './common.mjs'
// The NATS side (--nats) is loaded only when asked for.
const nats = () => import('./nats.mjs')
const jetstreamPkg = () => import('@bitp2p/jetstream')

/** The NATS options and their help, without loading the NATS client (parseArgs form; see nats.mjs). */
const NATS_OPTIONS = { nats: { type: 'string', multiple: true }, namespace: { type: 'string', default: 'bitp2p' }, replicas: { type: 'string' } }
const NATS_OPTIONS_HELP = `  --nats <url>          NATS server, nats://host:port (repeat, or comma-separate, for a cluster): a distributed crawl
  --namespace <ns>      names of the stream and bucket (default bitp2p): one per crawl
  --replicas <n>        replicas of the stream and bucket this process creates (default 1; 3 in a 3-node cluster)`

/** Default most nodes visited: enough for a look around, small enough to finish. */
export const DEFAULT_MAX_NODES = 1_000
/** Default wait for a node's getaddr answer, ms (a node with nothing to tell sends nothing). */
export const DEFAULT_ADDR_WAIT_MS = 5_000
/** How often a distributed crawler checks whether the shared frontier is exhausted, ms. */
export const IDLE_CHECK_MS = 500

export const summary = 'crawl the network from seed nodes: versions, services, user agents, latency'
export const help = `usage: bitp2p crawl --seed host:port [--seed host:port ...] [--network <net>] [--max N] [--json]
       bitp2p crawl --nats nats://host:port [--seed host:port ...] [options]   (distributed)

Connects to each seed, completes the handshake (recording protocol version,
services, user agent, height and connect latency), asks for addresses
(getaddr), disconnects, and visits every new address it learned, up to
--max nodes. Prints each node as it is visited, then a table and a summary
of versions, services, user agents and latency.

With --nats, crawlers on several machines share one frontier: addresses to
visit are a JetStream work queue (<ns>-crawl), results a key-value bucket
(<ns>-crawl, one key per address), and an address is visited once whichever
crawler learns it. --seed adds to the shared frontier (optional when joining
a crawl). Each crawler stops when the frontier is exhausted (nothing queued,
nothing being visited) or after visiting --max nodes itself; the report
covers every node in the bucket.

  --seed host:port      a node to start from (repeat for more; required)
${NETWORK_HELP}
  --max <N>             visit at most N nodes (default ${DEFAULT_MAX_NODES})
  --concurrency <N>     nodes in progress at once (default ${DEFAULT_CRAWL_CONCURRENCY})
  --timeout <ms>        connect and handshake deadline per node (default ${DEFAULT_CONNECT_TIMEOUT_MS})
  --addr-wait <ms>      how long to wait for a node's addresses (default ${DEFAULT_ADDR_WAIT_MS})
  --json                print one JSON document on stdout instead of the table:
                        {network, seeds, visited, reachable, failed, seconds,
                        nodes, failures, summary}; the running log goes to stderr
                        (with --nats also namespace, worker, visitedHere, queued)
${NATS_OPTIONS_HELP}
  --name <name>         with --nats: this crawler's name in the results (default crawler-<pid>)
  -h, --help            this help`

/** How often each value occurs, most frequent first (ties in first-seen order). */
function tally(values) {
  const counts = new Map()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts].sort((x, y) => y[1] - x[1]).map(([value, count]) => ({ value, count }))
}

/** min / median / max of a list of numbers, or null when empty. */
function spread(values) {
  if (values.length === 0) return null
  const s = [...values].sort((x, y) => x - y)
  const mid = s.length >> 1
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
  return { min: s[0], median, max: s[s.length - 1] }
}

/** A node result as plain JSON. */
function nodeRow(r) {
  return {
    address: formatPeerAddress(r.address),
    version: r.version,
    services: `0x${r.services.toString(16)}`,
    serviceNames: serviceNames(r.services),
    userAgent: r.userAgent,
    startHeight: r.startHeight,
    latencyMs: Math.round(r.latencyMs),
    addrsLearned: r.addrsLearned,
    newAddrs: r.newAddrs,
  }
}

/** Left-aligned columns. */
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export async function run(argv, ctx) {
  const { values } = parse(argv, {
    seed: { type: 'string', multiple: true },
    network: { type: 'string', default: 'mainnet' },
    max: { type: 'string' },
    concurrency: { type: 'string' },
    timeout: { type: 'string' },
    'addr-wait': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    ...NATS_OPTIONS,
    name: { type: 'string' },
  })
  if (values.help) return void console.log(help)
  const network = networkOption(values)
  if (values.nats !== undefined) return distributed(values, ctx, network)
  if (!values.seed?.length) throw new UsageError('crawl needs at least one --seed host:port')
  const seeds = values.seed.map((s) => parseAddress(s, '--seed'))
  const maxNodes = intOption(values, 'max', DEFAULT_MAX_NODES)
  const concurrency = intOption(values, 'concurrency', DEFAULT_CRAWL_CONCURRENCY)
  if (concurrency < 1) throw new UsageError('--concurrency must be at least 1')
  const timeoutMs = timeoutOption(values)
  const addrWaitMs = intOption(values, 'addr-wait', DEFAULT_ADDR_WAIT_MS)
  // With --json, stdout carries only the document: the running log goes to stderr.
  const log = values.json ? (line) => console.error(line) : (line) => console.log(line)

  const t0 = performance.now()
  const nodes = []
  const failures = []
  const results = crawl({
    seeds,
    network,
    connector: new TcpConnector({ connectTimeoutMs: timeoutMs }),
    clock: new RealtimeClock(),
    maxNodes,
    concurrency,
    connectTimeoutMs: timeoutMs,
    addrWaitMs,
    signal: ctx.signal,
  })
  ctx.onExit(() => results.return?.())
  log(`crawling ${network.name} from ${seeds.map(formatPeerAddress).join(', ')} (at most ${maxNodes} nodes)`)
  for await (const item of results) {
    if (item.type === 'node') {
      nodes.push(item)
      log(`  ok    ${formatPeerAddress(item.address)}  ${printable(item.userAgent)}  height ${item.startHeight}  ${Math.round(item.latencyMs)} ms  (${item.newAddrs} new addresses)`)
    } else {
      failures.push(item)
      log(`  fail  ${formatPeerAddress(item.address)}  ${describeReason(item.reason, network)}`)
    }
  }
  const seconds = (performance.now() - t0) / 1000

  const rows = nodes.map(nodeRow)
  const summaryData = {
    versions: tally(rows.map((r) => r.version)),
    services: tally(rows.map((r) => r.serviceNames.join('|') || 'none')),
    userAgents: tally(rows.map((r) => r.userAgent)),
    latencyMs: spread(rows.map((r) => r.latencyMs)),
  }
  if (values.json) {
    const doc = {
      network: network.name,
      seeds: seeds.map(formatPeerAddress),
      visited: nodes.length + failures.length,
      reachable: nodes.length,
      failed: failures.length,
      seconds: Math.round(seconds * 1000) / 1000,
      nodes: rows,
      failures: failures.map((f) => ({ address: formatPeerAddress(f.address), reason: f.reason.kind, detail: describeReason(f.reason, network) })),
      summary: summaryData,
    }
    console.log(JSON.stringify(doc, null, 2))
    return outcome(nodes, failures)
  }

  const visited = nodes.length + failures.length
  console.log(`\nvisited ${visited} node${visited === 1 ? '' : 's'} in ${seconds.toFixed(1)} s: ${nodes.length} reachable, ${failures.length} failed\n`)
  if (rows.length > 0) {
    const body = rows.map((r) => [r.address, r.version, r.serviceNames.join('|') || 'none', r.startHeight, `${r.latencyMs} ms`, printable(r.userAgent)])
    console.log(table(['address', 'version', 'services', 'height', 'latency', 'user agent'], body))
    console.log('')
  }
  if (failures.length > 0) {
    console.log(table(['failed', 'reason'], failures.map((f) => [formatPeerAddress(f.address), describeReason(f.reason, network)])))
    console.log('')
  }
  const counts = (list) => list.map((e) => `${printable(String(e.value))} (${e.count})`).join(', ') || '-'
  const lat = summaryData.latencyMs
  console.log(`versions:     ${counts(summaryData.versions)}`)
  console.log(`services:     ${counts(summaryData.services)}`)
  console.log(`user agents:  ${counts(summaryData.userAgents)}`)
  console.log(`latency:      ${lat ? `min ${lat.min} ms, median ${lat.median} ms, max ${lat.max} ms` : '-'}`)
  return outcome(nodes, failures)
}

/** Exit 0 if some node answered; a crawl that reached nobody is a failure (after its report). */
function outcome(nodes, failures) {
  if (nodes.length === 0 && failures.length > 0) throw new CliError(`no node reachable (${failures.length} failed)`)
  return 0
}

/** A record of the crawl bucket as a report row. */
function recordRow(r) {
  const services = BigInt(r.services)
  return {
    address: r.address,
    version: r.version,
    services: r.services,
    serviceNames: serviceNames(services),
    userAgent: r.userAgent,
    startHeight: r.startHeight,
    latencyMs: r.latencyMs,
    addrsLearned: r.addrsLearned,
    visitedBy: r.visitedBy,
  }
}

/** crawl --nats: one crawler of a shared frontier (see the help). */
async function distributed(values, ctx, network) {
  const { adapterFailure, namesOption, natsOption, natsUrls, streamsOption } = await nats()
  const { CrawlFrontier, crawlWorker, frontierIdle } = await jetstreamPkg()
  natsUrls(values)
  const names = namesOption(values)
  const streams = streamsOption(values)
  const seeds = (values.seed ?? []).map((s) => parseAddress(s, '--seed'))
  const maxNodes = intOption(values, 'max', DEFAULT_MAX_NODES)
  const concurrency = intOption(values, 'concurrency', DEFAULT_CRAWL_CONCURRENCY)
  if (concurrency < 1) throw new UsageError('--concurrency must be at least 1')
  const timeoutMs = timeoutOption(values)
  const addrWaitMs = intOption(values, 'addr-wait', DEFAULT_ADDR_WAIT_MS)
  const name = values.name ?? `crawler-${process.pid}`
  const log = values.json ? (line) => console.error(line) : (line) => console.log(line)
  const nc = await natsOption(ctx, values, `bitp2p crawl ${name}`)
  const t0 = performance.now()
  const frontier = new CrawlFrontier({ nc, names, streams })
  let visitedHere = 0
  const worker = crawlWorker({
    nc,
    frontier,
    name,
    concurrency,
    visit: { connector: new TcpConnector({ connectTimeoutMs: timeoutMs }), network, clock: new RealtimeClock(), connectTimeoutMs: timeoutMs, addrWaitMs },
    signal: ctx.signal,
    onRecord: (r) => {
      visitedHere++
      if (r.state === 'node') log(`  ok    ${r.address}  ${printable(r.userAgent)}  height ${r.startHeight}  ${r.latencyMs} ms  (${r.addrsLearned} addresses)`)
      else log(`  fail  ${r.address}  ${r.reason}`)
    },
  })
  ctx.onExit(() => worker.stop())
  try {
    if (seeds.length > 0) {
      const r = await frontier.enqueue(seeds)
      log(`seeds: ${r.queued} added to ${names.crawlStream}, ${r.known} known already`)
    }
    log(`crawler ${name} on ${names.crawlStream} (${network.name}; at most ${maxNodes} visits here)`)
    worker.start()
    // Until the shared frontier is exhausted (nothing queued, nothing being visited) or --max visits here.
    for (;;) {
      const stopped = await Promise.race([worker.done.then(() => true), new Promise((r) => setTimeout(() => r(false), IDLE_CHECK_MS))])
      if (stopped || ctx.signal.aborted) break
      if (visitedHere >= maxNodes) break
      const idle = await frontierIdle(nc, names).catch(() => false)
      if (idle && worker.handling === 0) break
    }
    await worker.stop()
  } catch (e) {
    throw adapterFailure(e)
  }
  const seconds = (performance.now() - t0) / 1000
  const records = [...(await frontier.records()).values()]
  const nodes = records.filter((r) => r.state === 'node')
  const failures = records.filter((r) => r.state === 'failure')
  const queued = records.filter((r) => r.state === 'queued').length
  const rows = nodes.map(recordRow)
  const summaryData = {
    versions: tally(rows.map((r) => r.version)),
    services: tally(rows.map((r) => r.serviceNames.join('|') || 'none')),
    userAgents: tally(rows.map((r) => r.userAgent)),
    latencyMs: spread(rows.map((r) => r.latencyMs)),
  }
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          network: network.name,
          namespace: names.namespace,
          worker: name,
          seeds: seeds.map(formatPeerAddress),
          visitedHere,
          visited: nodes.length + failures.length,
          reachable: nodes.length,
          failed: failures.length,
          queued,
          seconds: Math.round(seconds * 1000) / 1000,
          nodes: rows,
          failures: failures.map((f) => ({ address: f.address, reason: f.reason, visitedBy: f.visitedBy })),
          summary: summaryData,
        },
        null,
        2,
      ),
    )
  } else {
    console.log(`\n${visitedHere} visited here; the shared crawl holds ${nodes.length} reachable, ${failures.length} failed, ${queued} queued (${seconds.toFixed(1)} s)\n`)
    if (rows.length > 0) console.log(table(['address', 'version', 'services', 'height', 'latency', 'user agent', 'by'], rows.map((r) => [r.address, r.version, r.serviceNames.join('|') || 'none', r.startHeight, `${r.latencyMs} ms`, printable(r.userAgent), r.visitedBy])))
  }
  return 0
}
