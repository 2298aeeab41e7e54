/**
 * @bitp2p/session/node: Node/Deno/Bun-only extras (file system access).
 * Kept out of the main entry so a browser bundle never sees node:fs.
 * @module @bitp2p/session/node
 */
export * from './driver/file-store.node.js'
export * from './driver/dns.node.js'
