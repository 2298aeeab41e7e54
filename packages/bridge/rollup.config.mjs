import { config } from '../../rollup.shared.mjs'

// index: the bridge (Node). bin: the bitp2p-bridge command, a thin entry over
// the same modules (preserved, so nothing is bundled twice), given its shebang.
const [js, ...rest] = config(new URL('./', import.meta.url), { entries: { bin: 'src/bin.ts' } })
js.output = js.output.map((o) => ({ ...o, banner: (chunk) => (chunk.fileName === 'bin.js' ? '#!/usr/bin/env node' : '') }))
export default [js, ...rest.filter((c) => c.input !== 'src/bin.ts')]
