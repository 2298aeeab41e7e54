// Shared by the block tests: the real mainnet blocks in shared/data/blocks,
// their README table (the expected values), and bcoin@1.0.2 as an
// independent implementation of txid / wtxid.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

// packages/wire/test/block/ -> /work/shared/data/blocks (sibling of the checkout root).
const DIR_URL = new URL('../../../../../shared/data/blocks/', import.meta.url)
export const BLOCKS_DIR = fileURLToPath(DIR_URL)
export const BLOCKS_PRESENT = existsSync(BLOCKS_DIR) && existsSync(new URL('README.md', DIR_URL))
export const SKIP_MESSAGE = `real block data not found at ${BLOCKS_DIR}; skipping`

export interface BlockFixture {
  readonly file: string
  readonly height: number
  readonly bytes: number
  readonly txs: number
  readonly segwitTxs: number
  readonly weight: number
  /** Display (reversed) hex. */
  readonly hash: string
}

const num = (s: string) => Number(s.replace(/,/g, ''))

/** Rows of the README table, e.g. | block300025.raw | 300,025 | 284,231 | 461 (0) | 1,136,924 | `hash` | `sha` | */
export function readFixtures(): BlockFixture[] {
  if (!BLOCKS_PRESENT) return []
  const readme = readFileSync(new URL('README.md', DIR_URL), 'utf8')
  const rows: BlockFixture[] = []
  const re = /^\|\s*(block\d+\.raw)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\(([\d,]+)\)\s*\|\s*([\d,]+)\s*\|\s*`([0-9a-f]{64})`/gm
  for (const m of readme.matchAll(re)) {
    rows.push({
      file: m[1]!,
      height: num(m[2]!),
      bytes: num(m[3]!),
      txs: num(m[4]!),
      segwitTxs: num(m[5]!),
      weight: num(m[6]!),
      hash: m[7]!,
    })
  }
  const files = readdirSync(BLOCKS_DIR).filter((f) => f.endsWith('.raw'))
  if (rows.length !== files.length) throw new Error(`README lists ${rows.length} blocks, directory has ${files.length}`)
  return rows
}

export function readBlock(file: string): Uint8Array {
  const b = readFileSync(new URL(file, DIR_URL))
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

interface BcoinTx {
  txid(): string
  wtxid(): string
  getWeight(): number
}
interface Bcoin {
  Block: { fromRaw(raw: Uint8Array): { txs: BcoinTx[] } }
}

let bcoinModule: Bcoin | undefined
function bcoin(): Bcoin {
  if (bcoinModule === undefined) {
    // bcoin's pure-JS backend: no native addons needed.
    process.env.NODE_BACKEND = 'js'
    bcoinModule = createRequire(import.meta.url)('bcoin') as Bcoin
  }
  return bcoinModule
}

/** txids and wtxids (display hex) and weights as bcoin@1.0.2 computes them. */
export function bcoinIds(raw: Uint8Array): { txids: string[]; wtxids: string[]; weights: number[] } {
  const block = bcoin().Block.fromRaw(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength))
  return {
    txids: block.txs.map((t) => t.txid()),
    wtxids: block.txs.map((t) => t.wtxid()),
    weights: block.txs.map((t) => t.getWeight()),
  }
}
