// What a user sees when the SDK modules the CLI imports are not there: in a
// checkout that was never built, and in an install that lost a package.
// One line naming what to do, exit 1, never a module-resolution stack.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const CLI_DIR = fileURLToPath(new URL('../', import.meta.url))
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url))
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A copy of the CLI in a fresh tree; with `unbuilt`, our packages sit beside it with their package.json but no dist/. */
function tree(unbuilt: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'bitp2p-cli-'))
  dirs.push(root)
  const cli = join(root, 'packages', 'cli')
  mkdirSync(cli, { recursive: true })
  for (const entry of ['bitp2p.mjs', 'package.json', 'commands', 'view', 'demo']) cpSync(join(CLI_DIR, entry), join(cli, entry), { recursive: true })
  if (unbuilt) {
    mkdirSync(join(root, 'node_modules', '@bitp2p'), { recursive: true })
    for (const dir of readdirSync(PACKAGES)) {
      const pj = JSON.parse(readFileSync(join(PACKAGES, dir, 'package.json'), 'utf8')) as { name: string }
      if (!pj.name.startsWith('@bitp2p/')) continue
      mkdirSync(join(root, 'packages', dir))
      writeFileSync(join(root, 'packages', dir, 'package.json'), JSON.stringify(pj))
      symlinkSync(join(root, 'packages', dir), join(root, 'node_modules', pj.name))
    }
  }
  return join(cli, 'bitp2p.mjs')
}

function run(bin: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('bitp2p without its SDK modules', () => {
  it('in a checkout never built: one line saying to run the build, exit 1', () => {
    const r = run(tree(true), ['headers', '--peer', '127.0.0.1:1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^bitp2p: the bitp2p packages are not built \(\S+[\\/](?:packages|@bitp2p)[\\/][\w-]+[\\/]dist[\\/]\S+ is missing\): run 'npm run build' at the repository root first\n$/)
  })

  it('in an install missing a package: one line naming it, exit 1', () => {
    const r = run(tree(false), ['mempool', '--peer', '127.0.0.1:1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^bitp2p: a module the command needs is missing \(@bitp2p\/[\w-]+\): reinstall bitp2p \('npm install bitp2p'\)\n$/)
  })

  it('--version and --help still work', () => {
    const bin = tree(true)
    const version = JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8')).version as string
    expect(run(bin, ['--version'])).toEqual({ code: 0, stdout: `bitp2p ${version}\n`, stderr: '' })
    const help = run(bin, ['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^usage: bitp2p <command> \[options\]/)
  })
})
