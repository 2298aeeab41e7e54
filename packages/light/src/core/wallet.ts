/**
 * WatchWallet: the watched scripts and what the scan found for them.
 *
 * It holds the scripts (each with the birthday height its rescan starts
 * from), the outputs found paying them ("coins", each remembering the
 * transaction that spent it), and the transactions found: those with an
 * output paying a watched script or an input spending a coin already found.
 * Blocks are applied in height order (`applyBlock`); a reorg takes the
 * disconnected heights out again (`disconnect`), un-spending the coins
 * their transactions spent.
 *
 * Applying a block twice (a rescan after a script was added, or after a
 * filter dispute) reports nothing twice: a transaction already found in the
 * same block is skipped, and a coin already spent by the same transaction
 * is left as it is.
 *
 * An input is recognised only when the coin it spends was found first, so
 * a script's birthday must not be later than the first payment to it.
 *
 * Pure data: no IO, no clock. `snapshot()` gives a plain JSON-ready object
 * (hex strings, decimal amounts) for a store; `WatchWallet.restore` reads it.
 */
import { bytesEqual, fromHex, hashToHex, hexToHash, toHex, txid as txidOf, type Block, type Transaction } from '@bitp2p/wire'

/** A watched output script and the height its scan starts from. */
export interface WatchedScript {
  readonly script: Uint8Array
  /** Blocks below this height are not scanned for it. */
  readonly birthday: number
}

/** An output of a found transaction that pays a watched script. */
export interface MatchedOutput {
  /** Output index. */
  readonly index: number
  /** Satoshis. */
  readonly value: bigint
  readonly script: Uint8Array
}

/** An input of a found transaction that spends a coin found before. */
export interface MatchedInput {
  /** Input index. */
  readonly index: number
  /** The coin it spends: txid (internal byte order) and output index. */
  readonly prevout: { readonly txid: Uint8Array; readonly index: number }
  /** Satoshis of the coin. */
  readonly value: bigint
  /** The watched script the coin paid. */
  readonly script: Uint8Array
}

/** A transaction found in a block. */
export interface WalletTx {
  /** Internal byte order. */
  readonly txid: Uint8Array
  readonly height: number
  /** Internal byte order. */
  readonly blockHash: Uint8Array
  /** Index in the block (0 = coinbase). */
  readonly position: number
  readonly outputs: readonly MatchedOutput[]
  readonly inputs: readonly MatchedInput[]
}

/** An output found paying a watched script. */
export interface WalletCoin {
  /** Internal byte order. */
  readonly txid: Uint8Array
  readonly index: number
  readonly value: bigint
  readonly script: Uint8Array
  readonly height: number
  readonly blockHash: Uint8Array
  /** The transaction that spent it (internal order), if any yet. */
  readonly spentBy: Uint8Array | undefined
  readonly spentHeight: number | undefined
}

/** A transaction's outputs paying us and inputs spending ours, without changing the wallet (for unconfirmed ones). */
export interface TxMatch {
  readonly outputs: readonly MatchedOutput[]
  readonly inputs: readonly MatchedInput[]
}

/** JSON form of a WatchWallet (hex strings in RPC display order for ids, decimal strings for amounts). */
export interface WalletSnapshot {
  readonly scripts: readonly { readonly script: string; readonly birthday: number }[]
  readonly coins: readonly {
    readonly txid: string
    readonly index: number
    readonly value: string
    readonly script: string
    readonly height: number
    readonly blockHash: string
    readonly spentBy?: string
    readonly spentHeight?: number
  }[]
  readonly txs: readonly {
    readonly txid: string
    readonly height: number
    readonly blockHash: string
    readonly position: number
    readonly outputs: readonly { readonly index: number; readonly value: string; readonly script: string }[]
    readonly inputs: readonly { readonly index: number; readonly txid: string; readonly vout: number; readonly value: string; readonly script: string }[]
  }[]
}

interface CoinRec {
  readonly txid: Uint8Array
  readonly index: number
  readonly value: bigint
  readonly script: Uint8Array
  readonly height: number
  readonly blockHash: Uint8Array
  spentBy: Uint8Array | undefined
  spentHeight: number | undefined
}

/** Throws unless `v` is a safe integer >= 0 (a height, index or position read back from a store). */
function count(v: unknown, what: string): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be an integer >= 0, got ${String(v)}`)
}

/** Map key of an outpoint: our own hex of a txid we computed, never a string from the network. */
function outpointKey(txid: Uint8Array, index: number): string {
  return `${toHex(txid)}:${index}`
}

/** The watched scripts and what was found for them; see the module comment. */
export class WatchWallet {
  /** Scripts by hex, in the order they were added. */
  private readonly watched = new Map<string, { script: Uint8Array; birthday: number }>()
  private readonly coinMap = new Map<string, CoinRec>()
  /** Found transactions by txid hex, in the order found. */
  private readonly txMap = new Map<string, WalletTx>()
  private scriptCache: Uint8Array[] | undefined

  /**
   * Watch `script` from `birthday`. Returns the height a rescan must start
   * from for it: `birthday` when the script is new or its birthday moved
   * earlier, undefined when nothing changed.
   */
  add(script: Uint8Array, birthday: number): number | undefined {
    if (!Number.isSafeInteger(birthday) || birthday < 0) throw new RangeError(`birthday must be a height >= 0, got ${birthday}`)
    if (script.length === 0) throw new RangeError('an empty script cannot be watched (basic filters leave empty scripts out)')
    const key = toHex(script)
    const known = this.watched.get(key)
    if (known && known.birthday <= birthday) return undefined
    if (known) known.birthday = birthday
    else this.watched.set(key, { script: script.slice(), birthday })
    this.scriptCache = undefined
    return birthday
  }

  /** True when `script` is watched. */
  watches(script: Uint8Array): boolean {
    return this.watched.has(toHex(script))
  }

  /** The watched scripts, in the order added (the array is reused until the set changes: do not modify it). */
  scripts(): readonly Uint8Array[] {
    this.scriptCache ??= [...this.watched.values()].map((w) => w.script)
    return this.scriptCache
  }

  /** The watched scripts with their birthdays. */
  watchedScripts(): WatchedScript[] {
    return [...this.watched.values()].map((w) => ({ script: w.script, birthday: w.birthday }))
  }

  /** Lowest birthday of any script; undefined when none is watched. */
  get earliestBirthday(): number | undefined {
    let min: number | undefined
    for (const w of this.watched.values()) if (min === undefined || w.birthday < min) min = w.birthday
    return min
  }

  /** True when the transaction with this txid (internal order) was found in a block. */
  hasTransaction(txid: Uint8Array): boolean {
    return this.txMap.has(toHex(txid))
  }

  /** The found transactions, in the order found. */
  transactions(): WalletTx[] {
    return [...this.txMap.values()]
  }

  /** The coins found, spent or not. */
  coins(): WalletCoin[] {
    return [...this.coinMap.values()].map((c) => ({ ...c }))
  }

  /** Satoshis of the coins not spent. */
  get balance(): bigint {
    let sum = 0n
    for (const c of this.coinMap.values()) if (c.spentBy === undefined) sum += c.value
    return sum
  }

  /**
   * What `tx` does for us, without changing anything: its outputs paying a
   * watched script and its inputs spending an unspent coin.
   */
  match(tx: Transaction): TxMatch {
    const inputs: MatchedInput[] = []
    tx.inputs.forEach((inp, index) => {
      const coin = this.coinMap.get(outpointKey(inp.prevout.txid, inp.prevout.index))
      if (coin && coin.spentBy === undefined) inputs.push({ index, prevout: { txid: coin.txid, index: coin.index }, value: coin.value, script: coin.script })
    })
    const outputs: MatchedOutput[] = []
    tx.outputs.forEach((o, index) => {
      if (this.watched.has(toHex(o.scriptPubKey))) outputs.push({ index, value: o.value, script: o.scriptPubKey.slice() })
    })
    return { outputs, inputs }
  }

  /**
   * Apply the block at `height`: record its transactions that pay a
   * watched script or spend a coin found before (earlier in this block
   * included). Returns those newly found, in block order.
   */
  applyBlock(height: number, blockHash: Uint8Array, block: Block): WalletTx[] {
    const found: WalletTx[] = []
    block.txs.forEach((tx, position) => {
      const id = txidOf(tx)
      const inputs: MatchedInput[] = []
      tx.inputs.forEach((inp, index) => {
        const coin = this.coinMap.get(outpointKey(inp.prevout.txid, inp.prevout.index))
        if (!coin) return
        // Spent by this very transaction already (a rescan): still ours to report if the tx is new.
        if (coin.spentBy !== undefined && !bytesEqual(coin.spentBy, id)) return
        coin.spentBy = id
        coin.spentHeight = height
        inputs.push({ index, prevout: { txid: coin.txid, index: coin.index }, value: coin.value, script: coin.script })
      })
      const outputs: MatchedOutput[] = []
      tx.outputs.forEach((o, index) => {
        if (!this.watched.has(toHex(o.scriptPubKey))) return
        const script = o.scriptPubKey.slice()
        const key = outpointKey(id, index)
        if (!this.coinMap.has(key)) {
          this.coinMap.set(key, { txid: id, index, value: o.value, script, height, blockHash: blockHash.slice(), spentBy: undefined, spentHeight: undefined })
        }
        outputs.push({ index, value: o.value, script })
      })
      if (inputs.length === 0 && outputs.length === 0) return
      const key = toHex(id)
      const known = this.txMap.get(key)
      if (known && bytesEqual(known.blockHash, blockHash)) return
      const rec: WalletTx = { txid: id, height, blockHash: blockHash.slice(), position, outputs, inputs }
      this.txMap.set(key, rec)
      found.push(rec)
    })
    return found
  }

  /**
   * Take out everything found at heights >= `height` (a reorg disconnected
   * them): their transactions, the coins they created, and their spends of
   * older coins. Returns the transactions taken out, ascending by height.
   */
  disconnect(height: number): WalletTx[] {
    const gone: WalletTx[] = []
    for (const [k, t] of this.txMap) {
      if (t.height < height) continue
      this.txMap.delete(k)
      gone.push(t)
    }
    for (const [k, c] of this.coinMap) {
      if (c.height >= height) this.coinMap.delete(k)
      else if (c.spentHeight !== undefined && c.spentHeight >= height) {
        c.spentBy = undefined
        c.spentHeight = undefined
      }
    }
    return gone.sort((a, b) => a.height - b.height || a.position - b.position)
  }

  /** The wallet as plain JSON-ready data. */
  snapshot(): WalletSnapshot {
    return {
      scripts: [...this.watched.values()].map((w) => ({ script: toHex(w.script), birthday: w.birthday })),
      coins: [...this.coinMap.values()].map((c) => ({
        txid: hashToHex(c.txid),
        index: c.index,
        value: c.value.toString(),
        script: toHex(c.script),
        height: c.height,
        blockHash: hashToHex(c.blockHash),
        ...(c.spentBy ? { spentBy: hashToHex(c.spentBy), spentHeight: c.spentHeight } : {}),
      })),
      txs: [...this.txMap.values()].map((t) => ({
        txid: hashToHex(t.txid),
        height: t.height,
        blockHash: hashToHex(t.blockHash),
        position: t.position,
        outputs: t.outputs.map((o) => ({ index: o.index, value: o.value.toString(), script: toHex(o.script) })),
        inputs: t.inputs.map((i) => ({ index: i.index, txid: hashToHex(i.prevout.txid), vout: i.prevout.index, value: i.value.toString(), script: toHex(i.script) })),
      })),
    }
  }

  /** A wallet from `snapshot()`'s output. Throws RangeError on a malformed snapshot (it comes from a store: checked, not trusted). */
  static restore(s: WalletSnapshot): WatchWallet {
    const w = new WatchWallet()
    try {
      if (![s.scripts, s.coins, s.txs].every((x: unknown) => Array.isArray(x))) throw new RangeError('scripts, coins and txs must be arrays')
      for (const c of s.coins) {
        count(c.index, 'coin index')
        count(c.height, 'coin height')
        if (c.spentHeight !== undefined) count(c.spentHeight, 'coin spent height')
      }
      for (const t of s.txs) {
        count(t.height, 'tx height')
        count(t.position, 'tx position')
        for (const o of t.outputs) count(o.index, 'output index')
        for (const i of t.inputs) (count(i.index, 'input index'), count(i.vout, 'input vout'))
      }
      for (const x of s.scripts) w.add(fromHex(x.script), x.birthday)
      for (const c of s.coins) {
        const txid = hexToHash(c.txid)
        w.coinMap.set(outpointKey(txid, c.index), {
          txid,
          index: c.index,
          value: BigInt(c.value),
          script: fromHex(c.script),
          height: c.height,
          blockHash: hexToHash(c.blockHash),
          spentBy: c.spentBy === undefined ? undefined : hexToHash(c.spentBy),
          spentHeight: c.spentHeight,
        })
      }
      for (const t of s.txs) {
        const txid = hexToHash(t.txid)
        w.txMap.set(toHex(txid), {
          txid,
          height: t.height,
          blockHash: hexToHash(t.blockHash),
          position: t.position,
          outputs: t.outputs.map((o) => ({ index: o.index, value: BigInt(o.value), script: fromHex(o.script) })),
          inputs: t.inputs.map((i) => ({ index: i.index, prevout: { txid: hexToHash(i.txid), index: i.vout }, value: BigInt(i.value), script: fromHex(i.script) })),
        })
      }
    } catch (e) {
      throw new RangeError(`wallet snapshot is malformed: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
    }
    return w
  }
}
