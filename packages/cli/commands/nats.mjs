// Shared pieces of the NATS JetStream commands (index, index-worker, crawl --nats).
import { connectNats, isJetStreamAdapterError, jetStreamNames, natsServers, DEFAULT_NAMESPACE } from '@bitp2p/jetstream'
import { CliError, intOption, UsageError } from './common.mjs'

/** The options every NATS command takes, in node:util parseArgs form. */
export const NATS_OPTIONS = {
  nats: { type: 'string', multiple: true },
  namespace: { type: 'string', default: DEFAULT_NAMESPACE },
  replicas: { type: 'string' },
}

/** The help lines of NATS_OPTIONS. */
export const NATS_OPTIONS_HELP = `  --nats <url>          NATS server, nats://host:port (repeat, or comma-separate, for a cluster; required)
  --namespace <ns>      names of the streams, subjects and buckets (default ${DEFAULT_NAMESPACE}): one per deployment
  --replicas <n>        replicas of the streams and buckets this process creates (default 1; 3 in a 3-node cluster)`

/** The names for --namespace; a bad one is a usage error. */
export function namesOption(values) {
  try {
    return jetStreamNames(values.namespace)
  } catch (e) {
    throw new UsageError(`--namespace: ${e.message}`)
  }
}

/** Stream options from --replicas. */
export function streamsOption(values) {
  const replicas = intOption(values, 'replicas', 1)
  if (replicas < 1 || replicas > 5) throw new UsageError(`--replicas must be 1 to 5, got ${replicas}`)
  return { replicas }
}

/** The server URLs of --nats; missing or malformed is a usage error. */
export function natsUrls(values) {
  if (!values.nats?.length) throw new UsageError('--nats nats://host:port is required')
  try {
    return natsServers(values.nats)
  } catch (e) {
    throw new UsageError(`--nats: ${e.message}`)
  }
}

/** Connect to --nats (closed when the command ends); a bad URL is a usage error, no answer a failure. */
export async function natsOption(ctx, values, name) {
  const urls = natsUrls(values)
  let nc
  try {
    nc = await connectNats(urls, { name })
  } catch (e) {
    if (isJetStreamAdapterError(e) && e.code === 'bad-option') throw new UsageError(`--nats: ${e.message}`)
    throw new CliError(isJetStreamAdapterError(e) ? e.message : String(e))
  }
  ctx.onExit(() => nc.close())
  return nc
}

/** An adapter error as a CliError (exit 1) with its message; anything else unchanged. */
export function adapterFailure(e) {
  return isJetStreamAdapterError(e) ? new CliError(e.message) : e
}
