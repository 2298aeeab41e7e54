/**
 * connectNats: a NATS connection for the adapter's long-running
 * processes (producers, workers, crawlers): every server of a cluster
 * given, so the client fails over; reconnecting for as long as it takes
 * (a cluster node restarting must not end a worker).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { JetStreamAdapterError } from './errors.js'

/** Default wait for the first connection. */
export const DEFAULT_NATS_CONNECT_TIMEOUT_MS = 10_000
/** Wait between reconnect attempts to one server. */
export const NATS_RECONNECT_WAIT_MS = 500

/** Parse "nats://host:port" (or host:port) server URLs, comma-separated or as a list; throws 'bad-option'. */
export function natsServers(spec: string | readonly string[]): string[] {
  const list = (typeof spec === 'string' ? [spec] : spec).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')
  if (list.length === 0) throw new JetStreamAdapterError('bad-option', 'no NATS server given (nats://host:port)', { option: 'servers' })
  return list.map((s) => {
    const url = /^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`
    let u: URL
    try {
      u = new URL(url)
    } catch {
      throw new JetStreamAdapterError('bad-option', `not a NATS server URL: ${JSON.stringify(s)} (nats://host:port)`, { option: 'servers', value: s })
    }
    if (u.protocol !== 'nats:' && u.protocol !== 'tls:') throw new JetStreamAdapterError('bad-option', `a NATS server URL is nats://host:port, got ${JSON.stringify(s)}`, { option: 'servers', value: s })
    if (u.hostname === '') throw new JetStreamAdapterError('bad-option', `no host in ${JSON.stringify(s)}`, { option: 'servers', value: s })
    return url
  })
}

/** Connect to `servers` (see natsServers) as `name`; rejects with 'connection-closed' naming the servers when none answers. */
export async function connectNats(servers: string | readonly string[], opts: { readonly name?: string; readonly timeoutMs?: number } = {}): Promise<NatsConnection> {
  const list = natsServers(servers)
  try {
    return await connect({
      servers: list,
      name: opts.name ?? 'bitp2p',
      timeout: opts.timeoutMs ?? DEFAULT_NATS_CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: -1,
      reconnectTimeWait: NATS_RECONNECT_WAIT_MS,
      // Clients learn only the servers given (the test cluster advertises none either).
      ignoreClusterUpdates: true,
    })
  } catch (e) {
    throw new JetStreamAdapterError('connection-closed', `cannot connect to NATS at ${list.join(', ')}: ${(e as Error)?.message ?? e}`, { servers: list }, e)
  }
}
