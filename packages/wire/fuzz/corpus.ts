/**
 * Seeds for the fuzzer and the round-trip property test: a valid payload of
 * every message type (several for the types with optional parts or wire
 * forms the typed fields cannot say alone), and small valid blocks. Given
 * real blocks (shared/data/blocks), transactions, headers, compact blocks
 * and merkle blocks are also cut from them.
 *
 * `uncoveredCommands` lets a test check that a codec added to the registry
 * gets seeds here too.
 */
import {
  type Block,
  blockHash,
  blockTxids,
  fromHex,
  type KnownMessage,
  parseBlock,
  serializeBlock,
  type Transaction,
  txid,
  wtxid,
} from '../src/index.js'
import { CODECS, type CodecContext, DEFAULT_CODEC_CONTEXT, encodePayload, ipv4Mapped } from '../src/codecs.js'
import { blockWtxids, witnessCommitment } from '../src/consensus.js'
import { buildPartialMerkleTree } from '../src/filters.js'
import { merkleRoot, shortId, shortIdKey, witnessMerkleRoot } from '../src/hash.js'

/** One seed: a command and a payload its codec decodes. */
export interface Sample {
  readonly command: string
  readonly payload: Uint8Array
}

const ZERO32 = new Uint8Array(32)
const h32 = (b: number): Uint8Array => new Uint8Array(32).fill(b)

const NET_ADDR = { services: 1033n, host: ipv4Mapped(Uint8Array.of(127, 0, 0, 1)), port: 8333 }
const NET_ADDR_V6 = { services: 0n, host: fromHex('20010db8000000000000000000000001'), port: 18444 }

/** A legacy transaction: one input, two outputs. */
export const LEGACY_TX: Transaction = {
  version: 1,
  inputs: [{ prevout: { txid: h32(0x11), index: 3 }, scriptSig: fromHex('483045022100aa0201ff'), sequence: 0xfffffffe, witness: [] }],
  outputs: [
    { value: 5_000_000n, scriptPubKey: fromHex('76a914' + '22'.repeat(20) + '88ac') },
    { value: 0n, scriptPubKey: fromHex('6a0568656c6c6f') },
  ],
  locktime: 500_000,
}

/** A segwit transaction: two inputs, one with a witness stack, one without. */
export const SEGWIT_TX: Transaction = {
  version: 2,
  inputs: [
    { prevout: { txid: h32(0x33), index: 0 }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [fromHex('3044'), new Uint8Array(0), fromHex('02' + '44'.repeat(32))] },
    { prevout: { txid: h32(0x55), index: 1 }, scriptSig: fromHex('00'), sequence: 0, witness: [] },
  ],
  outputs: [{ value: 2_100_000_000_000_000n, scriptPubKey: fromHex('0014' + '66'.repeat(20)) }],
  locktime: 0,
}

/** A valid block of `txs` after a coinbase at `height`, with merkle root and (when needed) witness commitment. */
export function syntheticBlock(height: number, txs: readonly Transaction[]): Block {
  const anyWitness = txs.some((t) => t.inputs.some((i) => i.witness.length > 0))
  const heightPush = fromHex('03' + [height & 0xff, (height >> 8) & 0xff, (height >> 16) & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(''))
  const reserved = new Uint8Array(32)
  const coinbaseOf = (commitment?: Uint8Array): Transaction => ({
    version: 2,
    inputs: [{ prevout: { txid: ZERO32, index: 0xffffffff }, scriptSig: heightPush, sequence: 0xffffffff, witness: anyWitness ? [reserved] : [] }],
    outputs: [
      { value: 625_000_000n, scriptPubKey: fromHex('0014' + '77'.repeat(20)) },
      ...(commitment ? [{ value: 0n, scriptPubKey: Uint8Array.from([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed, ...commitment]) }] : []),
    ],
    locktime: 0,
  })
  let coinbase = coinbaseOf()
  if (anyWitness) {
    // The coinbase's own wtxid is taken as zeros, so the commitment does not depend on itself.
    const root = witnessMerkleRoot([ZERO32, ...txs.map(wtxid)])
    coinbase = coinbaseOf(witnessCommitment(root, reserved))
  }
  const all = [coinbase, ...txs]
  return {
    header: { version: 0x20000000, prevBlock: h32(0x99), merkleRoot: merkleRoot(all.map(txid)), time: 1_700_000_000, bits: 0x207fffff, nonce: 7 },
    txs: all,
  }
}

/** Small valid blocks: coinbase only, legacy, segwit. */
export function syntheticBlocks(): Uint8Array[] {
  return [syntheticBlock(17, []), syntheticBlock(300, [LEGACY_TX]), syntheticBlock(70_000, [LEGACY_TX, SEGWIT_TX])].map(serializeBlock)
}

/** Typed messages of every command, built by hand. */
export function handMessages(): KnownMessage[] {
  const header = syntheticBlock(5, []).header
  const block = syntheticBlock(300, [LEGACY_TX, SEGWIT_TX])
  const ids = block.txs.map(txid)
  const key = shortIdKey(header, 0x1122334455667788n)
  const tree = buildPartialMerkleTree(ids, [false, true, false])
  return [
    {
      command: 'version',
      version: 70016,
      services: 0x409n,
      timestamp: 1_713_951_872n,
      addrRecv: NET_ADDR,
      addrFrom: NET_ADDR_V6,
      nonce: 0xdeadbeefcafebaben,
      userAgent: '/Satoshi:27.0.0/',
      startHeight: 840_000,
      relay: true,
    },
    { command: 'version', version: 70001, services: 0n, timestamp: -1n, addrRecv: NET_ADDR, addrFrom: NET_ADDR, nonce: 1n, userAgent: '', startHeight: 0, relay: false },
    { command: 'verack' },
    { command: 'ping', nonce: 0x0102030405060708n },
    { command: 'pong', nonce: 42n },
    { command: 'getaddr' },
    {
      command: 'addr',
      addresses: [
        { time: 1_700_000_000, ...NET_ADDR },
        { time: 0, ...NET_ADDR_V6 },
      ],
    },
    {
      command: 'addrv2',
      addresses: [
        { time: 1, services: 9n, networkId: 1, addr: Uint8Array.of(1, 2, 3, 4), port: 8333 },
        { time: 2, services: (1n << 64n) - 1n, networkId: 4, addr: h32(0xab), port: 9050 },
        { time: 3, services: 0n, networkId: 6, addr: fromHex('fc000001000200030004000500060007'), port: 1 },
      ],
      skipped: 0,
    },
    { command: 'sendaddrv2' },
    { command: 'inv', items: [{ type: 1, hash: ids[1]! }, { type: 0x40000002, hash: h32(3) }] },
    { command: 'getdata', items: [{ type: 5, hash: ids[2]! }] },
    { command: 'notfound', items: [{ type: 0xdeadbeef, hash: ZERO32 }] },
    { command: 'getblocks', version: 70016, locator: [h32(1), h32(2)], hashStop: ZERO32 },
    { command: 'getheaders', version: 70016, locator: [h32(4)], hashStop: h32(5) },
    { command: 'headers', headers: [header, block.header] },
    { command: 'sendheaders' },
    { command: 'tx', tx: LEGACY_TX },
    { command: 'tx', tx: SEGWIT_TX },
    { command: 'block', block },
    { command: 'mempool' },
    { command: 'reject', message: 'tx', ccode: 0x10, reason: 'bad-txns-inputs-missingorspent', data: ids[1]! },
    { command: 'reject', message: 'version', ccode: 0x11, reason: 'Version must be 31800 or greater' },
    { command: 'feefilter', feerate: 1000n },
    { command: 'sendcmpct', announce: true, version: 2n },
    {
      command: 'cmpctblock',
      header: block.header,
      nonce: 0x1122334455667788n,
      shortIds: [shortId(key, wtxid(LEGACY_TX)), shortId(key, wtxid(SEGWIT_TX))],
      prefilledTxs: [{ index: 0, tx: block.txs[0]! }],
    },
    { command: 'getblocktxn', blockHash: blockHash(block.header), indexes: [1, 2, 300] },
    { command: 'blocktxn', blockHash: blockHash(block.header), txs: [LEGACY_TX, SEGWIT_TX] },
    { command: 'filterload', filter: fromHex('b50f'), nHashFuncs: 11, nTweak: 0, nFlags: 1 },
    { command: 'filteradd', data: h32(7) },
    { command: 'filterclear' },
    { command: 'merkleblock', header: block.header, totalTxs: tree.totalTxs, hashes: tree.hashes, flags: tree.flags },
    { command: 'getcfilters', filterType: 0, startHeight: 100, stopHash: h32(8) },
    { command: 'cfilter', filterType: 0, blockHash: h32(9), filter: fromHex('0301020304050607') },
    { command: 'getcfheaders', filterType: 0, startHeight: 0, stopHash: h32(10) },
    { command: 'cfheaders', filterType: 0, stopHash: h32(11), prevFilterHeader: ZERO32, filterHashes: [h32(12), h32(13)] },
    { command: 'getcfcheckpt', filterType: 0, stopHash: h32(14) },
    { command: 'cfcheckpt', filterType: 0, stopHash: h32(15), filterHeaders: [h32(16)] },
    { command: 'wtxidrelay' },
    { command: 'sendtxrcncl', version: 1, salt: 0xfedcba9876543210n },
  ]
}

/**
 * Payloads in wire forms a message built by hand does not produce: the
 * lossy spots a decoder must remember to re-encode byte for byte.
 */
const WIRE_FORMS: readonly [string, string][] = [
  // version, 200-byte user agent of invalid UTF-8 (0xff repeated), relay 1.
  [
    'version',
    '80110100' + '0904000000000000' + '00e1f50500000000' + '00'.repeat(26) + '00'.repeat(26) + '0100000000000000' + 'c8' + 'ff'.repeat(200) + '40d10c00' + '01',
  ],
  // version with relay byte 2 (reads as true).
  ['version', '80110100' + '0100000000000000' + '0000000000000000' + '00'.repeat(52) + '0000000000000000' + '00' + '00000000' + '02'],
  // version without the relay byte (pre-BIP37 form of a 70001+ peer).
  ['version', '80110100' + '0100000000000000' + '0000000000000000' + '00'.repeat(52) + '0000000000000000' + '03616263' + '05000000'],
  // version 60000 with relay byte 0 (not honoured before BIP37).
  ['version', '60ea0000' + '0100000000000000' + '0000000000000000' + '00'.repeat(52) + '0000000000000000' + '00' + '05000000' + '00'],
  // Legacy versions: 105 stops after addrRecv, 106 after the nonce, 200 after the user agent.
  ['version', '69000000' + '0100000000000000' + '0000000000000000' + '00'.repeat(26)],
  ['version', '6a000000' + '0100000000000000' + '0000000000000000' + '00'.repeat(52) + '0700000000000000'],
  ['version', 'c8000000' + '0100000000000000' + '0000000000000000' + '00'.repeat(52) + '0700000000000000' + '02c0af'],
  // reject with invalid UTF-8 message and reason (the regtest frame of issue 12).
  ['reject', '077665feffff112d11036f6c64'],
  // reject with a BOM-led reason and a hash.
  ['reject', '02747810' + '06efbbbf616263' + '11'.repeat(32)],
  // Empty (pre-BIP31) ping.
  ['ping', ''],
  // sendcmpct with announce byte 0x05.
  ['sendcmpct', '05' + '0200000000000000'],
  // addrv2 with skipped entries between usable ones: unknown network, Tor v2, IPv4-mapped IPv6.
  [
    'addrv2',
    '05' +
      '01000000' + '00' + 'aa' + '02' + 'abcd' + '0001' +
      '02000000' + '01' + '01' + '04' + '7f000001' + '208d' +
      '03000000' + '00' + '03' + '0a' + 'f1f2f3f4f5f6f7f8f9fa' + '0002' +
      '04000000' + 'fd0001' + '02' + '10' + '00000000000000000000ffff01020304' + '0003' +
      '05000000' + '01' + '05' + '20' + '55'.repeat(32) + '0000',
  ],
]

/** Messages cut from real blocks: headers, transactions, compact and merkle blocks. */
function realMessages(blocks: readonly Uint8Array[]): KnownMessage[] {
  const out: KnownMessage[] = []
  const parsed = blocks.map((b) => parseBlock(b))
  if (parsed.length > 0) out.push({ command: 'headers', headers: parsed.map((b) => b.header) })
  for (const block of parsed) {
    const txids = blockTxids(block)
    const wtxids = blockWtxids(block)
    // The coinbase, the first segwit transaction and the first legacy one after it.
    const picks = [0, block.txs.findIndex((t, i) => i > 0 && t.inputs.some((x) => x.witness.length > 0)), block.txs.length > 1 ? 1 : -1]
    for (const i of new Set(picks)) if (i >= 0) out.push({ command: 'tx', tx: block.txs[i]! })
    const nonce = 0x0102030405060708n
    const key = shortIdKey(block.header, nonce)
    const n = Math.min(block.txs.length, 200)
    out.push({
      command: 'cmpctblock',
      header: block.header,
      nonce,
      shortIds: wtxids.slice(1, n).map((w) => shortId(key, w)),
      prefilledTxs: [{ index: 0, tx: block.txs[0]! }],
    })
    const matches = txids.map((_, i) => i % 7 === 3)
    const tree = buildPartialMerkleTree(txids, matches)
    out.push({ command: 'merkleblock', header: block.header, totalTxs: tree.totalTxs, hashes: tree.hashes, flags: tree.flags })
    out.push({ command: 'blocktxn', blockHash: blockHash(block.header), txs: block.txs.slice(0, Math.min(3, block.txs.length)) })
    out.push({ command: 'inv', items: txids.slice(0, 50).map((hash) => ({ type: 1, hash })) })
  }
  return out
}

/**
 * Seeds of every command: hand-built messages, the raw wire forms above,
 * and (given real blocks) messages cut from them. Blocks themselves are
 * seeds of 'block' when no larger than `maxBlockSeedBytes`.
 */
export function messageSamples(realBlocks: readonly Uint8Array[] = [], maxBlockSeedBytes = 64 * 1024, ctx: CodecContext = DEFAULT_CODEC_CONTEXT): Sample[] {
  const out: Sample[] = []
  for (const m of [...handMessages(), ...realMessages(realBlocks)]) out.push({ command: m.command, payload: encodePayload(m, ctx) })
  for (const [command, hex] of WIRE_FORMS) out.push({ command, payload: fromHex(hex) })
  for (const b of realBlocks) if (b.length <= maxBlockSeedBytes) out.push({ command: 'block', payload: b })
  return out
}

/** Commands of the registry without a seed in `samples` (empty when every codec is covered). */
export function uncoveredCommands(samples: readonly Sample[]): string[] {
  const have = new Set(samples.map((s) => s.command))
  return CODECS.map((c) => c.command).filter((c) => !have.has(c))
}
