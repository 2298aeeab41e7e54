import { config } from '../../rollup.shared.mjs'
// entries: the subpaths of package.json "exports" (the main entry is src/index.ts).
export default config(new URL('./', import.meta.url), { entries: { limits: 'src/limits.ts' } })
