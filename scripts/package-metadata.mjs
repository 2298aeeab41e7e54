// Writes the publishing metadata every package shares (repository, engines,
// publishConfig, ./package.json export, LICENSE copy) so the packages can't
// drift apart. Run after adding a package: node scripts/package-metadata.mjs
// test/packages.test.ts (run by the suite) fails when a package is out of date.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = new URL('..', import.meta.url).pathname
export const REPOSITORY_URL = 'git+https://github.com/bitp2p/bitp2p.git'
export const HOMEPAGE = 'https://github.com/bitp2p/bitp2p#readme'
export const BUGS = 'https://github.com/bitp2p/bitp2p/issues'
/** Node floor: @noble/hashes 2 needs 20.19 (require(esm) and Uint8Array helpers). */
export const NODE_ENGINES = '>=20.19'
const KEYWORDS = ['bitcoin', 'p2p', 'peer-to-peer', 'sans-io', 'typescript']

/** Published package folders (each has a package.json without "private"). */
export function publishedPackages() {
  return readdirSync(join(ROOT, 'packages'))
    .map((dir) => ({ dir: join(ROOT, 'packages', dir), folder: dir }))
    .map((p) => ({ ...p, json: JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) }))
    .filter((p) => p.json.private !== true)
}

/** Applications (the CLI) pin our packages as plain dependencies instead of peers. */
export function isApplication(p) {
  return p.name === 'bitp2p'
}

/** The package.json `p` should have (a new object; key order kept readable). */
export function withMetadata(p, folder) {
  const out = {}
  const managed = new Set(['author', 'repository', 'homepage', 'bugs', 'keywords', 'engines', 'publishConfig'])
  for (const [k, v] of Object.entries(p)) {
    if (!managed.has(k)) out[k] = v
    if (k === 'license') {
      out.author = 'The bitp2p developers'
      out.repository = { type: 'git', url: REPOSITORY_URL, directory: `packages/${folder}` }
      out.homepage = HOMEPAGE
      out.bugs = { url: BUGS }
      out.keywords = [...new Set([...KEYWORDS, ...(p.keywords ?? [])])]
      out.engines = { node: NODE_ENGINES }
      out.publishConfig = { access: 'public', provenance: true }
    }
  }
  for (const k of managed) if (!(k in out)) throw new Error(`${p.name}: no "license" field to anchor the metadata`)
  // Our own packages are peers: npm then installs one copy of each (or refuses a
  // mix of versions) so `instanceof PeerError` holds across packages. The exact
  // version also sits in devDependencies so the workspace builds against it.
  // The CLI is an application, the end of the chain: it depends on exact versions.
  const internal = isApplication(p) ? [] : Object.entries(p.dependencies ?? {}).filter(([name]) => name.startsWith('@bitp2p/'))
  if (internal.length > 0) {
    out.dependencies = Object.fromEntries(Object.entries(p.dependencies).filter(([name]) => !name.startsWith('@bitp2p/')))
    out.peerDependencies = { ...p.peerDependencies, ...Object.fromEntries(internal.map(([name, v]) => [name, `^${v.replace(/^[\^~]/, '')}`])) }
    out.devDependencies = { ...p.devDependencies, ...Object.fromEntries(internal.map(([name, v]) => [name, v.replace(/^[\^~]/, '')])) }
  }
  out.exports = { ...out.exports, './package.json': './package.json' }
  out.files = [...new Set([...(out.files ?? []), 'LICENSE', 'README.md'])]
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { dir, folder, json } of publishedPackages()) {
    // Earlier runs' keys are rebuilt, not duplicated.
    const base = { ...json }
    for (const k of ['author', 'repository', 'homepage', 'bugs', 'engines', 'publishConfig']) delete base[k]
    base.keywords = (json.keywords ?? []).filter((k) => !KEYWORDS.includes(k))
    if (base.keywords.length === 0) delete base.keywords
    writeFileSync(join(dir, 'package.json'), JSON.stringify(withMetadata(base, folder), null, 2) + '\n')
    copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'))
    console.log(`${json.name}: metadata written`)
  }
}
