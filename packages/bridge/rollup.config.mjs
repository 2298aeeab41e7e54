import { config } from '../../rollup.shared.mjs'

// index: the bridge (Node). bin: the bitp2p-bridge command, a thin entry over
// the same modules (preserved, so nothing is bundled twice), given its shebang.
const [js, ...rest] = config(new URL('./', import.meta.url), { entries: { bin: 'src/bin.ts' } })
js.output = js.output.map((o) => ({ ...o, banner: (chunk) => (chunk.fileName === 'bin.js' ? '#!/usr/bin/env node' : '') }))
// Declarations for the library entry only: bin is a command, not an API.
export default [js, ...rest.map((c) => ({ ...c, input: { index: c.input.index } }))]
