import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteReader } from '../../src/bytes/reader.js'
import { fromHex, hashToHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { sha256dPair } from '../../src/hash/sha256.js'
import { decodeBlockHeader } from '../../src/block/header.js'
import { decodeTx } from '../../src/tx/codec.js'
import { txid } from '../../src/tx/id.js'
import { BloomFilter, BloomFlags } from '../../src/block/bloom-filter.js'
import {
  buildPartialMerkleTree,
  extractMatches,
  MAX_MERKLE_BLOCK_TXS,
  verifyMerkleBlock,
} from '../../src/block/partial-merkle.js'
import { errorOf, expectOnlyWireError } from '../util.js'

/** The block merkle root, computed level by level (an independent check of the tree code). */
function merkleRoot(txids: readonly Uint8Array[]): Uint8Array {
  let level = txids.slice()
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) next.push(sha256dPair(level[i]!, level[i + 1] ?? level[i]!))
    level = next
  }
  return level[0]!
}

/** Parse the partial-tree part of a merkleblock payload by hand (header | u32 | hashes | flags). */
function parseMerkleblockHex(hex: string) {
  const r = new ByteReader(fromHex(hex))
  const header = decodeBlockHeader(r)
  const totalTxs = r.u32le()
  const n = r.compactSize()
  const hashes: Uint8Array[] = []
  for (let i = 0; i < n; i++) hashes.push(r.hash())
  const flags = r.varBytes(100, 'flags')
  r.done()
  return { header, totalTxs, hashes, flags }
}

// The merkleblock example of the bitcoin.org developer reference
// (https://bitcoin.org/en/developer-reference#merkleblock, block 100014,
// 000000000000b731f2eef9e8c63173adfb07e41bd53eb0ef0a6b720d6cb6dea4); also the
// fixture of bitcoin-s RawMerkleBlockMessageSerializerTest. 7 transactions,
// 4 hashes, flags 0x1d = bits 1 0 1 1 1 0 0 (+1 padding bit): root -> left
// half by hash #1 -> right half: pair (4, 5) -> leaf 4 matched (hash #2),
// leaf 5 (hash #3); node above leaf 6 by hash #4.
const DEVREF_MERKLEBLOCK =
  '0100000082bb869cf3a793432a66e826e05a6fc37469f8efb7421dc880670100000000007f16c5962e8bd963659c793ce370d95f093bc7e367117b3c30c1f8fdd0d9728776381b4d4c86041b554b8529' +
  '07000000' +
  '04' +
  '3612262624047ee87660be1a707519a443b1c1ce3d248cbfc6c15870f6c5daa2' +
  '019f5b01d4195ecbc9398fbf3c3b1fa9bb3183301d7a1fb3bd174fcfa40a2b65' +
  '41ed70551dd7e841883ab8f0b16bf04176b7d1480e4f0af9f3d4c3595768d068' +
  '20d2a7bc994987302e5b1ac80fc425fe25f8b63169ea78e68fbaaefa59379bbf' +
  '01' +
  '1d'

// Bitcoin Core src/test/bloom_tests.cpp merkle_block_3_and_serialize: block
// 000000000000dab0130bbcc991d3d7ae6b81aa6f50a798888dfe62337458dc45 with one
// transaction, matched; Core's serialization of the CMerkleBlock.
const CORE_MERKLEBLOCK_1TX =
  '0100000079cda856b143d9db2c1caff01d1aecc8630d30625d10e8b4b8b0000000000000b50cc069d6a3e33e3ff84a5c41d9d3febe7c770fdcc96b2c3ff60abe184f196367291b4d4c86041b8fa45d63' +
  '01000000' +
  '01' +
  'b50cc069d6a3e33e3ff84a5c41d9d3febe7c770fdcc96b2c3ff60abe184f1963' +
  '01' +
  '01'

describe('extractMatches: real merkleblocks', () => {
  it('bitcoin.org example: root = header merkle root, tx 652b0aa4... matched at index 4', () => {
    const mb = parseMerkleblockHex(DEVREF_MERKLEBLOCK)
    const { root, matched } = extractMatches(mb.totalTxs, mb.hashes, mb.flags)
    expect(hashToHex(root)).toBe('8772d9d0fdf8c1303c7b1167e3c73b095fd970e33c799c6563d98b2e96c5167f')
    expect(toHex(root)).toBe(toHex(mb.header.merkleRoot))
    expect(matched.length).toBe(1)
    expect(matched[0]!.index).toBe(4)
    expect(hashToHex(matched[0]!.txid)).toBe('652b0aa4cf4f17bdb31f7a1d308331bba91f3b3cbf8f39c9cb5e19d4015b9f01')
    expect(verifyMerkleBlock(mb)).toEqual(matched)
  })

  it('Core merkle_block_3_and_serialize: the one transaction is its own root and is matched', () => {
    const mb = parseMerkleblockHex(CORE_MERKLEBLOCK_1TX)
    const { root, matched } = extractMatches(mb.totalTxs, mb.hashes, mb.flags)
    expect(toHex(root)).toBe(toHex(mb.header.merkleRoot))
    expect(matched).toEqual([{ txid: hexToHash('63194f18be0af63f2c6bc9dc0f777cbefed3d9415c4af83f3ee3a3d669c00cb5'), index: 0 }])
  })

  it('building the Core 1-tx tree reproduces Core\'s hashes and flags', () => {
    const mb = parseMerkleblockHex(CORE_MERKLEBLOCK_1TX)
    const t = buildPartialMerkleTree([hexToHash('63194f18be0af63f2c6bc9dc0f777cbefed3d9415c4af83f3ee3a3d669c00cb5')], [true])
    expect(t.totalTxs).toBe(1)
    expect(t.hashes.map(toHex)).toEqual(mb.hashes.map(toHex))
    expect(toHex(t.flags)).toBe('01')
  })

  it('accepts a set padding bit in the last flag byte (Core never reads it)', () => {
    // The walk reads 7 bits (1 0 1 1 1 0 0); bit 7 is padding.
    const mb = parseMerkleblockHex(DEVREF_MERKLEBLOCK)
    const { root, matched } = extractMatches(mb.totalTxs, mb.hashes, Uint8Array.of(0x1d | 0x80))
    expect(toHex(root)).toBe(toHex(mb.header.merkleRoot))
    expect(matched.map((m) => m.index)).toEqual([4])
  })

  it('verifyMerkleBlock rejects a tree whose root is not the header\'s (BAD_MERKLE_ROOT)', () => {
    const mb = parseMerkleblockHex(DEVREF_MERKLEBLOCK)
    const hashes = mb.hashes.slice()
    const h = hashes[2]!.slice()
    h[0]! ^= 1
    hashes[2] = h
    expect(errorOf(() => verifyMerkleBlock({ ...mb, hashes }))?.code).toBe('BAD_MERKLE_ROOT')
  })
})

// Block 100014 itself (Bitcoin Core src/test/bloom_tests.cpp merkle_block_4):
// the block the bitcoin.org merkleblock above was cut from.
const BLOCK_100014 = fromHex(
  '0100000082bb869cf3a793432a66e826e05a6fc37469f8efb7421dc880670100000000007f16c5962e8bd963659c793ce370d95f093bc7e367117b3c30c1f8fdd0d9728776381b4d4c8604' +
  '1b554b85290701000000010000000000000000000000000000000000000000000000000000000000000000ffffffff07044c86041b0136ffffffff0100f2052a01000000434104eaafc231' +
  '4def4ca98ac970241bcab022b9c1e1f4ea423a20f134c876f2c01ec0f0dd5b2e86e7168cefe0d81113c3807420ce13ad1357231a2252247d97a46a91ac000000000100000001bcad20a6a2' +
  '9827d1424f08989255120bf7f3e9e3cdaaa6bb31b0737fe048724300000000494830450220356e834b046cadc0f8ebb5a8a017b02de59c86305403dad52cd77b55af062ea10221009253cd' +
  '6c119d4729b77c978e1e2aa19f5ea6e0e52b3f16e32fa608cd5bab753901ffffffff02008d380c010000001976a9142b4b8072ecbba129b6453c63e129e643207249ca88ac0065cd1d0000' +
  '00001976a9141b8dd13b994bcfc787b32aeadf58ccb3615cbd5488ac000000000100000003fdacf9b3eb077412e7a968d2e4f11b9a9dee312d666187ed77ee7d26af16cb0b000000008c49' +
  '3046022100ea1608e70911ca0de5af51ba57ad23b9a51db8d28f82c53563c56a05c20f5a87022100a8bdc8b4a8acc8634c6b420410150775eb7f2474f5615f7fccd65af30f310fbf014104' +
  '65fdf49e29b06b9a1582287b6279014f834edc317695d125ef623c1cc3aaece245bd69fcad7508666e9c74a49dc9056d5fc14338ef38118dc4afae5fe2c585caffffffff309e1913634ecb' +
  '50f3c4f83e96e70b2df071b497b8973a3e75429df397b5af83000000004948304502202bdb79c596a9ffc24e96f4386199aba386e9bc7b6071516e2b51dda942b3a1ed022100c53a857e76' +
  'b724fc14d45311eac5019650d415c3abb5428f3aae16d8e69bec2301ffffffff2089e33491695080c9edc18a428f7d834db5b6d372df13ce2b1b0e0cbcb1e6c10000000049483045022100' +
  'd4ce67c5896ee251c810ac1ff9ceccd328b497c8f553ab6e08431e7d40bad6b5022033119c0c2b7d792d31f1187779c7bd95aefd93d90a715586d73801d9b47471c601ffffffff01007144' +
  '60030000001976a914c7b55141d097ea5df7a0ed330cf794376e53ec8d88ac0000000001000000045bf0e214aa4069a3e792ecee1e1bf0c1d397cde8dd08138f4b72a00681743447000000' +
  '008b48304502200c45de8c4f3e2c1821f2fc878cba97b1e6f8807d94930713aa1c86a67b9bf1e40221008581abfef2e30f957815fc89978423746b2086375ca8ecf359c85c2a5b7c88ad01' +
  '410462bb73f76ca0994fcb8b4271e6fb7561f5c0f9ca0cf6485261c4a0dc894f4ab844c6cdfb97cd0b60ffb5018ffd6238f4d87270efb1d3ae37079b794a92d7ec95ffffffffd669f7d795' +
  '8d40fc59d2253d88e0f248e29b599c80bbcec344a83dda5f9aa72c000000008a473044022078124c8beeaa825f9e0b30bff96e564dd859432f2d0cb3b72d3d5d93d38d7e930220691d233b' +
  '6c0f995be5acb03d70a7f7a65b6bc9bdd426260f38a1346669507a3601410462bb73f76ca0994fcb8b4271e6fb7561f5c0f9ca0cf6485261c4a0dc894f4ab844c6cdfb97cd0b60ffb5018f' +
  'fd6238f4d87270efb1d3ae37079b794a92d7ec95fffffffff878af0d93f5229a68166cf051fd372bb7a537232946e0a46f53636b4dafdaa4000000008c493046022100c717d1714551663f' +
  '69c3c5759bdbb3a0fcd3fab023abc0e522fe6440de35d8290221008d9cbe25bffc44af2b18e81c58eb37293fd7fe1c2e7b46fc37ee8c96c50ab1e201410462bb73f76ca0994fcb8b4271e6' +
  'fb7561f5c0f9ca0cf6485261c4a0dc894f4ab844c6cdfb97cd0b60ffb5018ffd6238f4d87270efb1d3ae37079b794a92d7ec95ffffffff27f2b668859cd7f2f894aa0fd2d9e60963bcd07c' +
  '88973f425f999b8cbfd7a1e2000000008c493046022100e00847147cbf517bcc2f502f3ddc6d284358d102ed20d47a8aa788a62f0db780022100d17b2d6fa84dcaf1c95d88d7e7c30385ae' +
  'cf415588d749afd3ec81f6022cecd701410462bb73f76ca0994fcb8b4271e6fb7561f5c0f9ca0cf6485261c4a0dc894f4ab844c6cdfb97cd0b60ffb5018ffd6238f4d87270efb1d3ae3707' +
  '9b794a92d7ec95ffffffff0100c817a8040000001976a914b6efd80d99179f4f4ff6f4dd0a007d018c385d2188ac000000000100000001834537b2f1ce8ef9373a258e10545ce5a50b758d' +
  'f616cd4356e0032554ebd3c4000000008b483045022100e68f422dd7c34fdce11eeb4509ddae38201773dd62f284e8aa9d96f85099d0b002202243bd399ff96b649a0fad05fa759d6a882f' +
  '0af8c90cf7632c2840c29070aec20141045e58067e815c2f464c6a2a15f987758374203895710c2d452442e28496ff38ba8f5fd901dc20e29e88477167fe4fc299bf818fd0d9e1632d467b' +
  '2a3d9503b1aaffffffff0280d7e636030000001976a914f34c3e10eb387efe872acb614c89e78bfca7815d88ac404b4c00000000001976a914a84e272933aaf87e1715d7786c51dfaeb5b6' +
  '5a6f88ac00000000010000000143ac81c8e6f6ef307dfe17f3d906d999e23e0189fda838c5510d850927e03ae7000000008c4930460221009c87c344760a64cb8ae6685a3eec2c1ac1bed5' +
  'b88c87de51acd0e124f266c16602210082d07c037359c3a257b5c63ebd90f5a5edf97b2ac1c434b08ca998839f346dd40141040ba7e521fa7946d12edbb1d1e95a15c34bd4398195e86433' +
  'c92b431cd315f455fe30032ede69cad9d1e1ed6c3c4ec0dbfced53438c625462afb792dcb098544bffffffff0240420f00000000001976a9144676d1b820d63ec272f1900d59d43bc6463d' +
  '96f888ac40420f00000000001976a914648d04341d00d7968b3405c034adc38d4d8fb9bd88ac00000000010000000248cc917501ea5c55f4a8d2009c0567c40cfe037c2e71af017d0a452f' +
  'f705e3f1000000008b483045022100bf5fdc86dc5f08a5d5c8e43a8c9d5b1ed8c65562e280007b52b133021acd9acc02205e325d613e555f772802bf413d36ba807892ed1a690a77811d30' +
  '33b3de226e0a01410429fa713b124484cb2bd7b5557b2c0b9df7b2b1fee61825eadc5ae6c37a9920d38bfccdc7dc3cb0c47d7b173dbc9db8d37db0a33ae487982c59c6f8606e9d1791ffff' +
  'ffff41ed70551dd7e841883ab8f0b16bf04176b7d1480e4f0af9f3d4c3595768d068000000008b4830450221008513ad65187b903aed1102d1d0c47688127658c51106753fed0151ce9c16' +
  'b80902201432b9ebcb87bd04ceb2de66035fbbaf4bf8b00d1cfe41f1a1f7338f9ad79d210141049d4cf80125bf50be1709f718c07ad15d0fc612b7da1f5570dddc35f2a352f0f27c978b06' +
  '820edca9ef982c35fda2d255afba340068c5035552368bc7200c1488ffffffff0100093d00000000001976a9148edb68822f1ad580b043c7b3df2e400f8699eb4888ac00000000',
)

function blockTxids(block: Uint8Array): Uint8Array[] {
  const r = new ByteReader(block)
  decodeBlockHeader(r)
  const n = r.compactSize()
  const ids: Uint8Array[] = []
  for (let i = 0; i < n; i++) ids.push(txid(decodeTx(r)))
  r.done('block')
  return ids
}

describe('buildPartialMerkleTree on block 100014', () => {
  const header = decodeBlockHeader(new ByteReader(BLOCK_100014))
  const txids = blockTxids(BLOCK_100014)

  it('the block has 7 transactions whose merkle root is the header\'s', () => {
    expect(txids.length).toBe(7)
    expect(toHex(merkleRoot(txids))).toBe(toHex(header.merkleRoot))
  })

  it('matching tx 4 gives exactly the hashes and flags of the bitcoin.org merkleblock', () => {
    const mb = parseMerkleblockHex(DEVREF_MERKLEBLOCK)
    const t = buildPartialMerkleTree(txids, txids.map((_, i) => i === 4))
    expect(t.totalTxs).toBe(7)
    expect(t.hashes.map(toHex)).toEqual(mb.hashes.map(toHex))
    expect(toHex(t.flags)).toBe(toHex(mb.flags))
  })

  it('Core merkle_block_4: a bloom filter on the last txid, then also the 4th, proves [6] then [3, 6]', () => {
    // CBloomFilter(10, 0.000001, 0, BLOOM_UPDATE_ALL), as in Core's test; matching by txid only.
    const filter = BloomFilter.create(10, 0.000001, 0, BloomFlags.UPDATE_ALL)
    filter.insert(hexToHash('0a2a92f0bda4727d0a13eaddf4dd9ac6b5c61a1429e6b2b818f19b15df0ac154'))
    const one = buildPartialMerkleTree(txids, txids.map((t) => filter.contains(t)))
    const r1 = extractMatches(one.totalTxs, one.hashes, one.flags)
    expect(r1.matched.map((m) => [m.index, hashToHex(m.txid)])).toEqual([[6, '0a2a92f0bda4727d0a13eaddf4dd9ac6b5c61a1429e6b2b818f19b15df0ac154']])
    expect(toHex(r1.root)).toBe(toHex(header.merkleRoot))

    filter.insert(hexToHash('02981fa052f0481dbc5868f4fc2166035a10f27a03cfd2de67326471df5bc041'))
    const two = buildPartialMerkleTree(txids, txids.map((t) => filter.contains(t)))
    const r2 = extractMatches(two.totalTxs, two.hashes, two.flags)
    expect(r2.matched.map((m) => [m.index, hashToHex(m.txid)])).toEqual([
      [3, '02981fa052f0481dbc5868f4fc2166035a10f27a03cfd2de67326471df5bc041'],
      [6, '0a2a92f0bda4727d0a13eaddf4dd9ac6b5c61a1429e6b2b818f19b15df0ac154'],
    ])
    expect(toHex(r2.root)).toBe(toHex(header.merkleRoot))
  })
})

describe('extractMatches: every Core check', () => {
  const mb = parseMerkleblockHex(DEVREF_MERKLEBLOCK)
  const expectInvalid = (f: () => unknown, field: string) => {
    const e = errorOf(f)
    expect(e?.code).toBe('INVALID_VALUE')
    expect(e?.detail.field).toBe(field)
  }

  it('total transaction count 0', () => {
    expectInvalid(() => extractMatches(0, mb.hashes, mb.flags), 'totalTxs')
  })
  it(`total transaction count above MAX_MERKLE_BLOCK_TXS (${MAX_MERKLE_BLOCK_TXS} = 4,000,000 / 240)`, () => {
    expect(MAX_MERKLE_BLOCK_TXS).toBe(16666)
    expectInvalid(() => extractMatches(MAX_MERKLE_BLOCK_TXS + 1, mb.hashes, mb.flags), 'MAX_MERKLE_BLOCK_TXS')
    expectInvalid(() => extractMatches(0xffffffff, mb.hashes, mb.flags), 'MAX_MERKLE_BLOCK_TXS')
  })
  it('more hashes than transactions', () => {
    expectInvalid(() => extractMatches(3, mb.hashes, mb.flags), 'hashes')
  })
  it('fewer flag bits than hashes', () => {
    const nine = Array.from({ length: 9 }, () => mb.hashes[0]!)
    expectInvalid(() => extractMatches(9, nine, Uint8Array.of(0xff)), 'flags')
  })
  it('the walk needs more flag bits than given', () => {
    // All ones: the walk descends to every leaf of the left half and wants a 9th bit.
    expectInvalid(() => extractMatches(7, mb.hashes, Uint8Array.of(0xff)), 'flags')
  })
  it('the walk needs more hashes than given', () => {
    expectInvalid(() => extractMatches(7, mb.hashes.slice(0, 3), mb.flags), 'hashes')
  })
  it('a hash left unused', () => {
    expectInvalid(() => extractMatches(7, [...mb.hashes, mb.hashes[0]!], mb.flags), 'hashes')
  })
  it('a whole flag byte left unused', () => {
    expectInvalid(() => extractMatches(7, mb.hashes, Uint8Array.of(0x1d, 0x00)), 'flags')
  })
  it('CVE-2012-2459: identical siblings, i.e. [a, b, c, c], which shares its root with [a, b, c]', () => {
    const [a, b, c] = [1, 2, 3].map((i) => new Uint8Array(32).fill(i))
    expect(toHex(merkleRoot([a!, b!, c!, c!]))).toBe(toHex(merkleRoot([a!, b!, c!])))
    const dup = buildPartialMerkleTree([a!, b!, c!, c!], [true, true, true, true])
    expectInvalid(() => extractMatches(dup.totalTxs, dup.hashes, dup.flags), 'hashes')
    const ok = buildPartialMerkleTree([a!, b!, c!], [true, true, true])
    expect(toHex(extractMatches(ok.totalTxs, ok.hashes, ok.flags).root)).toBe(toHex(merkleRoot([a!, b!, c!])))
  })
  it('a hash that is not 32 bytes', () => {
    expectInvalid(() => extractMatches(1, [new Uint8Array(31)], Uint8Array.of(1)), 'hashes')
  })
  it('honours a caller-given transaction limit (e.g. a larger-block profile)', () => {
    const t = buildPartialMerkleTree(
      Array.from({ length: 20 }, (_, i) => new Uint8Array(32).fill(i + 1)),
      Array.from({ length: 20 }, (_, i) => i === 7),
    )
    expectInvalid(() => extractMatches(t.totalTxs, t.hashes, t.flags, 19), 'MAX_MERKLE_BLOCK_TXS')
    expect(extractMatches(t.totalTxs, t.hashes, t.flags, 20).matched.map((m) => m.index)).toEqual([7])
  })
})

const txidSets = fc.uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 70, selector: toHex })

describe('buildPartialMerkleTree -> extractMatches', () => {
  it('round-trips: same root as the full tree, exactly the matched txids in block order', () => {
    fc.assert(
      fc.property(
        txidSets.chain((txids) => fc.tuple(fc.constant(txids), fc.array(fc.boolean(), { minLength: txids.length, maxLength: txids.length }))),
        ([txids, matches]) => {
          const t = buildPartialMerkleTree(txids, matches)
          const { root, matched } = extractMatches(t.totalTxs, t.hashes, t.flags)
          expect(toHex(root)).toBe(toHex(merkleRoot(txids)))
          const want = matches.flatMap((m, i) => (m ? [{ index: i, txid: toHex(txids[i]!) }] : []))
          expect(matched.map((m) => ({ index: m.index, txid: toHex(m.txid) }))).toEqual(want)
          // Never more hashes than transactions; flags only as long as needed.
          expect(t.hashes.length).toBeLessThanOrEqual(txids.length)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('no match: one hash (the root) and one zero flag bit', () => {
    const txids = Array.from({ length: 5 }, (_, i) => new Uint8Array(32).fill(i + 1))
    const t = buildPartialMerkleTree(txids, [false, false, false, false, false])
    expect(t.hashes.map(toHex)).toEqual([toHex(merkleRoot(txids))])
    expect(toHex(t.flags)).toBe('00')
    expect(extractMatches(5, t.hashes, t.flags).matched).toEqual([])
  })

  it('refuses to build from no txids, mismatched match flags or bad txid lengths', () => {
    expect(errorOf(() => buildPartialMerkleTree([], []))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => buildPartialMerkleTree([new Uint8Array(32)], []))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => buildPartialMerkleTree([new Uint8Array(20)], [true]))?.code).toBe('ENCODE_RANGE')
  })

  it('random hostile trees throw only WireError', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 40 }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 12 }),
        fc.uint8Array({ maxLength: 6 }),
        (n, hashes, flags) => {
          expectOnlyWireError(() => {
            const { matched } = extractMatches(n, hashes, flags)
            for (const m of matched) expect(m.index).toBeLessThan(n)
          })
        },
      ),
      { numRuns: 500 },
    )
  })
})
