/**
 * A scripted stand-in for a worker TCP socket (CloudflareSocket), for the
 * unit tests in Node: the test opens it, feeds the readable, settles each
 * write, and sets the writer's desiredSize. The real runtime is exercised
 * by test/workerd.test.ts.
 */
import type { CloudflareSocket, ConnectFunction, SocketAddress, SocketOptions } from '../src/socket.js'

/** A promise with its settle functions. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(v: T): void
  reject(e: unknown): void
}

/** A new Deferred whose rejection is marked handled (the code under test decides whether to look). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/** One writer.write() call, waiting for the test to settle it. */
export interface PendingWrite {
  readonly chunk: Uint8Array
  readonly done: Deferred<void>
}

/** The writer the transport gets: desiredSize and ready are the test's to set. */
export class FakeWriter {
  /** What writer.desiredSize reports. */
  desiredSize: number | null = 1
  /** What writer.ready returns; replace it (with notReady()) to make the transport wait. */
  ready: Promise<void> = Promise.resolve()
  /** Every write, in order; settle one with `settleWrite`. */
  readonly writes: PendingWrite[] = []
  closeCalls = 0
  /** Settles writer.close(). */
  readonly closed = deferred<void>()

  write(chunk: Uint8Array): Promise<void> {
    const done = deferred<void>()
    this.writes.push({ chunk, done })
    return done.promise
  }

  close(): Promise<void> {
    this.closeCalls++
    return this.closed.promise
  }

  /** Report desiredSize 0 until the returned function is called (which resolves ready). */
  notReady(): () => void {
    const d = deferred<void>()
    this.desiredSize = 0
    this.ready = d.promise
    return () => {
      this.desiredSize = 1
      d.resolve()
    }
  }

  /** Writes not yet settled. */
  pending(): PendingWrite[] {
    return this.writes.filter((w) => !settled.has(w))
  }

  /** Bytes handed over and not yet settled. */
  pendingBytes(): number {
    return this.pending().reduce((n, w) => n + w.chunk.length, 0)
  }

  /** Settle the oldest pending write (successfully, or with `err`). */
  settleWrite(err?: unknown): PendingWrite {
    const w = this.pending()[0]
    if (w === undefined) throw new Error('no pending write')
    settled.add(w)
    if (err === undefined) w.done.resolve()
    else w.done.reject(err)
    return w
  }
}

const settled = new WeakSet<PendingWrite>()

/** A CloudflareSocket driven by the test. */
export class FakeSocket implements CloudflareSocket {
  readonly readable: ReadableStream<Uint8Array>
  readonly writable: WritableStream<Uint8Array>
  readonly writer = new FakeWriter()
  readonly openedD = deferred<unknown>()
  readonly closedD = deferred<void>()
  /** Calls of close(). */
  closeCalls = 0
  /** getReader() was called on the readable (reading started). */
  get reading(): boolean {
    return this.readable.locked
  }
  private controller!: ReadableStreamDefaultController<Uint8Array>

  constructor(
    readonly address?: SocketAddress,
    readonly options?: SocketOptions,
  ) {
    this.readable = new ReadableStream<Uint8Array>({ start: (c) => void (this.controller = c) }, { highWaterMark: 0 })
    // Only getWriter() is used by the transport.
    this.writable = { getWriter: () => this.writer } as unknown as WritableStream<Uint8Array>
  }

  get opened(): Promise<unknown> {
    return this.openedD.promise
  }
  get closed(): Promise<void> {
    return this.closedD.promise
  }

  close(): Promise<void> {
    this.closeCalls++
    return Promise.resolve()
  }

  /** Bytes from the peer. */
  push(bytes: Uint8Array): void {
    this.controller.enqueue(bytes)
  }
  /** The peer's FIN. */
  end(): void {
    this.controller.close()
  }
  /** A reset. */
  fail(err: unknown): void {
    this.controller.error(err)
  }
}

/** A ConnectFunction handing out FakeSockets, which it keeps for the test. */
export function fakeConnect(): ConnectFunction & { readonly sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = []
  const fn = (address: SocketAddress, options?: SocketOptions): FakeSocket => {
    const s = new FakeSocket(address, options)
    sockets.push(s)
    return s
  }
  return Object.assign(fn, { sockets })
}

/** Let queued microtasks and promise callbacks run (several rounds: the transport chains a few). */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
}
