import { config } from '../../rollup.shared.mjs'
export default config(new URL('./', import.meta.url), { entries: { node: 'src/node.ts', indexeddb: 'src/indexeddb.ts' } })
