/**
 * @bitp2p/session/node: Node/Deno/Bun-only extras (file system access).
 * Kept out of the main entry so a browser bundle never sees node:fs.
 * @module @bitp2p/session/node
 */
export * from './chain/file-store.node.js'
export * from './pool/dns.node.js'
