/**
 * Network parameters: one frozen object per network (magic, port, genesis,
 * proof-of-work rules, activation heights, seeds, checkpoints, size limits).
 *
 * Sources (values copied, code not):
 * - Bitcoin Core src/kernel/chainparams.cpp (master, 2025: CMainParams,
 *   CTestNetParams, CTestNet4Params, SigNetParams, CRegTestParams). Core
 *   removed its checkpoint table in 2025; the checkpoints below come from
 *   the last Core release that had one and from btcd chaincfg/params.go.
 * - BIP94 (Testnet 4) for testnet4's rules.
 * - Bitcoin SV src/chainparams.cpp, src/policy/policy.h, src/net/protocol.h
 *   and doc/release-notes-v1.0.10.md for the BSV profile.
 *
 * Hashes are held in internal byte order (as on the wire); the literals
 * below are display hex (reversed), as Core and explorers print them.
 *
 * Objects, arrays and headers are frozen. Uint8Array fields (magic, hashes,
 * the signet challenge) cannot be frozen by JavaScript: treat them as
 * read-only and copy before changing.
 */
import type { BlockHeader } from '../block/header.js'
import { fromHex, hexToHash } from '../bytes/hex.js'

// ---------------------------------------------------------------------------
// Limits

/** Core's MAX_PROTOCOL_MESSAGE_LENGTH (net.h): largest payload a Bitcoin peer accepts. */
export const BITCOIN_MAX_MESSAGE_BYTES = 4_000_000
/** Core's MAX_BLOCK_SERIALIZED_SIZE (consensus/consensus.h): a block with witness data. */
export const BITCOIN_MAX_BLOCK_BYTES = 4_000_000

/**
 * BSV block payload cap we pick: 10 GB (10^10 bytes).
 *
 * BSV has no protocol block size limit. Its node's -excessiveblocksize
 * default was 2 GB before and 4 GB - 1 MB after the Genesis upgrade
 * (policy.h MAIN_DEFAULT_MAX_BLOCK_SIZE_AFTER_GENESIS), and is INT64_MAX in
 * current releases. 10 GB is the setting Bitcoin Association advised
 * non-mining nodes to use (advisory of August 2021, "raise excessiveblocksize
 * to 10 GB"). Blocks over 4 GB need extended messages (extmsg, BSV 1.0.10).
 * Raise it in a copy of the profile if the network outgrows it.
 */
export const BSV_MAX_BLOCK_BYTES = 10_000_000_000

/**
 * BSV's DEFAULT_MAX_PROTOCOL_RECV_PAYLOAD_LENGTH (net/protocol.h): 2 MiB, the
 * default cap on non-block messages, announced to peers in 'protoconf'.
 */
export const BSV_DEFAULT_MAX_PROTOCOL_RECV_PAYLOAD = 2 * 1024 * 1024

/** BSV mainnet: Bitcoin Cash split (UAHF), EDA difficulty from here. */
export const BSV_UAHF_HEIGHT = 478_558
/** BSV mainnet: the per-block difficulty adjustment (DAA) from here. */
export const BSV_DAA_HEIGHT = 504_031
/** BSV mainnet: the "Genesis" upgrade (unbounded scripts, no P2SH). */
export const BSV_GENESIS_HEIGHT = 620_538

// ---------------------------------------------------------------------------
// Types

/** A known-good block: the header at `height` must hash to `hash`. */
export interface Checkpoint {
  readonly height: number
  /** Block hash, internal byte order (hashToHex gives the display form). */
  readonly hash: Uint8Array
}

/** How the network computes the next block's required target. */
export type DifficultyAdjustment =
  /** Bitcoin: retarget every retargetInterval blocks, clamped to 4x (plus the testnet and BIP94 rules). */
  | 'bitcoin'
  /**
   * BSV: Bitcoin's rule up to BSV_UAHF_HEIGHT, then the emergency adjustment
   * (EDA), then from BSV_DAA_HEIGHT a per-block adjustment over the last 144
   * blocks. The retarget fields describe only the first era.
   */
  | 'bsv-daa'

/** Everything we need to know about one network. */
export interface NetworkParams {
  /** Short name: 'mainnet', 'testnet3', 'testnet4', 'signet', 'regtest', 'bsv'. */
  readonly name: string
  /** The 4 magic bytes that start every frame (Core's pchMessageStart). */
  readonly magic: Uint8Array
  /** The same 4 bytes read as a little-endian u32 (btcd's BitcoinNet value). */
  readonly magicU32: number
  /** Default P2P TCP port. */
  readonly defaultPort: number

  /** The genesis block header. */
  readonly genesis: BlockHeader
  /** blockHash(genesis), internal byte order. */
  readonly genesisHash: Uint8Array
  /** The genesis hash in display hex, e.g. 000000000019d6...e26f for mainnet. */
  readonly genesisHashHex: string

  /** Easiest target a block may claim (consensus.powLimit). */
  readonly powLimit: bigint
  /** Compact form of the easiest target, used for min-difficulty blocks. */
  readonly powLimitBits: number
  /** Seconds a retarget period should last (nPowTargetTimespan). */
  readonly targetTimespan: number
  /** Seconds between blocks (nPowTargetSpacing). */
  readonly targetSpacing: number
  /** Blocks per retarget period: targetTimespan / targetSpacing. */
  readonly retargetInterval: number
  /** fPowAllowMinDifficultyBlocks: a block 2 x spacing after its parent may use powLimitBits. */
  readonly allowMinDifficultyBlocks: boolean
  /** fPowNoRetargeting: the target never changes (regtest). */
  readonly noRetargeting: boolean
  /**
   * BIP94 (testnet4): the first block of a period may be at most 600 s
   * earlier than its parent (timewarp fix), and a retarget starts from the
   * bits of the period's first block, not its last.
   */
  readonly enforceBip94: boolean
  /** Which difficulty rule applies. */
  readonly difficultyAdjustment: DifficultyAdjustment
  /**
   * Signet block challenge (BIP325 scriptPubKey). Stated for reference: we
   * do NOT check signet block signatures.
   */
  readonly signetChallenge?: Uint8Array

  /** BIP34 (height in coinbase) from this height; version >= 2. */
  readonly bip34Height: number
  /** Hash of the block at bip34Height, when Core pins one. */
  readonly bip34Hash?: Uint8Array
  /** BIP65 (CHECKLOCKTIMEVERIFY) from this height; version >= 4. */
  readonly bip65Height: number
  /** BIP66 (strict DER) from this height; version >= 3. */
  readonly bip66Height: number
  /** BIP68/112/113 (CSV) from this height. */
  readonly csvHeight: number
  /** BIP141 (segwit) from this height; absent where segwit does not exist. */
  readonly segwitHeight?: number
  /** BIP341 (taproot) from this height, where it is a fixed height. */
  readonly taprootHeight?: number

  /** Core's nMinimumChainWork: a header chain with less work is not worth syncing. */
  readonly minimumChainWork: bigint
  /** DNS seed host names. */
  readonly dnsSeeds: readonly string[]
  /** Known-good blocks, ascending by height. */
  readonly checkpoints: readonly Checkpoint[]
  /** BIP173 human-readable part for segwit addresses; absent without segwit. */
  readonly bech32Hrp?: string
  /**
   * Version byte of base58check P2PKH addresses (Core's
   * base58Prefixes[PUBKEY_ADDRESS]): 0 on mainnet ('1...'), 111 on the test
   * networks ('m...' or 'n...').
   */
  readonly base58PubKeyHashPrefix: number
  /**
   * Version byte of base58check P2SH addresses (Core's
   * base58Prefixes[SCRIPT_ADDRESS]): 5 on mainnet ('3...'), 196 on the test
   * networks ('2...').
   */
  readonly base58ScriptHashPrefix: number

  /** Cap on any frame's payload, in bytes. */
  readonly maxMessageBytes: number
  /** Cap on block-sized payloads (block, cmpctblock, blocktxn, merkleblock). */
  readonly maxBlockPayload: number
  /** BSV extended messages ('extmsg' header with a 64-bit length). */
  readonly supportsExtMsg: boolean
}

// ---------------------------------------------------------------------------
// Helpers (pure; run once at module load)

/** The 4 magic bytes as Core lists them. */
function magicOf(b0: number, b1: number, b2: number, b3: number): { magic: Uint8Array; magicU32: number } {
  return { magic: Uint8Array.of(b0, b1, b2, b3), magicU32: b0 + b1 * 0x100 + b2 * 0x10000 + b3 * 0x1000000 }
}

function genesisHeader(merkleRootHex: string, time: number, bits: number, nonce: number): BlockHeader {
  return Object.freeze({ version: 1, prevBlock: new Uint8Array(32), merkleRoot: hexToHash(merkleRootHex), time, bits, nonce })
}

function checkpoints(list: ReadonlyArray<readonly [number, string]>): readonly Checkpoint[] {
  return Object.freeze(list.map(([height, hex]) => Object.freeze({ height, hash: hexToHash(hex) })))
}

function define(p: NetworkParams): NetworkParams {
  Object.freeze(p.dnsSeeds)
  return Object.freeze(p)
}

const TWO_WEEKS = 14 * 24 * 60 * 60
const TEN_MINUTES = 10 * 60
const RETARGET_INTERVAL = TWO_WEEKS / TEN_MINUTES

/** 2^224 - 1: powLimit of mainnet, testnet3, testnet4 (uint256 00000000ffff...ff). */
const POW_LIMIT_MAIN = (1n << 224n) - 1n

/** Merkle root of the one coinbase shared by the mainnet, testnet3, signet and regtest genesis blocks. */
const SATOSHI_GENESIS_MERKLE_ROOT = '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b'

// ---------------------------------------------------------------------------
// Networks

/** Bitcoin mainnet (Core CMainParams). */
export const mainnet: NetworkParams = define({
  name: 'mainnet',
  ...magicOf(0xf9, 0xbe, 0xb4, 0xd9),
  defaultPort: 8333,
  genesis: genesisHeader(SATOSHI_GENESIS_MERKLE_ROOT, 1231006505, 0x1d00ffff, 2083236893),
  genesisHash: hexToHash('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'),
  genesisHashHex: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  powLimit: POW_LIMIT_MAIN,
  powLimitBits: 0x1d00ffff,
  targetTimespan: TWO_WEEKS,
  targetSpacing: TEN_MINUTES,
  retargetInterval: RETARGET_INTERVAL,
  allowMinDifficultyBlocks: false,
  noRetargeting: false,
  enforceBip94: false,
  difficultyAdjustment: 'bitcoin',
  bip34Height: 227931,
  bip34Hash: hexToHash('000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8'),
  bip65Height: 388381,
  bip66Height: 363725,
  csvHeight: 419328,
  segwitHeight: 481824,
  // Taproot's min_activation_height; it activated at exactly this block.
  taprootHeight: 709632,
  minimumChainWork: 0xdee8e2a309ad8a9820433c68n,
  dnsSeeds: [
    'seed.bitcoin.sipa.be',
    'dnsseed.bluematt.me',
    'seed.bitcoin.jonasschnelli.ch',
    'seed.btc.petertodd.net',
    'seed.bitcoin.sprovoost.nl',
    'dnsseed.emzy.de',
    'seed.bitcoin.wiz.biz',
    'seed.mainnet.achownodes.xyz',
  ],
  checkpoints: checkpoints([
    // Core chainparams.cpp checkpointData (up to v28).
    [11111, '0000000069e244f73d78e8fd29ba2fd2ed618bd6fa2ee92559f542fdb26e7c1d'],
    [33333, '000000002dd5588a74784eaa7ab0507a18ad16a236e7b1ce69f00d7ddfb5d0a6'],
    [74000, '0000000000573993a3c9e41ce34471c079dcf5f52a0e824a81e7f953b8661a20'],
    [105000, '00000000000291ce28027faea320c8d2b054b2e0fe44a773f3eefb151d6bdc97'],
    [134444, '00000000000005b12ffd4cd315cd34ffd4a594f430ac814c91184a0d42d2b0fe'],
    [168000, '000000000000099e61ea72015e79632f216fe6cb33d7899acb35b75c8303b763'],
    [193000, '000000000000059f452a5f7340de6682a977387c17010ff6e6c3bd83ca8b1317'],
    [210000, '000000000000048b95347e83192f69cf0366076336c639f9b7228e9ba171342e'],
    [216116, '00000000000001b4f4b433e81ee46494af945cf96014816a4e2370f11b23df4e'],
    [225430, '00000000000001c108384350f74090433e7fcf79a606b8e797f065b130575932'],
    [250000, '000000000000003887df1f29024b06fc2200b55f8af8f35453d7be294df2d214'],
    [279000, '0000000000000001ae8c72a0b0c301f67e3afca10e819efa9041e458e9bd7e40'],
    [295000, '00000000000000004d9b4ef50f0f9d686fd69db2e03af35a100370c64632a983'],
    // btcd chaincfg/params.go MainNetParams.Checkpoints.
    [343185, '0000000000000000072b8bf361d01a6ba7d445dd024203fafc78768ed4368554'],
    [352940, '000000000000000010755df42dba556bb72be6a32f3ce0b6941ce4430152c9ff'],
    [382320, '00000000000000000a8dc6ed5b133d0eb2fd6af56203e4159789b092defd8ab2'],
    [400000, '000000000000000004ec466ce4732fe6f1ed1cddc2ed4b328fff5224276e3f6f'],
    [430000, '000000000000000001868b2bb3a285f3cc6b33ea234eb70facf4dcdf22186b87'],
    [460000, '000000000000000000ef751bbce8e744ad303c47ece06c8d863e4d417efc258c'],
    [490000, '000000000000000000de069137b17b8d5a3dfbd5b145b2dcfb203f15d0c4de90'],
    [520000, '0000000000000000000d26984c0229c9f6962dc74db0a6d525f2f1640396f69c'],
    [550000, '000000000000000000223b7a2298fb1c6c75fb0efc28a4c56853ff4112ec6bc9'],
    [560000, '0000000000000000002c7b276daf6efb2b6aa68e2ce3be67ef925b3264ae7122'],
    // Core chainparams.cpp m_assumeutxo_data block hashes.
    [840000, '0000000000000000000320283a032748cef8227873ff4872689bf23f1cda83a5'],
    [880000, '000000000000000000010b17283c3c400507969a9c2afd1dcf2082ec5cca2880'],
    [910000, '0000000000000000000108970acb9522ffd516eae17acddcb1bd16469194a821'],
  ]),
  bech32Hrp: 'bc',
  base58PubKeyHashPrefix: 0,
  base58ScriptHashPrefix: 5,
  maxMessageBytes: BITCOIN_MAX_MESSAGE_BYTES,
  maxBlockPayload: BITCOIN_MAX_BLOCK_BYTES,
  supportsExtMsg: false,
})

/** Bitcoin testnet3 (Core CTestNetParams). */
export const testnet3: NetworkParams = define({
  name: 'testnet3',
  ...magicOf(0x0b, 0x11, 0x09, 0x07),
  defaultPort: 18333,
  genesis: genesisHeader(SATOSHI_GENESIS_MERKLE_ROOT, 1296688602, 0x1d00ffff, 414098458),
  genesisHash: hexToHash('000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943'),
  genesisHashHex: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  powLimit: POW_LIMIT_MAIN,
  powLimitBits: 0x1d00ffff,
  targetTimespan: TWO_WEEKS,
  targetSpacing: TEN_MINUTES,
  retargetInterval: RETARGET_INTERVAL,
  allowMinDifficultyBlocks: true,
  noRetargeting: false,
  enforceBip94: false,
  difficultyAdjustment: 'bitcoin',
  bip34Height: 21111,
  bip34Hash: hexToHash('0000000023b3a96d3484e5abb3755c413e7d41500f8e2a5c3f0dd01299cd8ef8'),
  bip65Height: 581885,
  bip66Height: 330776,
  csvHeight: 770112,
  segwitHeight: 834624,
  // Taproot activated on testnet3 by signalling (BIP9), not at a height Core pins.
  minimumChainWork: 0x16dd270dd94fac1d7632n,
  dnsSeeds: [
    'testnet-seed.bitcoin.jonasschnelli.ch',
    'seed.tbtc.petertodd.net',
    'seed.testnet.bitcoin.sprovoost.nl',
    'testnet-seed.bluematt.me',
    'seed.testnet.achownodes.xyz',
  ],
  checkpoints: checkpoints([
    // Core chainparams.cpp checkpointData (up to v28).
    [546, '000000002a936ca763904c3c35fce2f3556c559c0214345d31b1bcebf76acb70'],
    // btcd chaincfg/params.go TestNet3Params.Checkpoints.
    [100000, '00000000009e2958c15ff9290d571bf9459e93b19765c6801ddeccadbb160a1e'],
    [200000, '0000000000287bffd321963ef05feab753ebe274e1d78b2fd4e2bfe9ad3aa6f2'],
    [300001, '0000000000004829474748f3d1bc8fcf893c88be255e6d7f571c548aff57abf4'],
    [400002, '0000000005e2c73b8ecb82ae2dbc2e8274614ebad7172b53528aba7501f5a089'],
    [500011, '00000000000929f63977fbac92ff570a9bd9e7715401ee96f2848f7b07750b02'],
    [600002, '000000000001f471389afd6ee94dcace5ccc44adc18e8bff402443f034b07240'],
    [700000, '000000000000406178b12a4dea3b27e13b3c4fe4510994fd667d7c1e6a3f4dc1'],
    [800010, '000000000017ed35296433190b6829db01e657d80631d43f5983fa403bfdb4c1'],
    [900000, '0000000000356f8d8924556e765b7a94aaebc6b5c8685dcfa2b1ee8b41acd89b'],
    [1000007, '00000000001ccb893d8a1f25b70ad173ce955e5f50124261bbbc50379a612ddf'],
    [1100007, '00000000000abc7b2cd18768ab3dee20857326a818d1946ed6796f42d66dd1e8'],
    [1200007, '00000000000004f2dc41845771909db57e04191714ed8c963f7e56713a7b6cea'],
    [1300007, '0000000072eab69d54df75107c052b26b0395b44f77578184293bf1bb1dbd9fa'],
    // Core chainparams.cpp m_assumeutxo_data block hash.
    [2500000, '0000000000000093bcb68c03a9a168ae252572d348a2eaeba2cdf9231d73206f'],
  ]),
  bech32Hrp: 'tb',
  base58PubKeyHashPrefix: 111,
  base58ScriptHashPrefix: 196,
  maxMessageBytes: BITCOIN_MAX_MESSAGE_BYTES,
  maxBlockPayload: BITCOIN_MAX_BLOCK_BYTES,
  supportsExtMsg: false,
})

/**
 * Bitcoin testnet4 (BIP94; Core CTestNet4Params). Its genesis has its own
 * coinbase (message "03/May/2024 000000000000000000001ebd58c2...e00e", an
 * unspendable output), hence its own merkle root.
 */
export const testnet4: NetworkParams = define({
  name: 'testnet4',
  ...magicOf(0x1c, 0x16, 0x3f, 0x28),
  defaultPort: 48333,
  genesis: genesisHeader('7aa0a7ae1e223414cb807e40cd57e667b718e42aaf9306db9102fe28912b7b4e', 1714777860, 0x1d00ffff, 393743547),
  genesisHash: hexToHash('00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043'),
  genesisHashHex: '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043',
  powLimit: POW_LIMIT_MAIN,
  powLimitBits: 0x1d00ffff,
  targetTimespan: TWO_WEEKS,
  targetSpacing: TEN_MINUTES,
  retargetInterval: RETARGET_INTERVAL,
  allowMinDifficultyBlocks: true,
  noRetargeting: false,
  enforceBip94: true,
  difficultyAdjustment: 'bitcoin',
  // Every soft fork is active from block 1 (taproot from genesis: ALWAYS_ACTIVE).
  bip34Height: 1,
  bip65Height: 1,
  bip66Height: 1,
  csvHeight: 1,
  segwitHeight: 1,
  taprootHeight: 0,
  minimumChainWork: 0x34a4690fe592dc49c7cn,
  dnsSeeds: ['seed.testnet4.bitcoin.sprovoost.nl', 'seed.testnet4.wiz.biz'],
  checkpoints: checkpoints([
    // Core has no testnet4 checkpoints; these are the blocks its
    // chainparams.cpp pins: the assumeutxo snapshot and defaultAssumeValid.
    [90000, '0000000002ebe8bcda020e0dd6ccfbdfac531d2f6a81457191b99fc2df2dbe3b'],
    [91000, '000000000000000180a58e7fa3b0db84b5ea76377524894f53660d93ac839d9b'],
  ]),
  bech32Hrp: 'tb',
  base58PubKeyHashPrefix: 111,
  base58ScriptHashPrefix: 196,
  maxMessageBytes: BITCOIN_MAX_MESSAGE_BYTES,
  maxBlockPayload: BITCOIN_MAX_BLOCK_BYTES,
  supportsExtMsg: false,
})

/**
 * The default global signet (BIP325; Core SigNetParams without -signetchallenge).
 * Its magic is the first 4 bytes of sha256d(compact-size length || challenge).
 * A custom signet has another challenge, magic and genesis chain: build its
 * own params object.
 */
export const signet: NetworkParams = define({
  name: 'signet',
  ...magicOf(0x0a, 0x03, 0xcf, 0x40),
  defaultPort: 38333,
  genesis: genesisHeader(SATOSHI_GENESIS_MERKLE_ROOT, 1598918400, 0x1e0377ae, 52613770),
  genesisHash: hexToHash('00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6'),
  genesisHashHex: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  powLimit: 0x00000377ae000000000000000000000000000000000000000000000000000000n,
  powLimitBits: 0x1e0377ae,
  targetTimespan: TWO_WEEKS,
  targetSpacing: TEN_MINUTES,
  retargetInterval: RETARGET_INTERVAL,
  allowMinDifficultyBlocks: false,
  noRetargeting: false,
  enforceBip94: false,
  difficultyAdjustment: 'bitcoin',
  // 1-of-2 multisig: OP_1 <33-byte key> <33-byte key> OP_2 OP_CHECKMULTISIG. Not checked by us.
  signetChallenge: fromHex(
    '512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430210359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae',
  ),
  bip34Height: 1,
  bip65Height: 1,
  bip66Height: 1,
  csvHeight: 1,
  segwitHeight: 1,
  taprootHeight: 0,
  minimumChainWork: 0x67d328e681an,
  dnsSeeds: ['seed.signet.bitcoin.sprovoost.nl', 'seed.signet.achownodes.xyz'],
  checkpoints: checkpoints([
    // Core has no signet checkpoints; these are blocks its chainparams.cpp
    // pins: the assumeutxo snapshot and two defaultAssumeValid values.
    [160000, '0000003ca3c99aff040f2563c2ad8f8ec88bd0fd6b8f0895cfaf1ef90353a62c'],
    [180000, '0000000870f15246ba23c16e370a7ffb1fc8a3dcf8cb4492882ed4b0e3d4cd26'],
    [267665, '000000128586e26813922680309f04e1de713c7542fee86ed908f56368aefe2e'],
  ]),
  bech32Hrp: 'tb',
  base58PubKeyHashPrefix: 111,
  base58ScriptHashPrefix: 196,
  maxMessageBytes: BITCOIN_MAX_MESSAGE_BYTES,
  maxBlockPayload: BITCOIN_MAX_BLOCK_BYTES,
  supportsExtMsg: false,
})

/**
 * Regression test network (Core CRegTestParams defaults; a node may move
 * the activation heights with -testactivationheight).
 *
 * targetTimespan: 14 days as in btcd, bcoin and Core up to v29; Core master
 * uses one day (interval 144). With noRetargeting the only effect is where
 * the min-difficulty walk-back stops.
 */
export const regtest: NetworkParams = define({
  name: 'regtest',
  ...magicOf(0xfa, 0xbf, 0xb5, 0xda),
  defaultPort: 18444,
  genesis: genesisHeader(SATOSHI_GENESIS_MERKLE_ROOT, 1296688602, 0x207fffff, 2),
  genesisHash: hexToHash('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206'),
  genesisHashHex: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
  powLimit: (1n << 255n) - 1n,
  powLimitBits: 0x207fffff,
  targetTimespan: TWO_WEEKS,
  targetSpacing: TEN_MINUTES,
  retargetInterval: RETARGET_INTERVAL,
  allowMinDifficultyBlocks: true,
  noRetargeting: true,
  // Core: opts.enforce_bip94, off unless -test=bip94.
  enforceBip94: false,
  difficultyAdjustment: 'bitcoin',
  bip34Height: 1,
  bip65Height: 1,
  bip66Height: 1,
  csvHeight: 1,
  segwitHeight: 0,
  taprootHeight: 0,
  minimumChainWork: 0n,
  // Core lists only the placeholder "dummySeed.invalid.".
  dnsSeeds: [],
  checkpoints: checkpoints([[0, '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206']]),
  bech32Hrp: 'bcrt',
  base58PubKeyHashPrefix: 111,
  base58ScriptHashPrefix: 196,
  maxMessageBytes: BITCOIN_MAX_MESSAGE_BYTES,
  maxBlockPayload: BITCOIN_MAX_BLOCK_BYTES,
  supportsExtMsg: false,
})

/**
 * Bitcoin SV mainnet (bitcoin-sv src/chainparams.cpp CMainParams). It shares
 * Bitcoin's history and genesis up to the 2017 split, so the genesis header
 * and the early soft-fork heights are Bitcoin's; it has no segwit or taproot.
 *
 * Its frame magic (netMagic e3e1f3e8) differs from the block-file magic,
 * which is still f9beb4d9.
 *
 * Limits: block-like messages up to BSV_MAX_BLOCK_BYTES (10 GB), which needs
 * extmsg framing above 4 GB; BSV caps other messages by the peer's protoconf
 * (BSV_DEFAULT_MAX_PROTOCOL_RECV_PAYLOAD by default), which the per-command
 * caps of the codecs enforce, so the global cap is the block cap.
 */
export const bsv: NetworkParams = define({
  name: 'bsv',
  ...magicOf(0xe3, 0xe1, 0xf3, 0xe8),
  defaultPort: 8333,
  genesis: genesisHeader(SATOSHI_GENESIS_MERKLE_ROOT, 1231006505, 0x1d00ffff, 2083236893),
  genesisHash: hexToHash('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'),
  genesisHashHex: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  powLimit: POW_LIMIT_MAIN,
  powLimitBits: 0x1d00ffff,
  targetTimespan: TWO_WEEKS,
  targetSpacing: TEN_MINUTES,
  retargetInterval: RETARGET_INTERVAL,
  allowMinDifficultyBlocks: false,
  noRetargeting: false,
  enforceBip94: false,
  difficultyAdjustment: 'bsv-daa',
  bip34Height: 227931,
  bip34Hash: hexToHash('000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8'),
  bip65Height: 388381,
  bip66Height: 363725,
  csvHeight: 419328,
  minimumChainWork: 0xa0f3064330647e2f6c4828n,
  dnsSeeds: ['seed.bitcoinsv.io', 'seed.satoshisvision.network', 'seed.bitcoinseed.directory'],
  checkpoints: checkpoints([
    // bitcoin-sv chainparams.cpp checkpointData: Bitcoin's up to 295000, then BSV's own.
    [11111, '0000000069e244f73d78e8fd29ba2fd2ed618bd6fa2ee92559f542fdb26e7c1d'],
    [33333, '000000002dd5588a74784eaa7ab0507a18ad16a236e7b1ce69f00d7ddfb5d0a6'],
    [74000, '0000000000573993a3c9e41ce34471c079dcf5f52a0e824a81e7f953b8661a20'],
    [105000, '00000000000291ce28027faea320c8d2b054b2e0fe44a773f3eefb151d6bdc97'],
    [134444, '00000000000005b12ffd4cd315cd34ffd4a594f430ac814c91184a0d42d2b0fe'],
    [168000, '000000000000099e61ea72015e79632f216fe6cb33d7899acb35b75c8303b763'],
    [193000, '000000000000059f452a5f7340de6682a977387c17010ff6e6c3bd83ca8b1317'],
    [210000, '000000000000048b95347e83192f69cf0366076336c639f9b7228e9ba171342e'],
    [216116, '00000000000001b4f4b433e81ee46494af945cf96014816a4e2370f11b23df4e'],
    [225430, '00000000000001c108384350f74090433e7fcf79a606b8e797f065b130575932'],
    [250000, '000000000000003887df1f29024b06fc2200b55f8af8f35453d7be294df2d214'],
    [279000, '0000000000000001ae8c72a0b0c301f67e3afca10e819efa9041e458e9bd7e40'],
    [295000, '00000000000000004d9b4ef50f0f9d686fd69db2e03af35a100370c64632a983'],
    // UAHF fork block (first block of the BCH/BSV chain).
    [478558, '0000000000000000011865af4122fe3b144e2cbeea86142e8ff2fb4107352d43'],
    // DAA activation block.
    [504031, '0000000000000000011ebf65b60d0a3de80b8175be709d653b4c1a1beeb6ab9c'],
    // Monolith activation.
    [530359, '0000000000000000011ada8bd08f46074f44a8f155396f43e38acf9501c49103'],
  ]),
  base58PubKeyHashPrefix: 0,
  base58ScriptHashPrefix: 5,
  maxMessageBytes: BSV_MAX_BLOCK_BYTES,
  maxBlockPayload: BSV_MAX_BLOCK_BYTES,
  supportsExtMsg: true,
})

/** Every built-in network, in a fixed order. */
export const NETWORKS: readonly NetworkParams[] = Object.freeze([mainnet, testnet3, testnet4, signet, regtest, bsv])

/** The built-in network with this exact name, or undefined. */
export function networkByName(name: string): NetworkParams | undefined {
  for (const n of NETWORKS) if (n.name === name) return n
  return undefined
}

/**
 * The built-in network with this frame magic: the 4 bytes as they appear on
 * the wire, or their little-endian u32. Undefined when none matches (or the
 * byte array is not 4 long).
 */
export function networkByMagic(magic: Uint8Array | number): NetworkParams | undefined {
  let value: number
  if (typeof magic === 'number') {
    value = magic
  } else {
    if (magic.length !== 4) return undefined
    value = magic[0]! + magic[1]! * 0x100 + magic[2]! * 0x10000 + magic[3]! * 0x1000000
  }
  for (const n of NETWORKS) if (n.magicU32 === value) return n
  return undefined
}
