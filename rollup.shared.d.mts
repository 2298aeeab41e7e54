// Types of rollup.shared.mjs, for the TypeScript files that import it (vitest configs).
import type { Plugin, RollupOptions } from 'rollup'

/** The resolver of the Node variant: `./x.js` -> `./x.node.ts` where that file exists (a rollup and vite plugin). */
export function nodeVariantPlugin(): Plugin

/** The rollup config of one package; see rollup.shared.mjs. */
export function config(pkgDir: URL, opts?: { nodeVariant?: boolean; entries?: Record<string, string> }): RollupOptions[]
