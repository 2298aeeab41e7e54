/**
 * The consumer app's smoke as a Cloudflare-style worker (run in workerd):
 * loads every entry point a worker can (./worker-entries.ts, written by
 * the consumer job: the browser ones and the worker-only ones), then runs
 * smoke-core.ts over connect() of cloudflare:sockets against the
 * BITP2P_CONSUMER_PEER binding and answers with its report as JSON (or
 * `{ error }` with status 500).
 */
import { CloudflareConnector } from '@bitp2p/transport-cloudflare'
import { WORKER_ENTRY_POINTS } from './worker-entries.ts'
import { describeError, runSmoke } from './smoke-core.ts'

/** The worker's text bindings. */
interface Env {
  readonly BITP2P_CONSUMER_PEER?: string
  readonly BITP2P_CONSUMER_TIMEOUT_MS?: string
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    try {
      const timeoutMs = Number(env.BITP2P_CONSUMER_TIMEOUT_MS)
      const report = await runSmoke({
        runtime: 'workerd',
        connector: new CloudflareConnector({ connectTimeoutMs: timeoutMs }),
        peer: env.BITP2P_CONSUMER_PEER ?? '',
        timeoutMs,
        entryPoints: WORKER_ENTRY_POINTS,
      })
      return Response.json(report)
    } catch (e) {
      return Response.json({ error: describeError(e) }, { status: 500 })
    }
  },
}
