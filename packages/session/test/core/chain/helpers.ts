/**
 * Test helpers: mine real headers at easy difficulty, and the test networks
 * built from the real parameter objects.
 */
import { blockHash, regtest, serializeBlockHeader } from '@bitp2p/wire'
import { bitsToTarget, hashToBigInt } from '@bitp2p/wire/consensus'
import { sha256d } from '@bitp2p/wire/hash'
import type { BlockHeader, NetworkParams } from '@bitp2p/wire'

/** A merkle root that makes headers of different tests differ: 32 bytes of `tag`. */
export function root(tag: number): Uint8Array {
  return new Uint8Array(32).fill(tag & 0xff)
}

/**
 * Mines a header on `prevHash` with the given fields: loops the nonce until
 * sha256d(header) <= target(bits). At regtest's 0x207fffff about one try in
 * two succeeds.
 */
export function mine(prevHash: Uint8Array, fields: { time: number; bits: number; version?: number; tag?: number }): BlockHeader {
  const target = bitsToTarget(fields.bits).target
  for (let nonce = 0; nonce < 0x100000000; nonce++) {
    const h: BlockHeader = {
      version: fields.version ?? 4,
      prevBlock: prevHash,
      merkleRoot: root(fields.tag ?? 0),
      time: fields.time,
      bits: fields.bits,
      nonce,
    }
    if (hashToBigInt(sha256d(serializeBlockHeader(h))) <= target) return h
  }
  throw new Error('no nonce found')
}

/** Like `mine` but the hash must be ABOVE the target: a header that fails proof of work. */
export function mineInvalid(prevHash: Uint8Array, fields: { time: number; bits: number; version?: number }): BlockHeader {
  const target = bitsToTarget(fields.bits).target
  for (let nonce = 0; ; nonce++) {
    const h: BlockHeader = { version: fields.version ?? 4, prevBlock: prevHash, merkleRoot: root(0xee), time: fields.time, bits: fields.bits, nonce }
    if (hashToBigInt(blockHash(h)) > target) return h
  }
}

/**
 * Mines `n` headers on `parent`, `spacing` seconds apart. `bits` is fixed
 * (regtest-style networks) unless a function gives it per height.
 */
export function mineChain(
  parent: BlockHeader,
  parentHeight: number,
  n: number,
  opts: { spacing?: number; bits?: number | ((height: number, time: number) => number); tag?: number; version?: number } = {},
): BlockHeader[] {
  const out: BlockHeader[] = []
  let prev = parent
  for (let i = 1; i <= n; i++) {
    const time = prev.time + (opts.spacing ?? 600)
    const height = parentHeight + i
    const bits = typeof opts.bits === 'function' ? opts.bits(height, time) : (opts.bits ?? prev.bits)
    const h = mine(blockHash(prev), { time, bits, tag: opts.tag ?? 0, ...(opts.version === undefined ? {} : { version: opts.version }) })
    out.push(h)
    prev = h
  }
  return out
}

/**
 * "fastnet": a test network with the real retarget rules but a retarget
 * every 4 blocks, 1-second spacing and a powLimit of bits 0x2007ffff (a
 * hash passes about one try in 32), so different branches get different
 * difficulty, and so different work, in a few mined headers. Its genesis is
 * mined here. 4 s x 4 (the clamp) x 2^251 stays below 2^256, so the
 * retarget arithmetic never wraps.
 */
export function fastnet(overrides: Partial<NetworkParams> = {}): NetworkParams {
  const powLimitBits = 0x2007ffff
  const genesis = mine(new Uint8Array(32), { time: 1_700_000_000, bits: powLimitBits, version: 1, tag: 0xfa })
  return {
    ...regtest,
    name: 'fastnet',
    genesis,
    genesisHash: blockHash(genesis),
    powLimit: bitsToTarget(powLimitBits).target,
    powLimitBits,
    targetSpacing: 1,
    targetTimespan: 4,
    retargetInterval: 4,
    allowMinDifficultyBlocks: false,
    noRetargeting: false,
    enforceBip94: false,
    bip34Height: 0,
    bip65Height: 0,
    bip66Height: 0,
    checkpoints: [],
    ...overrides,
  } as NetworkParams
}
