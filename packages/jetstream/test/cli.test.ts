// The CLI's NATS commands on bad input: a bad command line is exit 2 with
// one line saying what is wrong, an unreachable server or an unusable
// handler exit 1, never a stack trace. No server needed.
/// <reference types="node" />
import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { createServer } from 'node:net'
import { forWork } from '../../../test/harness/timing.js'
import { runCli } from './cli-child.js'

const NO_HANDLE = fileURLToPath(new URL('./fixtures/no-handle.mjs', import.meta.url))

/** A loopback port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

async function run(args: string[]) {
  const c = runCli(args)
  const code = await c.exited
  return { code, stdout: c.stdout(), stderr: c.stderr() }
}

describe('bitp2p index, index-worker and crawl --nats on bad input', () => {
  it('--help shows each usage', { timeout: forWork(3, 5_000) }, async () => {
    const rs = await Promise.all([['index'], ['index-worker'], ['crawl']].map((c) => run([...c, '--help'])))
    expect(rs.map((r) => r.code)).toEqual([0, 0, 0])
    expect(rs[0]!.stdout).toMatch(/^usage: bitp2p index --peer host:port --nats nats:\/\/host:port/)
    expect(rs[1]!.stdout).toMatch(/^usage: bitp2p index-worker --nats nats:\/\/host:port --handler/)
    expect(rs[2]!.stdout).toContain('bitp2p crawl --nats nats://host:port')
  })

  it('usage errors are exit 2 with one line', { timeout: forWork(6, 5_000) }, async () => {
    const cases: [string[], RegExp][] = [
      [['index', '--peer', '127.0.0.1:1'], /--nats nats:\/\/host:port is required/],
      [['index', '--peer', '127.0.0.1:1', '--nats', 'http://x'], /--nats: a NATS server URL is nats:\/\/host:port/],
      [['index', '--peer', '127.0.0.1:1', '--nats', 'nats://127.0.0.1:1', '--from', '9', '--to', '3'], /--to 3 is below --from 9/],
      [['index-worker', '--nats', 'nats://127.0.0.1:1'], /--handler \.\/my-handler\.mjs is required/],
      [['index-worker', '--nats', 'nats://127.0.0.1:1', '--handler', NO_HANDLE, '--ack-wait', '10'], /--ack-wait must be at least 1000 ms/],
      [['crawl', '--nats', 'nats://127.0.0.1:1', '--namespace', 'Bad.Name'], /--namespace: namespace must be/],
    ]
    const rs = await Promise.all(cases.map(([args]) => run(args)))
    rs.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(cases[i]![1])
    })
  })

  it('an unreachable server and a handler without handle() are exit 1, named', { timeout: forWork(2, 15_000) }, async () => {
    const port = await deadPort()
    const [noHandleFn, missing] = await Promise.all([
      run(['index-worker', '--nats', `nats://127.0.0.1:${port}`, '--handler', NO_HANDLE]),
      run(['index-worker', '--nats', `nats://127.0.0.1:${port}`, '--handler', fileURLToPath(new URL('./fixtures/throwing-handler.mjs', import.meta.url)).replace('throwing-handler', 'missing-handler')]),
    ])
    expect(noHandleFn.code).toBe(1)
    expect(noHandleFn.stderr.trim()).toMatch(/^bitp2p: the handler .*no-handle\.mjs exports no handle\(part, ctx\) function/)
    expect(missing.code).toBe(1)
    expect(missing.stderr.trim()).toMatch(/^bitp2p: cannot load the handler .*missing-handler\.mjs/)
    const worker = await run(['index-worker', '--nats', `nats://127.0.0.1:${port}`, '--handler', fileURLToPath(new URL('./fixtures/throwing-handler.mjs', import.meta.url))])
    expect(worker.code).toBe(1)
    expect(worker.stderr.trim()).toBe(`bitp2p: cannot connect to NATS at nats://127.0.0.1:${port}: connection refused`)
  })
})
