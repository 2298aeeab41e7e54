/**
 * The speed figures the docs state come from the benchmarks' latest results,
 * never from a hand: the root README's "Performance" table and "Set up"
 * timings, the "Last run" parts of bench/README.md and transport-mock's
 * throughput table are rendered by scripts/perf-table.mjs from the results
 * files the benches write, each figure with the date and load of its run.
 * bench/RESULTS.md, the one table of every bench's run and every ratio it
 * recorded, is rendered whole from the same files. After a bench run,
 * `node scripts/perf-table.mjs --write` updates them all (`npm run bench`
 * ends with it).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script without types
import { NOT_IN_TABLE, RESULTS_MD, RESULT_FILES, ROOT, extractBlock, loads, readResults, renderBlocks, renderResultsMd } from '../../../scripts/perf-table.mjs'

interface Block {
  file: string
  name: string
  content: string
}
type Results = Record<string, any>

const HINT = 'run `node scripts/perf-table.mjs --write` (the benchmarks\' results changed, or the doc was edited by hand)'
const doc = (file: string): string => readFileSync(join(ROOT, file), 'utf8')
/** The results as on disk, except what `change` alters in the file at `path`. */
const changed = (path: string, change: (r: Results) => void) => (p: string): Results => {
  const r = readResults(p)
  if (p === path) change(r)
  return r
}
const performanceTable = (read: (p: string) => Results): string => renderBlocks(read).find((b: Block) => b.name === 'performance')!.content

describe('performance figures in the docs', () => {
  for (const b of renderBlocks() as Block[]) {
    it(`${b.file} (${b.name}) states what the benchmarks' results say`, () => {
      const text = extractBlock(doc(b.file), b.name)
      expect(text, `no <!-- perf:${b.name} --> markers in ${b.file}`).toBeDefined()
      expect(text, HINT).toBe(b.content)
    })
  }

  it('every results file records its date, Node version and the machine\'s load', () => {
    for (const [name, path] of Object.entries<string>(RESULT_FILES)) {
      const r: Results = readResults(path)
      if (name === 'setup') {
        // The build is timed here; the suite's figures come from a CI log, which has no load.
        expect(r.firstBuild.date, path).toMatch(/^\d{4}-\d{2}-\d{2}/)
        expect(loads(r.firstBuild).start, path).toBeTypeOf('number')
        expect(r.suite.date, path).toMatch(/^\d{4}-\d{2}-\d{2}/)
        continue
      }
      expect(r.date, path).toMatch(/^\d{4}-\d{2}-\d{2}/)
      expect(r.node, path).toMatch(/^v\d+\./)
      expect(loads(r).end, `${path}: no load average`).toBeTypeOf('number')
    }
  })

  it('each row of the table carries the date of its run', () => {
    const table = performanceTable(readResults)
    for (const [name, path] of Object.entries<string>(RESULT_FILES)) {
      if (NOT_IN_TABLE.has(name)) continue
      const moved = performanceTable(changed(path, (r) => (r.date = '2031-02-03T04:05:06.000Z')))
      expect(moved, path).not.toBe(table)
      expect(moved, path).toContain('| 2031-02-03, load ')
    }
  })

  it('takes its figures from the results, not from the script', () => {
    const sync = performanceTable(changed(RESULT_FILES.sync, (r) => (r.bitp2p.headersPerSec = 123_457)))
    expect(sync).toContain('**123,457 headers/s**')
    const pool = performanceTable(changed(RESULT_FILES.pool, (r) => (r.connections.heapPerConnectionKiB = 98.7)))
    expect(pool).toContain('**98.7 KiB** of heap')
    const load = performanceTable(changed(RESULT_FILES.headers, (r) => (r.loadStart = [42.42, 1, 1])))
    expect(load).toContain('load 42.4 to ')
    const setup = renderBlocks(changed(RESULT_FILES.setup, (r) => (r.suite.npmTestSeconds = 3_725))).find((b: Block) => b.name === 'setup')!.content
    expect(setup).toContain('**3,725 s, about 62 min**')
  })

  it(`${RESULTS_MD} is the table the results make`, () => {
    expect(doc(RESULTS_MD), HINT).toBe(renderResultsMd())
  })

  it(`${RESULTS_MD} has a row with the date and load of every bench's run, and its ratios`, () => {
    const md = renderResultsMd(readResults)
    for (const [name, path] of Object.entries<string>(RESULT_FILES)) {
      const moved = renderResultsMd(
        changed(path, (r) => {
          const run = name === 'setup' ? r.firstBuild : r
          run.date = '2031-02-03T04:05:06.000Z'
          run.loadStart = [42.42, 1, 1]
          run.loadEnd = [24.24, 1, 1]
        }),
      )
      expect(moved, path).not.toBe(md)
      expect(moved, path).toMatch(new RegExp(`\\| \\[${name}\\]\\(#${name.toLowerCase()}\\) \\| 2031-02-03 \\| v\\d+[^|]*\\| 42\\.42 to 24\\.24 \\|`))
    }
    // A bench that judged its rounds: each ratio with its spread; one that could not stabilise says so.
    const stable = { stable: true, rounds: 4, window: 3, tolerance: 0.1, ratios: { fetchOverParse: 17.25 }, spread: { fetchOverParse: 0.062 }, reason: 'x' }
    const judged = renderResultsMd(changed(RESULT_FILES.fetch, (r) => (r.stability = stable)))
    expect(judged).toContain('| fetchOverParse | 17.25 | 6.2 % | 4 |')
    const unstable = { ...stable, stable: false, rounds: 15, reason: 'not stable at the cap of 15 rounds: fetchOverParse spread 31 %' }
    const notJudged = renderResultsMd(changed(RESULT_FILES.fetch, (r) => (r.stability = unstable)))
    expect(notJudged).toContain('| fetchOverParse | 17.25 | 6.2 % | 15, not stable |')
    expect(notJudged).toContain('not stable at the cap of 15 rounds: fetchOverParse spread 31 %.')
    expect(notJudged).toMatch(/\| \[fetch\]\(#fetch\) \|[^\n]*\| 15, \*\*not stable\*\* \|/)
  })

  it("the README's Performance section states no figure outside the generated block", () => {
    const readme = doc('README.md')
    const start = readme.indexOf('\n## Performance\n')
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
    const outside = section.replace(/<!-- perf:performance [\s\S]*<!-- \/perf:performance -->/, '')
    expect(outside).not.toMatch(/\d/)
  })
})
