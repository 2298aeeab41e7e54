/**
 * What a browser bundle of the SDK may cost and contain, shared by the
 * bundle-size test (packages/transport-ws/test/bundle-size.test.ts: rollup
 * over the workspace's dist files) and the consumer job (test/consumer:
 * esbuild and Vite over the packed tarballs, installed into a fresh app).
 *
 * Sizes are what a page loads at once: each eager chunk (the entry and the
 * chunks it imports statically) minified and gzipped at level 9, summed.
 * Lazy chunks (the v2 transport, which `Peer` imports only when a
 * connection speaks v2) are not counted.
 *
 * No vitest import here: plain functions and constants.
 */
import { parseAst } from 'rollup/parseAst'

/** Imports of one bundle scenario: package specifier -> the names the app uses. */
export type ImportSet = Readonly<Record<string, readonly string[]>>

/** What a browser light client imports (what examples/browser/main.ts uses). */
export const LIGHT_CLIENT: ImportSet = {
  '@bitp2p/transport-ws': ['WsConnector'],
  '@bitp2p/session': ['describeDisconnect', 'Peer'],
  '@bitp2p/session/chain': ['HeaderTree'],
  '@bitp2p/wire': ['blockHash', 'hashToHex', 'InvType', 'networkByName', 'Services', 'txid', 'txVsize'],
}
/**
 * Gzip budget of a light client's bundle (v1 only: the v2 transport is its
 * own entry). 40 KiB until issue 17: the two-compression frame hasher and
 * the decoder's in-place paths (framing 4-5x faster in the browser build)
 * and the one host:port parser brought it to 40.6 KiB, and the budget to
 * 42. Issue 17's second round (per-connection work: settings picked by
 * name, the v1 codec's in-place sink and one-array frames, the
 * known-command table; the header tree's staging) brought it to 42.0 KiB;
 * 44 KiB keeps about 2 KiB of headroom.
 */
export const LIGHT_CLIENT_GZIP_BUDGET = 44 * 1024

/** The light client with the v2 transport. */
export const V2_LIGHT_CLIENT: ImportSet = { ...LIGHT_CLIENT, '@bitp2p/session/v2': ['v2'] }
/** Gzip budget of the same light client speaking BIP324 v2 (`v2` from `@bitp2p/session/v2` added). */
export const V2_LIGHT_CLIENT_GZIP_BUDGET = 80 * 1024

/** One helper alone: what tree-shaking through the preserved modules must reduce an import to. */
export const ONE_HELPER: ImportSet = { '@bitp2p/wire': ['hashToHex'] }
/** Gzip budget of ONE_HELPER's bundle (199 B from the sources; 10.7 KB when each package was one flattened file). */
export const ONE_HELPER_GZIP_BUDGET = 2 * 1024

/** `export { a, b } from 'pkg'` lines: an entry module for a library-style bundle (exports kept). */
export function reexportModule(imports: ImportSet): string {
  return Object.entries(imports)
    .map(([spec, names]) => `export { ${names.join(', ')} } from '${spec}'`)
    .join('\n')
}

/**
 * An app-style entry module (an app bundler drops the entry's exports): the
 * names are imported and handed to `globalThis`, so exactly they and what
 * they reach are kept.
 */
export function retainModule(imports: ImportSet): string {
  const lines: string[] = []
  const all: string[] = []
  Object.entries(imports).forEach(([spec, names], i) => {
    lines.push(`import { ${names.map((n) => `${n} as m${i}_${n}`).join(', ')} } from '${spec}'`)
    for (const n of names) all.push(`${JSON.stringify(`${spec}#${n}`)}: m${i}_${n}`)
  })
  lines.push(`Object.assign(globalThis, { __bitp2p: { ${all.join(', ')} } })`)
  return lines.join('\n') + '\n'
}

/** Node-only globals a browser bundle must not touch. */
export const NODE_GLOBALS: ReadonlySet<string> = new Set(['process', 'Buffer', 'global', 'require', '__dirname', '__filename', 'module'])

type AstNode = { type: string; [key: string]: unknown }

/** Walks an ESTree AST, calling `f(node, parent, key)` for every node. */
function walk(node: unknown, f: (n: AstNode, parent: AstNode | undefined, key: string) => void, parent?: AstNode, key = ''): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, f, parent, key)
    return
  }
  if (node === null || typeof node !== 'object' || typeof (node as AstNode).type !== 'string') return
  const n = node as AstNode
  f(n, parent, key)
  for (const [k, v] of Object.entries(n)) if (k !== 'type') walk(v, f, n, k)
}

/**
 * Names of NODE_GLOBALS that `code` references as variables: identifiers
 * anywhere but as a non-computed member name or property/method key
 * (noble's hashes have a method named `process`). Run it on minified code,
 * where locals are renamed, so what remains is a global.
 */
export function nodeGlobalReferences(code: string): string[] {
  const found = new Set<string>()
  walk(parseAst(code), (n, parent, key) => {
    if (n.type !== 'Identifier' || !NODE_GLOBALS.has(n.name as string)) return
    const asName =
      parent !== undefined &&
      parent.computed !== true &&
      ((parent.type === 'MemberExpression' && key === 'property') ||
        ((parent.type === 'Property' || parent.type === 'MethodDefinition' || parent.type === 'PropertyDefinition') && key === 'key'))
    if (!asName) found.add(n.name as string)
  })
  return [...found].sort()
}

/**
 * Every module specifier `code` imports or re-exports: static imports,
 * `export ... from`, and dynamic `import()` with a literal (a non-literal
 * dynamic import is reported as `<dynamic>`). For a bundle, anything but
 * its own relative chunks is a dependency left outside it.
 */
export function importedSpecifiers(code: string): string[] {
  const found: string[] = []
  walk(parseAst(code), (n) => {
    if (n.type === 'ImportDeclaration' || n.type === 'ExportAllDeclaration' || (n.type === 'ExportNamedDeclaration' && n.source != null)) {
      found.push(String((n.source as AstNode).value))
    } else if (n.type === 'ImportExpression') {
      const s = n.source as AstNode
      found.push(s.type === 'Literal' && typeof s.value === 'string' ? s.value : '<dynamic>')
    }
  })
  return found
}
