/**
 * Checking a BIP158 basic filter against its block: what can be proved
 * wrong with the block alone.
 *
 * A basic filter holds every output script of the block that is neither
 * empty nor OP_RETURN, and every script the block's inputs spend. The
 * block alone gives the first set exactly; the spent scripts would need the
 * previous outputs, which a light client does not have. So:
 *  - a filter that does not decode is wrong;
 *  - a filter missing an output script of the block is wrong (a GCS has no
 *    false negatives);
 *  - its item count N is bounded: at least the distinct output scripts, at
 *    most those plus one per input that spends something (the coinbase
 *    spends nothing); outside those bounds it is wrong.
 * A filter that passes may still have wrong spent scripts: two filters of
 * one block can both pass, and then the block alone cannot tell which is
 * right (BIP157's "Client Operation" derives the filter, which needs the
 * spent outputs).
 *
 * Pure: no IO, no clock.
 */
import { toHex, WireError, type Block } from '@bitp2p/wire'
import { BASIC_FILTER_PARAMS, gcsHashToRange, gcsKey, GcsFilter } from '@bitp2p/wire/filters'

/** OP_RETURN: outputs whose script starts with it are not in the basic filter. */
const OP_RETURN = 0x6a

/** What a filter check found. */
export type FilterBlockCheck =
  /** Nothing the block can disprove. */
  | { readonly ok: true; readonly n: number }
  /** The filter does not decode. */
  | { readonly ok: false; readonly reason: 'undecodable'; readonly error: WireError }
  /** Output `output` of transaction `tx` (positions in the block) pays `script`, which the filter lacks. */
  | { readonly ok: false; readonly reason: 'missing-output-script'; readonly tx: number; readonly output: number; readonly script: Uint8Array }
  /** N is outside [min, max] (see the module comment). */
  | { readonly ok: false; readonly reason: 'item-count'; readonly n: number; readonly min: number; readonly max: number }

/** The distinct output scripts of `block` that a basic filter must hold, each with where it first appears. */
function outputScripts(block: Block): { script: Uint8Array; tx: number; output: number }[] {
  const seen = new Set<string>()
  const out: { script: Uint8Array; tx: number; output: number }[] = []
  block.txs.forEach((tx, t) =>
    tx.outputs.forEach((o, i) => {
      const s = o.scriptPubKey
      if (s.length === 0 || s[0] === OP_RETURN) return
      const k = toHex(s)
      if (seen.has(k)) return
      seen.add(k)
      out.push({ script: s, tx: t, output: i })
    }),
  )
  return out
}

/** Check `filter` (serialized basic filter) against `block`, whose hash is `blockHash` (internal order); see the module comment. */
export function checkFilterAgainstBlock(blockHash: Uint8Array, filter: Uint8Array, block: Block): FilterBlockCheck {
  const key = gcsKey(blockHash)
  let gcs: GcsFilter
  try {
    gcs = GcsFilter.decode(filter, key, BASIC_FILTER_PARAMS)
  } catch (e) {
    if (e instanceof WireError) return { ok: false, reason: 'undecodable', error: e }
    throw e
  }
  const outputs = outputScripts(block)
  let spending = 0
  block.txs.forEach((tx, t) => {
    if (t > 0) spending += tx.inputs.length
  })
  const n = gcs.n
  const min = outputs.length
  const max = outputs.length + spending
  if (n < min || n > max) return { ok: false, reason: 'item-count', n, min, max }
  if (outputs.length === 0) return { ok: true, n }
  const values = gcs.values()
  const f = n * BASIC_FILTER_PARAMS.m
  const scratch = new Uint32Array(2)
  for (const o of outputs) {
    if (!sortedHas(values, gcsHashToRange(key, o.script, f, scratch))) {
      return { ok: false, reason: 'missing-output-script', tx: o.tx, output: o.output, script: o.script }
    }
  }
  return { ok: true, n }
}

/** One line for logs and offenses. */
export function describeFilterCheck(c: FilterBlockCheck): string {
  if (c.ok) return `consistent with the block (${c.n} items)`
  switch (c.reason) {
    case 'undecodable':
      return `filter does not decode: ${c.error.code} ${c.error.message}`
    case 'missing-output-script':
      return `output script ${toHex(c.script)} of tx ${c.tx} output ${c.output} is missing from the filter`
    case 'item-count':
      return `filter holds ${c.n} items; the block allows ${c.min}..${c.max}`
  }
}

/** Binary search in ascending `values`. */
function sortedHas(values: readonly number[], v: number): boolean {
  let lo = 0
  let hi = values.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const x = values[mid]!
    if (x === v) return true
    if (x < v) lo = mid + 1
    else hi = mid - 1
  }
  return false
}
