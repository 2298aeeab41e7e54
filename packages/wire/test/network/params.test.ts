import { describe, expect, it } from 'vitest'
import { blockHash } from '../../src/block/header.js'
import { bytesEqual, concatBytes, hashToHex } from '../../src/bytes/hex.js'
import { sha256d } from '../../src/hash/sha256.js'
import { bitsToTarget, checkProofOfWork, hashToBigInt, targetToBits } from '../../src/network/pow.js'
import {
  BITCOIN_MAX_BLOCK_BYTES,
  BITCOIN_MAX_MESSAGE_BYTES,
  bsv,
  mainnet,
  networkByMagic,
  networkByName,
  NETWORKS,
  regtest,
  signet,
  testnet3,
  testnet4,
  type NetworkParams,
} from '../../src/network/params.js'

// Genesis hashes as Bitcoin Core asserts them in chainparams.cpp (BSV: its
// chainparams.cpp asserts Bitcoin's). Written out here, independent of the
// params module, so a wrong header field in params.ts fails the test.
const KNOWN_GENESIS: Record<string, string> = {
  mainnet: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  testnet3: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  testnet4: '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043',
  signet: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  regtest: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
  bsv: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
}

// btcd wire/protocol.go BitcoinNet constants (MainNet, TestNet3, TestNet4,
// SigNet for the default challenge, TestNet = regtest) and BSV's netMagic
// e3e1f3e8 read little-endian.
const KNOWN_MAGIC_U32: Record<string, number> = {
  mainnet: 0xd9b4bef9,
  testnet3: 0x0709110b,
  testnet4: 0x283f161c,
  signet: 0x40cf030a,
  regtest: 0xdab5bffa,
  bsv: 0xe8f3e1e3,
}

const KNOWN_PORT: Record<string, number> = {
  mainnet: 8333,
  testnet3: 18333,
  testnet4: 48333,
  signet: 38333,
  regtest: 18444,
  bsv: 8333,
}

describe('NETWORKS', () => {
  it('lists the six built-in networks in a fixed order', () => {
    expect(NETWORKS.map((n) => n.name)).toEqual(['mainnet', 'testnet3', 'testnet4', 'signet', 'regtest', 'bsv'])
    expect(NETWORKS).toEqual([mainnet, testnet3, testnet4, signet, regtest, bsv])
  })
})

describe.each(NETWORKS.map((n) => [n.name, n] as const))('%s', (name, net: NetworkParams) => {
  it('genesis header hashes to the known genesis hash', () => {
    const h = blockHash(net.genesis)
    expect(hashToHex(h)).toBe(KNOWN_GENESIS[name])
    expect(bytesEqual(h, net.genesisHash)).toBe(true)
    expect(net.genesisHashHex).toBe(KNOWN_GENESIS[name])
  })

  it('genesis header is a version-1 block with no parent', () => {
    expect(net.genesis.version).toBe(1)
    expect(net.genesis.prevBlock).toEqual(new Uint8Array(32))
  })

  it('genesis meets its own proof of work and the network powLimit', () => {
    const r = checkProofOfWork(net.genesisHash, net.genesis.bits, net)
    expect(r.ok).toBe(true)
    // Every genesis is mined at the network's minimum difficulty.
    expect(net.genesis.bits).toBe(net.powLimitBits)
  })

  it('powLimitBits is the compact form of powLimit', () => {
    expect(targetToBits(net.powLimit)).toBe(net.powLimitBits)
    const t = bitsToTarget(net.powLimitBits)
    expect(t.negative || t.overflow).toBe(false)
    expect(t.target <= net.powLimit).toBe(true)
  })

  it('has the known magic bytes, u32 and port', () => {
    expect(net.magicU32).toBe(KNOWN_MAGIC_U32[name])
    const le = new Uint8Array(4)
    new DataView(le.buffer).setUint32(0, net.magicU32, true)
    expect(net.magic).toEqual(le)
    expect(net.defaultPort).toBe(KNOWN_PORT[name])
  })

  it('is found by networkByMagic (bytes and u32) and by networkByName', () => {
    expect(networkByMagic(net.magic)).toBe(net)
    expect(networkByMagic(Uint8Array.from(net.magic))).toBe(net)
    expect(networkByMagic(net.magicU32)).toBe(net)
    expect(networkByName(name)).toBe(net)
  })

  it('retarget interval is timespan / spacing', () => {
    expect(net.retargetInterval * net.targetSpacing).toBe(net.targetTimespan)
    expect(net.targetSpacing).toBe(600)
    expect(net.targetTimespan).toBe(14 * 24 * 60 * 60)
    expect(net.retargetInterval).toBe(2016)
  })

  it('checkpoints ascend and every hash is a plausible block hash (meets powLimit)', () => {
    expect(net.checkpoints.length).toBeGreaterThan(0)
    for (let i = 0; i < net.checkpoints.length; i++) {
      const cp = net.checkpoints[i]!
      expect(cp.hash.length).toBe(32)
      if (i > 0) expect(cp.height).toBeGreaterThan(net.checkpoints[i - 1]!.height)
      // A byte-order slip would put the zeros at the wrong end and fail this.
      expect(hashToBigInt(cp.hash) <= net.powLimit, `checkpoint ${cp.height}`).toBe(true)
    }
    if (net.bip34Hash) expect(hashToBigInt(net.bip34Hash) <= net.powLimit).toBe(true)
  })

  it('activation heights are ordered as deployed', () => {
    // BIP34 (2013), BIP66 (2015) and BIP65 (2015) all came before CSV (2016), segwit (2017) and taproot (2021).
    expect(net.csvHeight).toBeGreaterThanOrEqual(Math.max(net.bip34Height, net.bip65Height, net.bip66Height))
    if (net.segwitHeight !== undefined && net.segwitHeight > 0) expect(net.segwitHeight).toBeGreaterThanOrEqual(net.csvHeight)
    if (net.taprootHeight !== undefined && net.taprootHeight > 0) expect(net.taprootHeight).toBeGreaterThan(net.segwitHeight!)
  })

  it('is deeply frozen (apart from byte arrays)', () => {
    expect(Object.isFrozen(net)).toBe(true)
    expect(Object.isFrozen(net.genesis)).toBe(true)
    expect(Object.isFrozen(net.checkpoints)).toBe(true)
    expect(Object.isFrozen(net.dnsSeeds)).toBe(true)
    for (const cp of net.checkpoints) expect(Object.isFrozen(cp)).toBe(true)
    expect(() => {
      ;(net as { defaultPort: number }).defaultPort = 1
    }).toThrow(TypeError)
    expect(net.defaultPort).toBe(KNOWN_PORT[name])
  })

  it('DNS seeds are bare host names', () => {
    for (const s of net.dnsSeeds) expect(s).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/)
  })
})

describe('network specifics', () => {
  it('networkByMagic and networkByName return undefined for strangers', () => {
    expect(networkByMagic(Uint8Array.of(1, 2, 3, 4))).toBeUndefined()
    expect(networkByMagic(0x01020304)).toBeUndefined()
    expect(networkByMagic(Uint8Array.of(0xf9, 0xbe, 0xb4))).toBeUndefined()
    expect(networkByMagic(Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9, 0x00))).toBeUndefined()
    expect(networkByName('testnet')).toBeUndefined()
    expect(networkByName('MAINNET')).toBeUndefined()
  })

  it('signet magic is the first 4 bytes of sha256d(len || challenge) (BIP325)', () => {
    const challenge = signet.signetChallenge!
    expect(challenge.length).toBe(71)
    const digest = sha256d(concatBytes(Uint8Array.of(challenge.length), challenge))
    expect(signet.magic).toEqual(digest.subarray(0, 4))
  })

  it('only signet has a challenge; only testnet4 enforces BIP94; only regtest does not retarget', () => {
    expect(NETWORKS.filter((n) => n.signetChallenge !== undefined)).toEqual([signet])
    expect(NETWORKS.filter((n) => n.enforceBip94)).toEqual([testnet4])
    expect(NETWORKS.filter((n) => n.noRetargeting)).toEqual([regtest])
    expect(NETWORKS.filter((n) => n.allowMinDifficultyBlocks)).toEqual([testnet3, testnet4, regtest])
  })

  it('regtest checkpoint 0 is its genesis', () => {
    expect(regtest.checkpoints[0]!.height).toBe(0)
    expect(bytesEqual(regtest.checkpoints[0]!.hash, regtest.genesisHash)).toBe(true)
  })

  it('Bitcoin networks use Core limits; BSV alone allows extended messages and > 4 GB blocks', () => {
    for (const n of [mainnet, testnet3, testnet4, signet, regtest]) {
      expect(n.maxMessageBytes).toBe(4_000_000)
      expect(n.maxBlockPayload).toBe(4_000_000)
      expect(n.supportsExtMsg).toBe(false)
    }
    expect(BITCOIN_MAX_MESSAGE_BYTES).toBe(4_000_000)
    expect(BITCOIN_MAX_BLOCK_BYTES).toBe(4_000_000)
    expect(bsv.supportsExtMsg).toBe(true)
    expect(bsv.maxBlockPayload).toBeGreaterThan(0xffffffff)
    expect(bsv.maxMessageBytes).toBeGreaterThanOrEqual(bsv.maxBlockPayload)
    expect(Number.isSafeInteger(bsv.maxMessageBytes)).toBe(true)
  })

  it('BSV shares Bitcoin genesis but not its magic, segwit or bech32', () => {
    expect(bytesEqual(bsv.genesisHash, mainnet.genesisHash)).toBe(true)
    expect(bytesEqual(bsv.magic, mainnet.magic)).toBe(false)
    expect(bsv.segwitHeight).toBeUndefined()
    expect(bsv.bech32Hrp).toBeUndefined()
    expect(bsv.difficultyAdjustment).toBe('bsv-daa')
  })

  it('bech32 prefixes follow BIP173 / Core', () => {
    expect([mainnet, testnet3, testnet4, signet, regtest].map((n) => n.bech32Hrp)).toEqual(['bc', 'tb', 'tb', 'tb', 'bcrt'])
  })

  it('base58 version bytes follow Core: 0/5 on mainnet (and BSV), 111/196 on every test network', () => {
    expect(NETWORKS.map((n) => [n.name, n.base58PubKeyHashPrefix, n.base58ScriptHashPrefix])).toEqual([
      ['mainnet', 0, 5],
      ['testnet3', 111, 196],
      ['testnet4', 111, 196],
      ['signet', 111, 196],
      ['regtest', 111, 196],
      ['bsv', 0, 5],
    ])
  })

  it('mainnet minimum chain work is far beyond genesis work; regtest has none', () => {
    expect(mainnet.minimumChainWork > 1n << 80n).toBe(true)
    expect(regtest.minimumChainWork).toBe(0n)
  })
})
