import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'
import { noteAbsent } from '../../test/harness/requirements.js'
import { vitestTimeouts } from '../../test/harness/timing.js'

// One line per missing requirement of the workerd tests (skipped locally, failing in CI).
noteAbsent('@bitp2p/transport-cloudflare', ['bcoin', 'workerd'])

export default defineConfig({
  resolve: {
    alias: {
      ...sourceAliases,
      // Node has no `cloudflare:sockets`: the unit tests load a stand-in whose
      // connect() throws, and pass their own ConnectFunction. The workerd
      // tests bundle the real import, which workerd resolves.
      'cloudflare:sockets': new URL('./test/cloudflare-sockets.stub.ts', import.meta.url).pathname,
    },
  },
  test: { environment: 'node', include: ['test/**/*.test.ts'], ...vitestTimeouts },
})
