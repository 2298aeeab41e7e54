// Types of build.mjs, for the TypeScript tests that import it.
import type { Plugin } from 'rollup'

/** Export conditions tried, in order, for a browser bundle. */
export declare const BROWSER_CONDITIONS: readonly string[]
/** Packages whose "import" entry wraps CommonJS, mapped to the ESM build they ship. */
export declare const ESM_BUILDS: Readonly<Record<string, string>>
/** The file a bare specifier means in a browser bundle, or undefined. */
export declare function resolveBrowserEntry(source: string, fromDir: string): string | undefined
/** A rollup plugin: bare imports to their browser ESM files; node:* stays an external import. */
export declare function browserResolve(): Plugin
/** A rollup plugin that strips TypeScript with esbuild. */
export declare function stripTypes(): Plugin
/** A bundled module's rendered (unminified) size. */
export interface ModuleSize {
  readonly id: string
  readonly bytes: number
}
/** A chunk loaded on demand. */
export interface LazyChunk {
  readonly fileName: string
  readonly code: string
  readonly imports: readonly string[]
  readonly modules: readonly ModuleSize[]
}
/** Bundle a file, or an entry given as text, for the browser (`inline`: lazy chunks inlined, one file). */
export declare function bundleForBrowser(
  input: string | { readonly id: string; readonly code: string },
  options?: { readonly inline?: boolean },
): Promise<{
  /** What the page loads at once: the entry chunk and the chunks it imports statically (one item with `inline`). */
  readonly code: readonly string[]
  /** Imports left outside the bundle (bare or node:*); empty for a self-contained bundle. */
  readonly imports: readonly string[]
  /** Their modules, largest first. */
  readonly modules: readonly ModuleSize[]
  /** Chunks the entry loads on demand (the v2 transport). */
  readonly lazy: readonly LazyChunk[]
  readonly warnings: readonly string[]
}>
/** Minified code and the sizes a page would ship (several chunks: each minified and gzipped on its own, sizes summed). */
export declare function shippedSizes(code: string): Promise<{ readonly minified: string; readonly bytes: number; readonly minifiedBytes: number; readonly gzipBytes: number }>
export declare function shippedSizes(code: readonly string[]): Promise<{ readonly minified: readonly string[]; readonly bytes: number; readonly minifiedBytes: number; readonly gzipBytes: number }>
/** Build examples/browser/dist/main.js. */
export declare function buildExample(): Promise<{ readonly file: string; readonly warnings: readonly string[]; readonly bytes: number; readonly minifiedBytes: number; readonly gzipBytes: number }>
