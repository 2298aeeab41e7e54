// The consumer app's Vite build: one browser entry (BITP2P_CONSUMER_ENTRY)
// built as a web app builds it (Vite's defaults: minified, the lazy v2
// transport split into its own chunk), into BITP2P_CONSUMER_OUT with a
// manifest that lists each chunk's static and dynamic imports. logLevel
// 'warn': a successful build prints nothing, so any output is a warning.
const entry = process.env.BITP2P_CONSUMER_ENTRY
const outDir = process.env.BITP2P_CONSUMER_OUT
if (!entry || !outDir) throw new Error('set BITP2P_CONSUMER_ENTRY and BITP2P_CONSUMER_OUT')

export default {
  logLevel: 'warn',
  clearScreen: false,
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    manifest: true,
    modulePreload: false,
    // Sizes are held by the consumer job's gzip budgets, not by Vite's 500 kB notice.
    chunkSizeWarningLimit: 10_000,
    rollupOptions: { input: { main: entry } },
  },
}
