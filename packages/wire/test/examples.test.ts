import { describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { tour } from '../examples/decode.js'

const BLOCK = new URL('../../../../shared/data/blocks/block482683.raw', import.meta.url)

describe('README example (examples/decode.ts)', () => {
  it.skipIf(!existsSync(BLOCK))('decodes the stream and the block as the README says (needs ../shared/data/blocks)', () => {
    const lines = tour(new Uint8Array(readFileSync(BLOCK)))
    expect(lines).toEqual([
      'version from /bitp2p:0.1.0/',
      'ping nonce 7',
      // Coinbase txid as bcoin@1.0.2 computes it for the same file.
      'block 000000000000000000c238240ef6dcb26c37e75e16514e6ffc0aef7eee73e747 has 12 txs, first a08b40a5bc30b5538d51c6bf385b59bf8ae5dc8c151a772e9c25cd64547bb395',
    ])
  })
})
