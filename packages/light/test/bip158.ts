/// <reference types="node" />
/**
 * The BIP158 test vectors (bitcoin/bips bip-0158/testnet-19.json, in
 * ../shared/data/bip-vectors), parsed: real testnet blocks with their basic
 * filters, the scripts their inputs spend, and the filter headers.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { fromHex, hexToHash, parseBlock, type Block } from '@bitp2p/wire'

const PATH = fileURLToPath(new URL('../../../../shared/data/bip-vectors/bip-0158_testnet-19.json', import.meta.url))

/** True when the vectors file is there. */
export const haveBip158 = existsSync(PATH)

/** One row of the vectors. */
export interface Bip158Vector {
  readonly height: number
  /** Internal byte order. */
  readonly blockHash: Uint8Array
  readonly block: Block
  readonly prevScripts: readonly Uint8Array[]
  readonly prevHeader: Uint8Array
  readonly filter: Uint8Array
  readonly header: Uint8Array
  readonly notes: string
}

/** The rows after the column names; empty when the file is absent. */
export function bip158Vectors(): Bip158Vector[] {
  if (!haveBip158) return []
  const rows = JSON.parse(readFileSync(PATH, 'utf8')) as unknown[][]
  return rows.slice(1).map((r) => ({
    height: r[0] as number,
    blockHash: hexToHash(r[1] as string),
    block: parseBlock(fromHex(r[2] as string)),
    prevScripts: (r[3] as string[]).map(fromHex),
    prevHeader: hexToHash(r[4] as string),
    filter: fromHex(r[5] as string),
    header: hexToHash(r[6] as string),
    notes: r[7] as string,
  }))
}
