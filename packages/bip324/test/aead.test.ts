/**
 * The two packet AEADs: @noble/ciphers (aead.ts, the default build) and
 * node:crypto (aead.node.ts, the Node variant).
 *
 * Specification:
 *  - each says which it is; on Node, the Node variant uses node:crypto;
 *  - they are one function: the same ciphertext and tag for any plaintext,
 *    AAD and split of the plaintext into head and tail, and each opens what
 *    the other sealed;
 *  - a flipped bit anywhere (ciphertext, tag, AAD) is refused by both, and
 *    the refused input is left as it was;
 *  - at the session level, packets sealed by a V2Session of one build are
 *    decoded by a V2Session of the other, both ways, across rekeys, and a
 *    flipped bit is the same typed BAD_TAG in both;
 *  - copies: with node:crypto, a packet pushed in one chunk is opened where
 *    it lies, and a payload is encrypted from where it lies; the pure AEAD,
 *    which decrypts in place, always gets the receiver's own copy;
 *  - the Node variant falls back to @noble/ciphers at load, deterministically,
 *    when node:crypto lacks the cipher (Bun 1.4) or disagrees with it.
 */
import * as nodeCrypto from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import * as pure from '../src/aead.js'
import * as native from '../src/aead.node.js'
import { REKEY_INTERVAL, TAG_BYTES } from '../src/constants.js'
import { deriveV2Keys } from '../src/keys.js'
import { randomBytes } from '../src/random.js'
import type * as SessionModule from '../src/session.js'
import { plain, REGTEST_MAGIC, TestRandom } from './helpers.js'
import { concatBytes } from '@bitp2p/wire'

type Aead = typeof pure
const BACKENDS = [
  ['noble', pure],
  ['node:crypto', native],
] as const

const key = Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1)
const nonce = Uint8Array.from({ length: 12 }, (_, i) => 0xf0 - i)

/** `message` sealed by `impl`, split into head and tail at `head`. */
function sealWith(impl: Aead, message: Uint8Array, aad: Uint8Array, head = message.length): Uint8Array {
  const out = new Uint8Array(message.length + TAG_BYTES)
  out.set(message.subarray(0, head))
  impl.aeadSeal(key, nonce, aad, out, head, message.slice(head))
  return out
}

/** Byte equality (vitest's toEqual walks a large typed array slowly). */
function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i])
}

/** `sealed` opened by `impl` on a copy (the pure one decrypts in place), or undefined. */
function openWith(impl: Aead, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  return impl.aeadOpen(key, nonce, aad, sealed.slice())?.slice()
}

describe('the packet AEAD backends', () => {
  it('say which they are: the default build noble, the Node variant node:crypto (Node has the cipher)', () => {
    expect(pure.PACKET_AEAD_BACKEND).toBe('noble')
    expect(native.PACKET_AEAD_BACKEND).toBe('node:crypto')
    expect(pure.AEAD_OPEN_WRITES_INPUT).toBe(true)
    expect(native.AEAD_OPEN_WRITES_INPUT).toBe(false)
  })

  it('property: the same ciphertext and tag for any plaintext, AAD and head/tail split; each opens the other', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), fc.nat(), (message, aad, at) => {
        const head = at % (message.length + 1)
        const a = sealWith(pure, message, aad, head)
        const b = sealWith(native, message, aad, head)
        expect(b).toEqual(a)
        expect(sealWith(pure, message, aad)).toEqual(a)
        expect(openWith(native, a, aad)).toEqual(message)
        expect(openWith(pure, b, aad)).toEqual(message)
      }),
      { seed: 324, numRuns: 200 },
    )
  })

  it('agree across block boundaries and on a 1 MB packet', () => {
    const rng = new TestRandom(5)
    for (const n of [1, 63, 64, 65, 1000, 65_537, 1 << 20]) {
      const message = randomBytes(rng, n)
      const aad = randomBytes(rng, n % 7)
      const a = sealWith(pure, message, aad, Math.min(2, n))
      expect(same(sealWith(native, message, aad, Math.min(2, n)), a), `${n} bytes sealed alike`).toBe(true)
      expect(same(openWith(native, a, aad), message), `${n} bytes: node:crypto opens noble's`).toBe(true)
      expect(same(openWith(pure, sealWith(native, message, aad), aad), message), `${n} bytes: noble opens node:crypto's`).toBe(true)
    }
  })

  for (const [name, impl] of BACKENDS) {
    it(`${name}: a flipped bit in the ciphertext, the tag or the AAD is refused, and the input is left unchanged`, () => {
      const message = Uint8Array.from({ length: 100 }, (_, i) => i)
      const aad = Uint8Array.from([1, 2, 3])
      const sealed = sealWith(pure, message, aad)
      for (const at of [0, 57, 99, 100, 115]) {
        const bad = sealed.slice()
        bad[at]! ^= 0x10
        const before = bad.slice()
        expect(impl.aeadOpen(key, nonce, aad, bad), `byte ${at}`).toBeUndefined()
        expect(bad).toEqual(before)
      }
      expect(impl.aeadOpen(key, nonce, Uint8Array.from([1, 2, 2]), sealed.slice())).toBeUndefined()
      expect(impl.aeadOpen(key, nonce, new Uint8Array(0), sealed.slice())).toBeUndefined()
    })
  }

  it('node:crypto returns plain Uint8Array plaintext and never writes its input', () => {
    const message = Uint8Array.from({ length: 50 }, (_, i) => 200 - i)
    const sealed = sealWith(pure, message, new Uint8Array(0))
    const copy = sealed.slice()
    const opened = native.aeadOpen(key, nonce, new Uint8Array(0), sealed)!
    expect(Object.getPrototypeOf(opened)).toBe(Uint8Array.prototype)
    expect(opened).toEqual(message)
    expect(sealed).toEqual(copy)
  })
})

describe('sessions of the two builds talk to each other', () => {
  afterEach(() => {
    vi.doUnmock('../src/aead.js')
    vi.resetModules()
  })

  /** The session module of each build: its aead.js is aead.ts (default) or aead.node.ts (Node variant). */
  async function builds(): Promise<{ pureSession: typeof SessionModule; nodeSession: typeof SessionModule }> {
    vi.resetModules()
    const pureSession = await import('../src/session.js')
    vi.resetModules()
    vi.doMock('../src/aead.js', () => import('../src/aead.node.js'))
    const nodeSession = await import('../src/session.js')
    return { pureSession, nodeSession }
  }

  const keys = deriveV2Keys(randomBytes(new TestRandom(9), 32), REGTEST_MAGIC)
  const limits = { maxPayload: 4_000_000 }

  it(`${REKEY_INTERVAL + 30} packets (three of them 200 KB) each way across a rekey: default -> node variant and node variant -> default`, async () => {
    const { pureSession, nodeSession } = await builds()
    expect(pureSession.V2Session).not.toBe(nodeSession.V2Session)
    const rng = new TestRandom(11)
    for (const [from, to] of [
      [pureSession, nodeSession],
      [nodeSession, pureSession],
    ] as const) {
      const tx = from.V2Session.fromKeys({ keys, role: 'initiator', sentGarbage: Uint8Array.from([7, 7, 7]), ...limits })
      const rx = to.V2Session.fromKeys({ keys, role: 'responder', receivedGarbage: Uint8Array.from([7, 7, 7]), ...limits })
      const payloads = Array.from({ length: REKEY_INTERVAL + 30 }, (_, i) => randomBytes(rng, i % 100 === 50 ? 200_000 : rng.int(300)))
      // Sent as one stream, then pushed in 1,000-byte reads: packets arrive in one piece and in many.
      const stream = concatBytes(...payloads.map((p, i) => (i % 5 === 0 ? tx.decoy(i) : tx.encrypt('tx', p))))
      const events = []
      for (let o = 0; o < stream.length; o += 1000) events.push(...rx.push(stream.subarray(o, o + 1000)))
      expect(events.filter((e) => e.type === 'error')).toEqual([])
      const frames = events.filter((e) => e.type === 'frame')
      const expected = payloads.filter((_, i) => i % 5 !== 0)
      expect(frames).toHaveLength(expected.length)
      expect(frames.filter((f, i) => !same(f.payload, expected[i]!)).length).toBe(0)
      expect(events.filter((e) => e.type === 'decoy')).toHaveLength(Math.ceil(payloads.length / 5))
    }
  })

  it('a flipped bit is the same BAD_TAG in both builds, whichever sealed it', async () => {
    const { pureSession, nodeSession } = await builds()
    const results = []
    for (const from of [pureSession, nodeSession]) {
      for (const to of [pureSession, nodeSession]) {
        const tx = from.V2Session.fromKeys({ keys, role: 'initiator', ...limits })
        const rx = to.V2Session.fromKeys({ keys, role: 'responder', ...limits })
        expect(rx.push(tx.encrypt('ping', new Uint8Array(8)))[0]!.type).toBe('frame')
        const bad = tx.encrypt('tx', new Uint8Array(500))
        bad[300]! ^= 1
        const whole = bad.slice()
        results.push(rx.push(bad).map(plain))
        // The receiver only read the caller's chunk (node:crypto) or decrypted its own copy (noble).
        expect(bad).toEqual(whole)
      }
    }
    expect(results).toEqual(Array(4).fill([{ type: 'error', code: 'BAD_TAG', detail: { packet: 1 }, retryV1: false }]))
  })
})

describe('copies in the packet path', () => {
  afterEach(() => {
    vi.doUnmock('../src/aead.js')
    vi.resetModules()
  })

  /** The session module over `backend`, with every aeadSeal tail and aeadOpen input recorded. */
  async function recorded(backend: '../src/aead.js' | '../src/aead.node.js') {
    const seen = { tails: [] as Uint8Array[], opened: [] as Uint8Array[] }
    vi.resetModules()
    vi.doMock('../src/aead.js', async () => {
      const real = (await vi.importActual(backend)) as Aead
      return {
        ...real,
        aeadSeal: (...a: Parameters<Aead['aeadSeal']>) => {
          seen.tails.push(a[5])
          real.aeadSeal(...a)
        },
        aeadOpen: (...a: Parameters<Aead['aeadOpen']>) => {
          seen.opened.push(a[3])
          return real.aeadOpen(...a)
        },
      }
    })
    const session = (await import('../src/session.js')) as typeof SessionModule
    const keys = deriveV2Keys(randomBytes(new TestRandom(3), 32), REGTEST_MAGIC)
    const tx = session.V2Session.fromKeys({ keys, role: 'initiator', maxPayload: 4_000_000 })
    const rx = session.V2Session.fromKeys({ keys, role: 'responder', maxPayload: 4_000_000 })
    return { seen, tx, rx }
  }

  it('node:crypto: the payload is read where it lies, and a packet pushed in one chunk is opened in that chunk', async () => {
    const { seen, tx, rx } = await recorded('../src/aead.node.js')
    const payload = randomBytes(new TestRandom(4), 5000)
    const packet = tx.encrypt('block', payload)
    expect(seen.tails[0]).toBe(payload)
    // Received inside a larger read (another packet follows in the same chunk).
    const chunk = concatBytes(packet, tx.encrypt('ping', new Uint8Array(8)))
    const events = rx.push(chunk)
    expect(events.map((e) => e.type)).toEqual(['frame', 'frame'])
    expect(seen.opened[0]!.buffer).toBe(chunk.buffer)
    expect(seen.opened[0]!.byteOffset).toBe(chunk.byteOffset + 3)
    expect(seen.opened[0]!.length).toBe(packet.length - 3)
    expect(same((events[0] as { payload: Uint8Array }).payload, payload)).toBe(true)
  })

  it('node:crypto: a packet in several chunks is joined once; noble always opens a copy it owns', async () => {
    for (const backend of ['../src/aead.node.js', '../src/aead.js'] as const) {
      const { seen, tx, rx } = await recorded(backend)
      const packet = tx.encrypt('tx', new Uint8Array(3000).fill(9))
      const whole = packet.slice()
      // Two reads into separate buffers (adjacent views of one buffer count as one piece).
      const [first, second] = [packet.slice(0, 1000), packet.slice(1000)]
      const events = [...rx.push(first), ...rx.push(second)]
      expect(events.map((e) => e.type)).toEqual(['frame'])
      expect([first.buffer, second.buffer]).not.toContain(seen.opened[0]!.buffer)
      const single = tx.encrypt('tx', new Uint8Array(3000).fill(8))
      rx.push(single)
      expect(seen.opened[1]!.buffer === single.buffer, backend).toBe(backend === '../src/aead.node.js')
      // Never written: the caller's chunks are the caller's.
      expect(same(concatBytes(first, second), whole)).toBe(true)
      expect(same(packet, whole)).toBe(true)
      vi.doUnmock('../src/aead.js')
    }
  })
})

describe('the Node variant falls back to @noble/ciphers at load', () => {
  afterEach(() => {
    vi.doUnmock('node:crypto')
    vi.resetModules()
  })

  it('when node:crypto does not list chacha20-poly1305 (as in Bun 1.4)', async () => {
    vi.resetModules()
    vi.doMock('node:crypto', () => ({ ...nodeCrypto, getCiphers: () => nodeCrypto.getCiphers().filter((c) => c !== 'chacha20-poly1305') }))
    const m = await import('../src/aead.node.js')
    expect(m.PACKET_AEAD_BACKEND).toBe('noble')
    expect(m.AEAD_OPEN_WRITES_INPUT).toBe(true)
    const message = Uint8Array.from({ length: 90 }, (_, i) => i)
    expect(sealWith(m, message, new Uint8Array(1))).toEqual(sealWith(pure, message, new Uint8Array(1)))
  })

  it('when node:crypto throws on the cipher', async () => {
    vi.resetModules()
    vi.doMock('node:crypto', () => ({
      ...nodeCrypto,
      createCipheriv: () => {
        throw new Error('Unknown cipher')
      },
    }))
    const m = await import('../src/aead.node.js')
    expect(m.PACKET_AEAD_BACKEND).toBe('noble')
  })

  it('when node:crypto disagrees with the self-test (here: it ignores the AAD)', async () => {
    vi.resetModules()
    vi.doMock('node:crypto', () => ({
      ...nodeCrypto,
      createCipheriv: (...args: Parameters<typeof nodeCrypto.createCipheriv>) => {
        const c = nodeCrypto.createCipheriv(...args) as nodeCrypto.CipherChaCha20Poly1305
        c.setAAD = () => c
        return c
      },
    }))
    const m = await import('../src/aead.node.js')
    expect(m.PACKET_AEAD_BACKEND).toBe('noble')
    expect(m.AEAD_OPEN_WRITES_INPUT).toBe(true)
    // The fallback seals correctly although the mocked cipher would not (the AAD counts).
    const message = Uint8Array.from({ length: 90 }, (_, i) => i)
    expect(sealWith(m, message, new Uint8Array(3))).toEqual(sealWith(pure, message, new Uint8Array(3)))
  })

  it('and not when node:crypto works (the same import, unmocked)', async () => {
    vi.resetModules()
    const m = await import('../src/aead.node.js')
    expect(m.PACKET_AEAD_BACKEND).toBe('node:crypto')
  })
})
