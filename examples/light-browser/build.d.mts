// Types of build.mjs, for the TypeScript tests that import it.

/** Build examples/light-browser/dist/main.js (minified): its path, the bundler's warnings and the sizes. */
export declare function buildExample(): Promise<{ readonly file: string; readonly warnings: readonly string[]; readonly bytes: number; readonly minifiedBytes: number; readonly gzipBytes: number }>
