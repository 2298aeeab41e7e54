/// <reference types="node" />
// The bitp2p CLI as a child process, for the JetStream tests: its stdout
// read as JSON lines (--json), its stderr kept to explain a failure, and
// every child killed when the test file ends.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The CLI entry point. */
export const CLI = fileURLToPath(new URL('../../cli/bitp2p.mjs', import.meta.url))

const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})

/** A running CLI command. */
export interface CliChild {
  readonly child: ChildProcess
  /** Every JSON line printed on stdout so far. */
  readonly events: Record<string, any>[]
  /** The tail of stderr. */
  stderr(): string
  /** Everything printed on stdout. */
  stdout(): string
  /** Resolves with the exit code (or the signal's name) once it exited and its output is read. */
  readonly exited: Promise<number | string>
  /** True once it exited and its output is read. */
  readonly closed: boolean
  /** SIGKILL. Resolves once it exited. */
  kill(): Promise<void>
  /** SIGINT (Ctrl-C: a clean stop). Resolves once it exited. */
  interrupt(): Promise<number | string>
}

/** Start `bitp2p <args>` with `env` added to this process's. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): CliChild {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  children.add(child)
  const events: Record<string, any>[] = []
  let buf = ''
  let err = ''
  let all = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    all += s
    buf += s
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim()
      buf = buf.slice(nl + 1)
      if (line.startsWith('{') && line.endsWith('}')) events.push(JSON.parse(line))
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-4000)
  })
  let closed = false
  // 'close', not 'exit': the last lines of stdout may be read after 'exit'.
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => {
      children.delete(child)
      closed = true
      resolve(code ?? signal ?? 'unknown')
    })
  })
  return {
    child,
    events,
    get closed() {
      return closed
    },
    stderr: () => err,
    stdout: () => all,
    exited,
    kill: async () => {
      child.kill('SIGKILL')
      await exited
    },
    interrupt: async () => {
      child.kill('SIGINT')
      return exited
    },
  }
}

/** Kill every child still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...children].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : (c.once('exit', () => r()), c.kill('SIGKILL'))))))
}
