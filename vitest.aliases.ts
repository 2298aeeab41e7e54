// Tests run against the sibling packages' sources, so a change in wire or
// session is seen without a rebuild. The built bundles are exercised by the
// runtime smoke tests and the browser bundle check.
const src = (pkg: string) => new URL(`./packages/${pkg}/src/index.ts`, import.meta.url).pathname

/** resolve.alias for every package's vitest config. */
export const sourceAliases: Record<string, string> = {
  // Subpath entries first: '@bitp2p/session' would match them as a prefix.
  '@bitp2p/session/v2': new URL('./packages/session/src/v2.ts', import.meta.url).pathname,
  '@bitp2p/session/node': new URL('./packages/session/src/node.ts', import.meta.url).pathname,
  '@bitp2p/light/node': new URL('./packages/light/src/node.ts', import.meta.url).pathname,
  '@bitp2p/light/indexeddb': new URL('./packages/light/src/indexeddb.ts', import.meta.url).pathname,
  '@bitp2p/wire': src('wire'),
  '@bitp2p/bip324': src('bip324'),
  '@bitp2p/session': src('session'),
  '@bitp2p/transport-mock': src('transport-mock'),
  '@bitp2p/transport-tcp': src('transport-tcp'),
  '@bitp2p/transport-cloudflare': src('transport-cloudflare'),
  '@bitp2p/light': src('light'),
  '@bitp2p/transport-ws': src('transport-ws'),
  '@bitp2p/bridge': src('bridge'),
  '@bitp2p/jetstream': src('jetstream'),
}
