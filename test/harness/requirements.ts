/// <reference types="node" />
/**
 * What some tests need from the machine beyond `npm ci`: Chromium (the
 * browser tests), Deno and Bun (the runtime tests), workerd (the edge
 * worker tests), a bcoin node and a
 * btcd node (the interop tests: bcoin from npm, btcd's binaries from
 * ../shared/tools/btcd), and nats-server (the JetStream tests: Debian's
 * package, which .ci/run installs).
 *
 * Locally, a test whose requirement is absent is skipped, its title saying
 * why, and the package's vitest config prints one line per absent
 * requirement (`noteAbsent`). In CI (CI=true) an absent requirement is a
 * failure: the test is not skipped but fails at once with the reason, so a
 * CI run can never pass with its browser, runtime or interop tests
 * silently left out.
 *
 * Tests use them through test/harness/needs.ts; configs through noteAbsent.
 * No vitest import here, so a vitest config can load this module.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { btcdAbsence } from './spawn-btcd.mjs'
import { scaled } from './timing.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** True when running in CI: CI is set to anything but '', '0' or 'false' (GitHub, GitLab and .ci/run set 'true'). */
export const IN_CI: boolean = ((v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false')(process.env.CI)

/**
 * The Chromium binary the browser tests launch: CHROMIUM_PATH, else Debian's
 * real binary (its /usr/bin/chromium wrapper adds stderr noise), else the
 * wrapper (also the path named when neither exists).
 */
export const CHROMIUM_PATH: string =
  process.env.CHROMIUM_PATH ?? ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p)) ?? '/usr/bin/chromium'

/** A binary installed by `npm ci` in the root node_modules/.bin. */
const npmBin = (name: string): string => `${ROOT}node_modules/.bin/${name}`

/** Names of the requirements. */
export type RequirementName = 'chromium' | 'deno' | 'bun' | 'workerd' | 'bcoin' | 'btcd' | 'nats-server'

interface Requirement {
  /** What it is, for messages ("Chromium"). */
  readonly label: string
  /** The tests that need it, for the config's note ("the browser tests"). */
  readonly users: string
  /** Undefined when present; otherwise what is missing and how to get it. */
  probe(): string | undefined
}

/** A runtime binary that must exist and answer --version (a stub left by a denied install script does not). */
function runtimeBinary(path: string, install: string): () => string | undefined {
  return () => {
    if (!existsSync(path)) return `${path} not found (${install})`
    const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: scaled(30_000) })
    return r.status === 0 ? undefined : `${path} --version failed (${install}): ${(r.error?.message ?? r.stderr ?? '').trim().split('\n')[0]}`
  }
}

/** Every requirement a test may name. */
export const REQUIREMENTS: Readonly<Record<RequirementName, Requirement>> = {
  chromium: {
    label: 'Chromium',
    users: 'the browser tests',
    probe: () => (existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`),
  },
  deno: { label: 'Deno', users: 'the Deno tests', probe: runtimeBinary(npmBin('deno'), 'npm ci installs it') },
  bun: { label: 'Bun', users: 'the Bun tests', probe: runtimeBinary(npmBin('bun'), 'npm ci installs it') },
  workerd: { label: 'workerd', users: 'the workerd (edge worker) tests', probe: runtimeBinary(npmBin('workerd'), 'npm ci installs it') },
  bcoin: {
    label: 'bcoin',
    users: 'the bcoin interop tests',
    probe: () => {
      try {
        createRequire(import.meta.url).resolve('bcoin')
        return undefined
      } catch {
        return 'the bcoin package is not installed (npm ci installs it)'
      }
    },
  },
  btcd: {
    label: 'btcd',
    users: 'the btcd interop tests',
    // The binaries of ../shared/tools/btcd (static Linux x86-64 builds of btcd 0.25.0): present, executable, answering --version.
    probe: () => btcdAbsence(scaled(30_000)),
  },
  'nats-server': {
    label: 'nats-server',
    users: 'the JetStream tests',
    // Debian's package (2.9): on PATH, answering --version.
    probe: () => {
      const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8', timeout: scaled(30_000) })
      if (r.error !== undefined || r.status !== 0) return `nats-server not found or not working (apt-get install nats-server): ${(r.error?.message ?? r.stderr ?? '').trim().split('\n')[0]}`
      return undefined
    },
  },
}

const probed = new Map<RequirementName, string | undefined>()

/** Why `name` is absent, or undefined when it is present (probed once per process). */
export function absence(name: RequirementName): string | undefined {
  if (!probed.has(name)) probed.set(name, REQUIREMENTS[name].probe())
  return probed.get(name)
}

/** The reasons of the absent ones among `names`, joined; undefined when all are present. */
export function reasons(names: readonly RequirementName[]): string | undefined {
  const missing = names.flatMap((n) => {
    const why = absence(n)
    return why === undefined ? [] : [`${REQUIREMENTS[n].label}: ${why}`]
  })
  return missing.length === 0 ? undefined : missing.join('; ')
}

/** Where noteAbsent remembers what it printed in this process. */
const NOTED = Symbol.for('bitp2p.requirements.noted')

/**
 * For a package's vitest config: one line per requirement among `names`
 * that is absent, naming the tests it leaves out; nothing when all are
 * present. Returns the absent names.
 */
export function noteAbsent(pkg: string, names: readonly RequirementName[]): RequirementName[] {
  const absent = names.filter((n) => absence(n) !== undefined)
  // vitest may evaluate a config more than once in one process (once per
  // inline project): print each note once per process.
  const g = globalThis as { [NOTED]?: Set<string> }
  const noted = (g[NOTED] ??= new Set())
  for (const n of absent) {
    const r = REQUIREMENTS[n]
    if (noted.has(`${pkg} ${n}`)) continue
    noted.add(`${pkg} ${n}`)
    console.log(`[${pkg}] ${IN_CI ? 'FAILING' : 'skipping'} ${r.users}: ${absence(n)}${IN_CI ? ' (CI=true: a missing requirement fails the run)' : ''}`)
  }
  return absent
}
