import { config } from '../../rollup.shared.mjs'
// nodeVariant: dist/node-variant/ takes src/*.node.ts (node:crypto hashing), selected by the "node" export condition.
// entries: the subpaths of package.json "exports" (the main entry is src/index.ts).
const entries = Object.fromEntries(['messages', 'codecs', 'hash', 'filters', 'consensus', 'limits'].map((e) => [e, `src/${e}.ts`]))
export default config(new URL('./', import.meta.url), { nodeVariant: true, entries })
