import { config } from '../../rollup.shared.mjs'
// entries: the subpaths of package.json "exports" (the main entry is src/index.ts).
const entries = Object.fromEntries(['chain', 'peers', 'limits'].map((e) => [e, `src/${e}.ts`]))
export default config(new URL('./', import.meta.url), { entries })
