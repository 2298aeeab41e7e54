/**
 * What `cloudflare:sockets` resolves to under vitest in Node (see
 * vitest.config.ts): a connect() that fails as it would outside a worker.
 */
export function connect(): never {
  throw new Error('cloudflare:sockets is only available in a Cloudflare-style worker (workerd)')
}
