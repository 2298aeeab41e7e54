// Types of serve.mjs, for the TypeScript tests that import it.
import type { Server } from 'node:http'

/** Serve `root` (default examples/browser/) on 127.0.0.1:`port` (0: a free port). */
export declare function startServer(port?: number, root?: string): Promise<{ readonly server: Server; readonly url: string }>
