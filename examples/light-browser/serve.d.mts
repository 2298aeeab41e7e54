// Types of serve.mjs, for the TypeScript tests that import it.
import type { Server } from 'node:http'

/** Serve examples/light-browser/ on 127.0.0.1:`port` (0: a free port). */
export declare function startServer(port?: number): Promise<{ readonly server: Server; readonly url: string }>
