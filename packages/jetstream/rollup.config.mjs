import { config } from '../../rollup.shared.mjs'
export default config(new URL('./', import.meta.url))
