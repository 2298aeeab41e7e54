/**
 * The version handshake (protocol v1), both directions.
 *
 * Outbound (we connected):
 *   1. we send `version`
 *   2. the peer sends `version`; we check it (self-connection, protocol
 *      version, services), then send `wtxidrelay` (BIP339) and
 *      `sendaddrv2` (BIP155) if negotiated, then `verack`
 *   3. the peer sends its feature messages and `verack`: the connection is
 *      ready; we send `sendheaders` (BIP130), `sendcmpct` (BIP152) and
 *      `feefilter` (BIP133) as configured and supported
 * Inbound (the peer connected): the same, except that we send nothing until
 *   the peer's `version` arrives, and then send our `version` first.
 *
 * Feature negotiation that must precede verack (wtxidrelay, sendaddrv2,
 * sendtxrcncl) is recorded while waiting for the peer's verack; the same
 * messages after verack end the connection, as in Core.
 *
 * Messages out of order. Core (net_processing) ignores any message before
 * the peer's version, and ignores everything but verack and the pre-verack
 * feature messages until verack ("unsupported message prior to verack");
 * Core <= 0.20 also scored 1 point per such message. We choose:
 *  - before the peer's version: every message is dropped and scored as the
 *    offense 'before-handshake' (10 points), a verack included;
 *  - between version and verack: `sendheaders`, `sendcmpct`, `feefilter`
 *    and `ping` are tolerated (some implementations send them early, and
 *    they are harmless: features are recorded, pings answered); anything
 *    else is dropped and scored 'before-handshake';
 *  - after verack: a second `version` scores 'duplicate-version' (1) and a
 *    second `verack` is ignored (Core logs both).
 *
 * Checks on the peer's version, in this order (the first failure ends the
 * handshake with a typed reason):
 *  1. self-connection: its nonce is ours, or one of our outstanding nonces
 *     (the caller supplies `isOwnNonce`; no state outside this object)
 *  2. protocol version >= minProtocolVersion
 *  3. outbound only (as Core): every bit of requiredServices is set
 *
 * The handshake deadline (Core's DEFAULT_PEER_CONNECT_TIMEOUT, 60 s) runs
 * from start() until verack.
 *
 * State changes are listed in HANDSHAKE_TRANSITIONS (h11 style); the
 * machine refuses any change the table does not list, so the table is the
 * specification and `renderHandshakeTransitions()` prints it.
 */
import {
  hasServices,
  PROTOCOL_VERSION,
  Services,
  type KnownMessage,
  type Message,
  type MessageOf,
  type NetAddress,
} from '@bitp2p/wire'
import {
  BIP0031_VERSION,
  FEEFILTER_VERSION,
  IP_BYTES,
  MIN_PEER_PROTO_VERSION,
  SENDHEADERS_VERSION,
  SHORT_IDS_BLOCKS_VERSION,
  WTXID_RELAY_VERSION,
} from '@bitp2p/wire/limits'
import type { Offense } from './misbehavior.js'
import type { Outbox } from './outbox.js'
import type { DisconnectReason } from './reasons.js'

/** Core's DEFAULT_PEER_CONNECT_TIMEOUT: version and verack must both arrive within 60 s. */
export const HANDSHAKE_TIMEOUT_MS = 60_000
/** Our BIP14 user agent. */
export const DEFAULT_USER_AGENT = '/bitp2p:0.1.0/'
/** BIP155 asks for sendaddrv2 only between peers at this version or above. */
export const SENDADDRV2_VERSION = WTXID_RELAY_VERSION

/** Which side opened the connection. */
export type Direction = 'outbound' | 'inbound'

/** BIP152 announcement preference we send after verack. */
export interface CompactBlocksPreference {
  /** true asks for high-bandwidth mode (cmpctblock pushed unasked). */
  readonly announce: boolean
  /** CMPCT_VERSION_2 for segwit. */
  readonly version: bigint
}

/** How we introduce ourselves and what we accept. Every field has a default. */
export interface HandshakeConfig {
  /** Our protocol version. Default PROTOCOL_VERSION (70016). */
  readonly protocolVersion?: number
  /** Our service bits. Default NONE (a light client serves nothing). */
  readonly services?: bigint
  /** Default DEFAULT_USER_AGENT. */
  readonly userAgent?: string
  /** Our best height. Default 0. */
  readonly startHeight?: number
  /** BIP37 relay flag: false asks the peer not to announce transactions. Default true. */
  readonly relay?: boolean
  /** Lowest peer version accepted. Default Core's MIN_PEER_PROTO_VERSION (31800). */
  readonly minProtocolVersion?: number
  /** Service bits an outbound peer must have (inbound peers are not checked, as in Core). Default NONE. */
  readonly requiredServices?: bigint
  /** Offer BIP339 wtxid relay. Default true. */
  readonly wtxidRelay?: boolean
  /** Send BIP155 sendaddrv2. Default true. */
  readonly addrv2?: boolean
  /** Send BIP130 sendheaders after verack. Default true. */
  readonly sendHeaders?: boolean
  /** Send BIP152 sendcmpct after verack with this preference. Default: not sent. */
  readonly compactBlocks?: CompactBlocksPreference
  /** Send BIP133 feefilter (sat/kvB) after verack. Default: not sent. */
  readonly feeFilter?: bigint
  /** Default HANDSHAKE_TIMEOUT_MS. */
  readonly handshakeTimeoutMs?: number
  /** The peer's address as we see it (version addrRecv). Default: the null address. */
  readonly remoteAddress?: NetAddress
  /** Unix time in ms is `now + unixTimeOffsetMs` (for the version timestamp). Default 0. */
  readonly unixTimeOffsetMs?: number
  /**
   * Is this nonce one we sent in a version message of ours? Supplied by
   * whoever keeps our connections (a pool); this handshake's own nonce is
   * always checked.
   */
  readonly isOwnNonce?: (nonce: bigint) => boolean
}

/** What the peer told us in its version message. */
export interface PeerVersionInfo {
  readonly version: number
  readonly services: bigint
  readonly userAgent: string
  readonly startHeight: number
  readonly relay: boolean
  readonly nonce: bigint
  /** The peer's clock, Unix seconds. */
  readonly timestamp: bigint
  /** How the peer sees us. */
  readonly addrRecv: NetAddress
}

/** Features the peer asked for or offered; what we may use with it. */
export interface PeerFeatures {
  /** BIP339: both sides sent wtxidrelay: announce transactions by wtxid. */
  readonly wtxidRelay: boolean
  /** BIP155: the peer sent sendaddrv2: we may send it addrv2. */
  readonly addrv2: boolean
  /** BIP130: the peer sent sendheaders: announce blocks to it with headers. */
  readonly sendHeaders: boolean
  /** BIP152: the peer's latest sendcmpct. */
  readonly compactBlocks?: CompactBlocksPreference
  /** BIP133: the peer's latest fee filter, sat/kvB. */
  readonly feeFilter?: bigint
  /** BIP330: the peer's sendtxrcncl offer. */
  readonly txReconciliation?: { readonly version: number; readonly salt: bigint }
}

/** The result of a completed handshake. */
export interface HandshakeInfo {
  readonly direction: Direction
  readonly peer: PeerVersionInfo
  /** min(our version, the peer's): what both sides speak. */
  readonly negotiatedVersion: number
  readonly features: PeerFeatures
  /** The nonce of our version message. */
  readonly nonce: bigint
}

/** Handshake states, each with the data it holds. */
export type HandshakeState =
  | { readonly name: 'idle' }
  | { readonly name: 'awaiting-version'; readonly startedAt: number; readonly sentVersion: boolean }
  | {
      readonly name: 'awaiting-verack'
      readonly startedAt: number
      readonly peer: PeerVersionInfo
      readonly negotiatedVersion: number
      /** We sent wtxidrelay. */
      readonly offeredWtxid: boolean
      readonly features: PeerFeatures
    }
  | { readonly name: 'ready'; readonly info: HandshakeInfo }
  | { readonly name: 'closed' }

/** The name of a handshake state ('idle', 'awaiting-version', 'awaiting-verack', 'ready', 'closed'), as used in HANDSHAKE_TRANSITIONS. */
export type HandshakeStateName = HandshakeState['name']

/** What moves the handshake. */
export type HandshakeInput =
  | 'start-outbound'
  | 'start-inbound'
  | 'version'
  | 'version-rejected'
  | 'negotiation'
  | 'tolerated'
  | 'early-message'
  | 'verack'
  | 'duplicate-version'
  | 'duplicate-verack'
  | 'late-negotiation'
  | 'timeout'
  | 'close'

/** One row of the transition table. */
export interface HandshakeTransition {
  readonly from: HandshakeStateName
  readonly input: HandshakeInput
  readonly to: HandshakeStateName
  /** What happens besides the state change. */
  readonly effect: string
}

/** Every state change the handshake makes. Anything else is a bug. */
export const HANDSHAKE_TRANSITIONS: readonly HandshakeTransition[] = [
  { from: 'idle', input: 'start-outbound', to: 'awaiting-version', effect: 'send version; arm handshake deadline' },
  { from: 'idle', input: 'start-inbound', to: 'awaiting-version', effect: 'arm handshake deadline' },
  { from: 'idle', input: 'close', to: 'closed', effect: '' },
  {
    from: 'awaiting-version',
    input: 'version',
    to: 'awaiting-verack',
    effect: 'send version (inbound), wtxidrelay?, sendaddrv2?, verack',
  },
  {
    from: 'awaiting-version',
    input: 'version-rejected',
    to: 'closed',
    effect: 'disconnect: self-connection | protocol-version | missing-services',
  },
  { from: 'awaiting-version', input: 'early-message', to: 'awaiting-version', effect: 'drop; offense before-handshake' },
  { from: 'awaiting-version', input: 'timeout', to: 'closed', effect: 'disconnect: handshake-timeout' },
  { from: 'awaiting-version', input: 'close', to: 'closed', effect: '' },
  { from: 'awaiting-verack', input: 'negotiation', to: 'awaiting-verack', effect: 'record wtxidrelay / sendaddrv2 / sendtxrcncl' },
  { from: 'awaiting-verack', input: 'tolerated', to: 'awaiting-verack', effect: 'record sendheaders / sendcmpct / feefilter; answer ping' },
  { from: 'awaiting-verack', input: 'early-message', to: 'awaiting-verack', effect: 'drop; offense before-handshake' },
  { from: 'awaiting-verack', input: 'duplicate-version', to: 'awaiting-verack', effect: 'drop; offense duplicate-version' },
  { from: 'awaiting-verack', input: 'verack', to: 'ready', effect: 'send sendheaders?, sendcmpct?, feefilter?; event ready' },
  { from: 'awaiting-verack', input: 'timeout', to: 'closed', effect: 'disconnect: handshake-timeout' },
  { from: 'awaiting-verack', input: 'close', to: 'closed', effect: '' },
  { from: 'ready', input: 'duplicate-version', to: 'ready', effect: 'drop; offense duplicate-version' },
  { from: 'ready', input: 'duplicate-verack', to: 'ready', effect: 'drop' },
  { from: 'ready', input: 'late-negotiation', to: 'closed', effect: 'disconnect: unexpected-message' },
  { from: 'ready', input: 'close', to: 'closed', effect: '' },
  { from: 'closed', input: 'close', to: 'closed', effect: '' },
]

/** The state `input` leads to from `from`, or undefined when the table has no such row. */
export function nextHandshakeState(from: HandshakeStateName, input: HandshakeInput): HandshakeStateName | undefined {
  for (const t of HANDSHAKE_TRANSITIONS) if (t.from === from && t.input === input) return t.to
  return undefined
}

/** The transition table as aligned text, one row per line. */
export function renderHandshakeTransitions(): string {
  const w = (k: 'from' | 'input' | 'to') => Math.max(k.length, ...HANDSHAKE_TRANSITIONS.map((t) => t[k].length))
  const [wf, wi, wt] = [w('from'), w('input'), w('to')]
  const line = (f: string, i: string, t: string, e: string) => `${f.padEnd(wf)}  ${i.padEnd(wi)}  ${t.padEnd(wt)}  ${e}`.trimEnd()
  return [line('from', 'input', 'to', 'effect'), ...HANDSHAKE_TRANSITIONS.map((t) => line(t.from, t.input, t.to, t.effect))].join('\n')
}

/** What the handshake made of one message. */
export type HandshakeOutcome =
  /** The handshake is done and this is not a handshake message: the caller handles it. */
  | { readonly type: 'pass' }
  /** Consumed by the handshake (replies, if any, are queued). */
  | { readonly type: 'handled' }
  /** Tolerated before verack: the caller applies it (feature messages, ping). */
  | { readonly type: 'tolerated'; readonly message: Message }
  /** The handshake completed with this message. */
  | { readonly type: 'ready'; readonly info: HandshakeInfo }
  /** Dropped; the peer committed this offense. */
  | { readonly type: 'offense'; readonly offense: Offense }
  /** The handshake failed: disconnect. */
  | { readonly type: 'reject'; readonly reason: DisconnectReason }

/** Messages that negotiate features and are only valid before verack. */
const PRE_VERACK_NEGOTIATION: ReadonlySet<string> = new Set(['wtxidrelay', 'sendaddrv2', 'sendtxrcncl'])
/** Messages we accept between version and verack without complaint. */
const TOLERATED_BEFORE_VERACK: ReadonlySet<string> = new Set(['sendheaders', 'sendcmpct', 'feefilter', 'ping'])

/** Features before any feature message. */
export const NO_FEATURES: PeerFeatures = Object.freeze({ wtxidRelay: false, addrv2: false, sendHeaders: false })

/**
 * The features after a post-handshake feature message, or undefined when
 * `msg` changes nothing (not a feature message, or a repeat).
 */
export function applyFeatureMessage(f: PeerFeatures, msg: Message): PeerFeatures | undefined {
  switch (msg.command) {
    case 'sendheaders':
      return f.sendHeaders ? undefined : { ...f, sendHeaders: true }
    case 'sendcmpct': {
      const c = f.compactBlocks
      if (c && c.announce === msg.announce && c.version === msg.version) return undefined
      return { ...f, compactBlocks: { announce: msg.announce, version: msg.version } }
    }
    case 'feefilter':
      return f.feeFilter === msg.feerate ? undefined : { ...f, feeFilter: msg.feerate }
    default:
      return undefined
  }
}

/** The null address (Core's CService()) with the given services. */
function nullAddress(services: bigint): NetAddress {
  return { services, host: new Uint8Array(IP_BYTES), port: 0 }
}

/** Version handshake state machine. Writes its messages to the shared outbox. */
export class Handshake {
  readonly direction: Direction
  /** The nonce of our version message. */
  readonly nonce: bigint
  private readonly out: Outbox
  private readonly cfg: HandshakeConfig
  private st: HandshakeState = { name: 'idle' }

  /** `nonce` comes from the injected random source; never 0 (0 means "no nonce" on the wire). */
  constructor(direction: Direction, nonce: bigint, out: Outbox, config: HandshakeConfig = {}) {
    if (nonce === 0n) throw new RangeError('handshake nonce must not be 0')
    this.direction = direction
    this.nonce = nonce
    this.out = out
    this.cfg = config
  }

  /** The current state, with the data it holds (the peer's version once received, the result once ready). */
  get state(): HandshakeState {
    return this.st
  }

  /** Our protocol version. */
  get protocolVersion(): number {
    return this.cfg.protocolVersion ?? PROTOCOL_VERSION
  }

  /** Change state through the table; a change the table lacks is a bug here, not the peer's. */
  private move(input: HandshakeInput, next: HandshakeState): void {
    const to = nextHandshakeState(this.st.name, input)
    if (to !== next.name) throw new Error(`handshake: no transition ${this.st.name} --${input}--> ${next.name}`)
    this.st = next
  }

  /** Begin: outbound sends version now; inbound waits. Arms the handshake deadline. */
  start(now: number): void {
    if (this.direction === 'outbound') {
      this.move('start-outbound', { name: 'awaiting-version', startedAt: now, sentVersion: true })
      this.out.send(this.versionMessage(now))
    } else {
      this.move('start-inbound', { name: 'awaiting-version', startedAt: now, sentVersion: false })
    }
  }

  /** When the handshake times out, or undefined when it is not running. */
  deadline(): number | undefined {
    const s = this.st
    if (s.name === 'awaiting-version' || s.name === 'awaiting-verack') {
      return s.startedAt + (this.cfg.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS)
    }
    return undefined
  }

  /** The disconnect reason if the deadline has passed; undefined (no-op) otherwise. */
  timeout(now: number): DisconnectReason | undefined {
    const d = this.deadline()
    const s = this.st
    if (d === undefined || now < d || (s.name !== 'awaiting-version' && s.name !== 'awaiting-verack')) return undefined
    this.move('timeout', { name: 'closed' })
    return { kind: 'handshake-timeout', state: s.name, waitedMs: now - s.startedAt }
  }

  /** The connection ended for another reason. */
  close(): void {
    this.move('close', { name: 'closed' })
  }

  /** Feed one message from the peer. */
  receive(now: number, msg: Message): HandshakeOutcome {
    const s = this.st
    switch (s.name) {
      case 'idle':
      case 'closed':
        // The machine above never feeds us in these states.
        return { type: 'handled' }
      case 'awaiting-version':
        if (msg.command === 'version') return this.onVersion(now, s, msg)
        this.move('early-message', s)
        return { type: 'offense', offense: { kind: 'before-handshake', command: commandOf(msg), state: s.name } }
      case 'awaiting-verack':
        return this.whileAwaitingVerack(s, msg)
      case 'ready':
        if (msg.command === 'version') {
          this.move('duplicate-version', s)
          return { type: 'offense', offense: { kind: 'duplicate-version' } }
        }
        if (msg.command === 'verack') {
          this.move('duplicate-verack', s)
          return { type: 'handled' }
        }
        if (PRE_VERACK_NEGOTIATION.has(msg.command)) {
          this.move('late-negotiation', { name: 'closed' })
          return { type: 'reject', reason: { kind: 'unexpected-message', command: msg.command, state: 'ready' } }
        }
        return { type: 'pass' }
    }
  }

  private onVersion(now: number, s: Extract<HandshakeState, { name: 'awaiting-version' }>, v: MessageOf<'version'>): HandshakeOutcome {
    const reason = this.check(v)
    if (reason) {
      this.move('version-rejected', { name: 'closed' })
      return { type: 'reject', reason }
    }
    const negotiatedVersion = Math.min(this.protocolVersion, v.version)
    const offeredWtxid = (this.cfg.wtxidRelay ?? true) && negotiatedVersion >= WTXID_RELAY_VERSION
    const peer: PeerVersionInfo = {
      version: v.version,
      services: v.services,
      userAgent: v.userAgent,
      startHeight: v.startHeight,
      relay: v.relay,
      nonce: v.nonce,
      timestamp: v.timestamp,
      addrRecv: v.addrRecv,
    }
    this.move('version', { name: 'awaiting-verack', startedAt: s.startedAt, peer, negotiatedVersion, offeredWtxid, features: NO_FEATURES })
    // Core's order: version (inbound), wtxidrelay, sendaddrv2, verack.
    if (!s.sentVersion) this.out.send(this.versionMessage(now))
    if (offeredWtxid) this.out.send({ command: 'wtxidrelay' })
    if ((this.cfg.addrv2 ?? true) && negotiatedVersion >= SENDADDRV2_VERSION) this.out.send({ command: 'sendaddrv2' })
    this.out.send({ command: 'verack' })
    return { type: 'handled' }
  }

  /** The checks on the peer's version, in the documented order. */
  private check(v: MessageOf<'version'>): DisconnectReason | undefined {
    if (v.nonce !== 0n && (v.nonce === this.nonce || this.cfg.isOwnNonce?.(v.nonce) === true)) {
      return { kind: 'self-connection', nonce: v.nonce }
    }
    const min = this.cfg.minProtocolVersion ?? MIN_PEER_PROTO_VERSION
    if (v.version < min) return { kind: 'protocol-version', min, actual: v.version }
    const required = this.cfg.requiredServices ?? Services.NONE
    if (this.direction === 'outbound' && !hasServices(v.services, required)) {
      return { kind: 'missing-services', required, actual: v.services }
    }
    return undefined
  }

  private whileAwaitingVerack(s: Extract<HandshakeState, { name: 'awaiting-verack' }>, msg: Message): HandshakeOutcome {
    if (msg.command === 'verack') return this.onVerack(s)
    if (msg.command === 'version') {
      this.move('duplicate-version', s)
      return { type: 'offense', offense: { kind: 'duplicate-version' } }
    }
    if (PRE_VERACK_NEGOTIATION.has(msg.command)) {
      this.move('negotiation', { ...s, features: this.negotiate(s, msg) })
      return { type: 'handled' }
    }
    if (TOLERATED_BEFORE_VERACK.has(msg.command)) {
      this.move('tolerated', { ...s, features: applyFeatureMessage(s.features, msg) ?? s.features })
      return { type: 'tolerated', message: msg }
    }
    this.move('early-message', s)
    return { type: 'offense', offense: { kind: 'before-handshake', command: commandOf(msg), state: s.name } }
  }

  private negotiate(s: Extract<HandshakeState, { name: 'awaiting-verack' }>, msg: Message): PeerFeatures {
    const f = s.features
    switch (msg.command) {
      case 'wtxidrelay':
        // Below 70016 Core ignores it; so do we. It counts only if we offered it too.
        return { ...f, wtxidRelay: s.offeredWtxid }
      case 'sendaddrv2':
        return { ...f, addrv2: true }
      case 'sendtxrcncl':
        return { ...f, txReconciliation: { version: msg.version, salt: msg.salt } }
      default:
        return f
    }
  }

  private onVerack(s: Extract<HandshakeState, { name: 'awaiting-verack' }>): HandshakeOutcome {
    const info: HandshakeInfo = {
      direction: this.direction,
      peer: s.peer,
      negotiatedVersion: s.negotiatedVersion,
      features: s.features,
      nonce: this.nonce,
    }
    this.move('verack', { name: 'ready', info })
    const v = s.negotiatedVersion
    if ((this.cfg.sendHeaders ?? true) && v >= SENDHEADERS_VERSION) this.out.send({ command: 'sendheaders' })
    const cb = this.cfg.compactBlocks
    if (cb && v >= SHORT_IDS_BLOCKS_VERSION) this.out.send({ command: 'sendcmpct', announce: cb.announce, version: cb.version })
    const ff = this.cfg.feeFilter
    if (ff !== undefined && v >= FEEFILTER_VERSION) this.out.send({ command: 'feefilter', feerate: ff })
    return { type: 'ready', info }
  }

  /** Our version message at `now`. */
  versionMessage(now: number): KnownMessage {
    const services = this.cfg.services ?? Services.NONE
    const unixMs = now + (this.cfg.unixTimeOffsetMs ?? 0)
    return {
      command: 'version',
      version: this.protocolVersion,
      services,
      timestamp: BigInt(Math.floor(unixMs / 1000)),
      addrRecv: this.cfg.remoteAddress ?? nullAddress(0n),
      addrFrom: nullAddress(services),
      nonce: this.nonce,
      userAgent: this.cfg.userAgent ?? DEFAULT_USER_AGENT,
      startHeight: this.cfg.startHeight ?? 0,
      relay: this.cfg.relay ?? true,
    }
  }
}

/** The command as the peer sent it (unknown commands keep their raw name). */
export function commandOf(msg: Message): string {
  return msg.command === 'unknown' ? msg.rawCommand : msg.command
}

/** True when pings to a peer of this version carry a nonce and get a pong (BIP31). */
export function supportsBip31(negotiatedVersion: number): boolean {
  return negotiatedVersion > BIP0031_VERSION
}
