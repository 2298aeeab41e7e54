/**
 * Drives a LightMachine directly (no network): its 'send' actions go to
 * FilterServers standing for peers, their replies and the blocks it asks
 * for come back through a FIFO, and 'save-*' actions land in an in-memory
 * store, so a test can restart the machine from it. Time moves only when a
 * test says so (`elapse`).
 */
import { hashToHex, type Block, type KnownMessage } from '@bitp2p/wire'
import { LightMachine, type ChainView, type InvalidFilterOffense, type LightEvent, type LightMachineConfig, type LightState } from '../src/core/light-machine.js'
import type { FilterServer, World } from './world.js'

/** How a harness peer behaves beyond its server's view. */
export interface HarnessPeer {
  readonly server: FilterServer
  /** Commands it never answers. */
  readonly ignores?: ReadonlySet<string>
  /** Its replies arrive this long after the request (virtual ms; default at once). */
  readonly delayMs?: number
}

/** The active chain of a world as a ChainView (its tip may be capped, to model header sync lagging). */
export function chainOf(world: World, cap = Infinity): ChainView {
  return {
    get height() {
      return Math.min(cap, world.chain.tip.height)
    },
    hashAt: (h) => (h <= Math.min(cap, world.chain.tip.height) ? world.chain.atHeight(h)?.hash : undefined),
  }
}

/** See the module comment. */
export class MachineHarness {
  machine: LightMachine
  now = 0
  readonly peers = new Map<number, HarnessPeer>()
  readonly events: LightEvent[] = []
  readonly punished: { peer: number; offense: InvalidFilterOffense }[] = []
  readonly stalled: number[] = []
  readonly sent: { peer: number; message: KnownMessage }[] = []
  readonly blocksFetched: number[] = []
  readonly stored = { headers: new Uint8Array(0), state: undefined as LightState | undefined }
  readonly #queue: (() => void)[] = []
  /** Delayed replies: delivered by elapse() at their time, in order. */
  readonly #timed: { at: number; seq: number; fn: () => void }[] = []
  #seq = 0

  constructor(
    readonly world: World,
    readonly config: Partial<LightMachineConfig> = {},
  ) {
    this.machine = this.#make(false)
  }

  #make(restore: boolean): LightMachine {
    return new LightMachine(
      { genesisHash: this.world.chain.genesis.hash, ...this.config },
      restore ? { headers: this.stored.headers, state: this.stored.state } : undefined,
    )
  }

  /** A new machine from what the store holds (the old one is dropped). */
  restart(): void {
    this.machine = this.#make(true)
    this.peers.clear()
  }

  addPeer(id: number, peer: HarnessPeer): void {
    this.peers.set(id, peer)
    this.machine.addPeer(this.now, id)
    this.run()
  }

  /** Carry out every action, delivering replies in order, until nothing is left. */
  run(): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const a = this.machine.poll()
      if (a) {
        this.#act(a)
        continue
      }
      const next = this.#queue.shift()
      if (!next) return
      next()
    }
    throw new Error('harness: no quiescence')
  }

  /** Let `ms` pass, firing the machine's deadlines on the way. */
  elapse(ms: number): void {
    const end = this.now + ms
    for (;;) {
      this.#timed.sort((x, y) => x.at - y.at || x.seq - y.seq)
      const reply = this.#timed[0]
      const deadline = this.machine.nextDeadline()
      if (reply && reply.at <= end && (deadline === undefined || reply.at <= deadline)) {
        this.#timed.shift()
        this.now = Math.max(this.now, reply.at)
        reply.fn()
        this.run()
        continue
      }
      if (deadline === undefined || deadline > end) break
      this.now = Math.max(this.now, deadline)
      this.machine.timeout(this.now)
      this.run()
    }
    this.now = end
  }

  #act(a: NonNullable<ReturnType<LightMachine['poll']>>): void {
    const m = this.machine
    switch (a.type) {
      case 'send': {
        this.sent.push({ peer: a.peer, message: a.message })
        const p = this.peers.get(a.peer)
        if (!p || p.ignores?.has(a.message.command)) return
        const replies = p.server.reply(a.message)
        for (const r of replies) {
          const fn = () => m === this.machine && this.peers.has(a.peer) && m.message(this.now, a.peer, r)
          if (p.delayMs) this.#timed.push({ at: this.now + p.delayMs, seq: this.#seq++, fn })
          else this.#queue.push(fn)
        }
        return
      }
      case 'fetch-block': {
        this.blocksFetched.push(a.height)
        const b = this.world.chain.get(a.hash)
        this.#queue.push(() => {
          if (m !== this.machine) return
          if (b?.block) m.blockArrived(this.now, a.hash, b.block as Block)
          else m.blockFailed(this.now, a.hash, 'not in the world')
        })
        return
      }
      case 'punish':
        this.punished.push({ peer: a.peer, offense: a.offense })
        this.peers.delete(a.peer)
        return
      case 'stalled':
        this.stalled.push(a.peer)
        this.peers.delete(a.peer)
        return
      case 'save-headers': {
        const keep = this.stored.headers.subarray(0, a.height * 32)
        const next = new Uint8Array(keep.length + a.headers.length)
        next.set(keep)
        next.set(a.headers, keep.length)
        this.stored.headers = next
        return
      }
      case 'save-state':
        this.stored.state = JSON.parse(JSON.stringify(m.state())) as LightState
        return
      case 'event':
        this.events.push(a.event)
        return
    }
  }

  /** Found transactions as "txid@height", in the order reported. */
  found(): string[] {
    return this.events.flatMap((e) => (e.type === 'tx' ? [`${hashToHex(e.tx.txid)}@${e.tx.height}`] : []))
  }
}
