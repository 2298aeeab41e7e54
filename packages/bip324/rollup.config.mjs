import { config } from '../../rollup.shared.mjs'
// nodeVariant: dist/node-variant/ takes src/*.node.ts (node:crypto's ChaCha20-Poly1305), selected by the "node" export condition.
export default config(new URL('./', import.meta.url), { nodeVariant: true })
