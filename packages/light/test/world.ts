/**
 * A test world for the light client: a SyntheticChain (regtest, real proof
 * of work, seeded) with transactions we choose, and the BIP157 server side
 * computed from it: each block's basic filter (from its outputs and the
 * scripts its inputs spend, tracked in a map of every output ever made),
 * filter hashes and headers along any branch, and the replies to
 * getcfcheckpt, getcfheaders and getcfilters.
 *
 * A `FilterView` is what one server believes: honest by default, or with
 * a wrong filter or a wrong filter hash at chosen blocks (its headers
 * follow from what it believes, so a lying server is consistent with
 * itself, as a real attacker would be).
 */
import { SeededRandom } from '@bitp2p/session'
import { SyntheticChain, type SyntheticBlock } from '@bitp2p/transport-mock'
import { bytesEqual, toHex, txid, type Block, type KnownMessage, type Message, type Transaction } from '@bitp2p/wire'
import { basicFilterItems, buildBasicFilter, filterHash, filterHeader, FilterType } from '@bitp2p/wire/filters'
import { CFCHECKPT_INTERVAL, MAX_GETCFHEADERS_SIZE, MAX_GETCFILTERS_SIZE } from '@bitp2p/wire/limits'

const ZERO = new Uint8Array(32)

/** A P2WPKH script for a 20-byte tag made from `n`. */
export function p2wpkh(n: number): Uint8Array {
  const s = new Uint8Array(22)
  s[0] = 0x00
  s[1] = 0x14
  for (let i = 0; i < 20; i++) s[2 + i] = (n * 31 + i * 7) & 0xff
  return s
}

/** A transaction spending `prevouts` to `outputs`. */
export function makeTx(prevouts: readonly { txid: Uint8Array; index: number }[], outputs: readonly [bigint, Uint8Array][], tag = 0): Transaction {
  return {
    version: 2,
    inputs: prevouts.map((p, i) => ({ prevout: p, scriptSig: new Uint8Array([0x51, tag & 0xff, i]), sequence: 0xffffffff, witness: [] })),
    outputs: outputs.map(([value, scriptPubKey]) => ({ value, scriptPubKey })),
    locktime: 0,
  }
}

/** What one server believes about filters; see the module comment. */
export interface FilterView {
  /** The filter it serves for a block. */
  filter(b: SyntheticBlock): Uint8Array
  /** The filter hash its headers are built from. */
  hash(b: SyntheticBlock): Uint8Array
}

/** The chain, its outputs and its filters. */
export class World {
  readonly chain: SyntheticChain
  readonly random: SeededRandom
  /** Every output ever made: "txidhex:index" -> script. */
  readonly #outputs = new Map<string, Uint8Array>()
  readonly #filters = new Map<string, Uint8Array>()
  #time: number
  #tag = 0
  /** Spendable coinbase outputs, oldest first. */
  readonly #coinbases: { txid: Uint8Array; index: number; value: bigint }[] = []

  constructor(seed: number) {
    this.random = new SeededRandom(seed)
    this.chain = new SyntheticChain({ random: this.random })
    this.#time = this.chain.genesis.header.time
    for (const b of [this.chain.genesis]) this.#index(b.block!)
  }

  /** Mine `n` blocks on the tip; `txs(height)` gives each one's transactions after the coinbase. */
  mine(n: number, txs: (height: number) => Transaction[] = () => []): SyntheticBlock[] {
    const out: SyntheticBlock[] = []
    for (let i = 0; i < n; i++) out.push(this.mineOn(this.chain.tip, txs(this.chain.tip.height + 1)))
    return out
  }

  /** Mine one block on `parent` (a fork when it is not the tip). */
  mineOn(parent: SyntheticBlock, txs: Transaction[] = []): SyntheticBlock {
    this.#time += 600
    const b = this.chain.extend(parent.hash, { time: this.#time, txs })
    this.#index(b.block!)
    const cb = b.block!.txs[0]!
    this.#coinbases.push({ txid: txid(cb), index: 0, value: cb.outputs[0]!.value })
    return b
  }

  /** A transaction spending an unused coinbase to `outputs` (values taken from the coinbase). */
  pay(outputs: readonly Uint8Array[], value = 10_000n): Transaction {
    const coin = this.#coinbases.shift()
    if (!coin) throw new Error('world: no coinbase left to spend; mine more first')
    return makeTx([coin], outputs.map((s) => [value, s] as [bigint, Uint8Array]), ++this.#tag)
  }

  /** A transaction spending `prevout` to `to`. */
  spend(prevout: { txid: Uint8Array; index: number }, to: Uint8Array, value = 5_000n): Transaction {
    return makeTx([prevout], [[value, to]], ++this.#tag)
  }

  #index(block: Block): void {
    for (const tx of block.txs) {
      const id = toHex(txid(tx))
      tx.outputs.forEach((o, i) => this.#outputs.set(`${id}:${i}`, o.scriptPubKey))
    }
  }

  /** The scripts a block's inputs spend (the coinbase's none). */
  prevScripts(block: Block): Uint8Array[] {
    const out: Uint8Array[] = []
    block.txs.forEach((tx, t) => {
      if (t === 0) return
      for (const inp of tx.inputs) {
        const s = this.#outputs.get(`${toHex(inp.prevout.txid)}:${inp.prevout.index}`)
        if (s) out.push(s)
      }
    })
    return out
  }

  /** The true basic filter of a block. */
  filter(b: SyntheticBlock): Uint8Array {
    const k = toHex(b.hash)
    let f = this.#filters.get(k)
    if (!f) {
      f = buildBasicFilter(b.hash, basicFilterItems(b.block!.txs, this.prevScripts(b.block!)))
      this.#filters.set(k, f)
    }
    return f
  }

  /** The honest view. */
  honest(): FilterView {
    return { filter: (b) => this.filter(b), hash: (b) => filterHash(this.filter(b)) }
  }

  /** A view serving, for `bad`, the filter without `leave` (and headers built from it). */
  missingScript(bad: SyntheticBlock, leave: Uint8Array): FilterView {
    const wrong = buildBasicFilter(
      bad.hash,
      basicFilterItems(bad.block!.txs, this.prevScripts(bad.block!)).filter((s) => !bytesEqual(s, leave)),
    )
    return {
      filter: (b) => (b === bad ? wrong : this.filter(b)),
      hash: (b) => (b === bad ? filterHash(wrong) : filterHash(this.filter(b))),
    }
  }

  /** A view whose filter hash (hence every header from there) is wrong at `bad`, while it serves the true filter. */
  wrongHeaders(bad: SyntheticBlock): FilterView {
    const garbage = new Uint8Array(32).fill(0xee)
    return { filter: (b) => this.filter(b), hash: (b) => (b === bad ? garbage : filterHash(this.filter(b))) }
  }
}

/** Serves BIP157 requests from one view of a world; filter headers are memoised per block. */
export class FilterServer {
  readonly #headers = new Map<string, Uint8Array>()
  constructor(
    readonly world: World,
    readonly view: FilterView = world.honest(),
  ) {}

  /** The filter header of a block on its own branch. */
  header(b: SyntheticBlock | undefined): Uint8Array {
    if (b === undefined) return ZERO
    const k = toHex(b.hash)
    let h = this.#headers.get(k)
    if (h) return h
    // Iterative up the branch to the first memoised ancestor: no deep recursion.
    const path: SyntheticBlock[] = []
    let x: SyntheticBlock | undefined = b
    while (x && !this.#headers.has(toHex(x.hash))) {
      path.push(x)
      x = x.parent
    }
    let prev = x ? this.#headers.get(toHex(x.hash))! : ZERO
    for (let i = path.length - 1; i >= 0; i--) {
      prev = filterHeader(this.view.hash(path[i]!), prev)
      this.#headers.set(toHex(path[i]!.hash), prev)
    }
    h = prev
    return h
  }

  /** The replies to `msg` (none for what it does not serve). */
  reply(msg: Message): KnownMessage[] {
    const chain = this.world.chain
    switch (msg.command) {
      case 'getcfcheckpt': {
        const stop = chain.get(msg.stopHash)
        if (!stop || msg.filterType !== FilterType.BASIC) return []
        const filterHeaders: Uint8Array[] = []
        for (let h = CFCHECKPT_INTERVAL; h <= stop.height; h += CFCHECKPT_INTERVAL) filterHeaders.push(this.header(chain.ancestorAt(stop.hash, h)))
        return [{ command: 'cfcheckpt', filterType: FilterType.BASIC, stopHash: msg.stopHash, filterHeaders }]
      }
      case 'getcfheaders': {
        const stop = chain.get(msg.stopHash)
        if (!stop || msg.startHeight > stop.height || stop.height - msg.startHeight >= MAX_GETCFHEADERS_SIZE) return []
        const filterHashes: Uint8Array[] = []
        for (let h = msg.startHeight; h <= stop.height; h++) filterHashes.push(this.view.hash(chain.ancestorAt(stop.hash, h)!))
        const prev = msg.startHeight === 0 ? ZERO : this.header(chain.ancestorAt(stop.hash, msg.startHeight - 1))
        return [{ command: 'cfheaders', filterType: FilterType.BASIC, stopHash: msg.stopHash, prevFilterHeader: prev, filterHashes }]
      }
      case 'getcfilters': {
        const stop = chain.get(msg.stopHash)
        if (!stop || msg.startHeight > stop.height || stop.height - msg.startHeight >= MAX_GETCFILTERS_SIZE) return []
        const out: KnownMessage[] = []
        for (let h = msg.startHeight; h <= stop.height; h++) {
          const b = chain.ancestorAt(stop.hash, h)!
          out.push({ command: 'cfilter', filterType: FilterType.BASIC, blockHash: b.hash, filter: this.view.filter(b) })
        }
        return out
      }
      default:
        return []
    }
  }
}
