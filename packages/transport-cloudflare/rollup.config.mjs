import { config } from '../../rollup.shared.mjs'
// `cloudflare:sockets` is the worker runtime's own module: never bundled.
export default config(new URL('./', import.meta.url), { external: ['cloudflare:sockets'] })
