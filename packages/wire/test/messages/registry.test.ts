// Properties over the whole codec table: whatever the bytes, decoding gives a
// typed message or a WireError, never another exception and never a large
// allocation; and every command round-trips through framing.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CODECS, codecFor, decodePayload, encodePayload, isKnownCommand } from '../../src/messages/registry.js'
import { MessageDecoder, encodeMessage } from '../../src/framing/message-decoder.js'
import { DEFAULT_CODEC_CONTEXT } from '../../src/messages/context.js'
import { WireError } from '../../src/errors.js'
import { regtest } from '../../src/network/params.js'
import { concatBytes } from '../../src/bytes/hex.js'

const ctx = DEFAULT_CODEC_CONTEXT

describe('codec table', () => {
  it('has one codec per command, each with a positive or zero cap', () => {
    const commands = CODECS.map((c) => c.command)
    expect(new Set(commands).size).toBe(commands.length)
    expect(commands.length).toBe(36)
    for (const c of CODECS) {
      expect(c.command.length).toBeLessThanOrEqual(12)
      expect(c.maxPayload(ctx)).toBeGreaterThanOrEqual(0)
      // Block-sized messages may exceed the block size by their own framing
      // (indexes, counts); the global cap still applies on top.
      expect(c.maxPayload(ctx)).toBeLessThanOrEqual(ctx.maxBlockPayload * 1.1)
    }
  })

  it('keeps unknown commands raw instead of failing', () => {
    const m = decodePayload('xversion', new Uint8Array([1, 2, 3]), ctx)
    expect(m).toEqual({ command: 'unknown', rawCommand: 'xversion', payload: new Uint8Array([1, 2, 3]) })
    expect(isKnownCommand('xversion')).toBe(false)
    expect(codecFor('version')?.command).toBe('version')
  })

  for (const codec of CODECS) {
    it(`${codec.command}: random payloads decode or throw WireError with the command attached`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
          try {
            const m = decodePayload(codec.command, bytes, ctx)
            expect(m.command).toBe(codec.command)
            // Whatever decoded must encode back to the same bytes or to a canonical form that decodes the same.
            const again = decodePayload(codec.command, encodePayload(m, ctx), ctx)
            expect(again).toEqual(m)
          } catch (e) {
            expect(e).toBeInstanceOf(WireError)
            expect((e as WireError).detail.command).toBe(codec.command)
          }
        }),
        { numRuns: 150, seed: 11 },
      )
    })
  }

  it('a CompactSize count of 2^32 in any count-carrying message fails on the count itself', () => {
    const huge = new Uint8Array([0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00])
    // What precedes the count: a block's header; cfheaders' filter type, stop hash and previous filter header.
    const prefix: Record<string, number> = { block: 80, cfheaders: 1 + 32 + 32 }
    for (const command of ['inv', 'getdata', 'notfound', 'addr', 'addrv2', 'headers', 'block', 'cfheaders']) {
      const at = prefix[command] ?? 0
      let err: WireError | undefined
      try {
        decodePayload(command, concatBytes(new Uint8Array(at), huge), ctx)
      } catch (e) {
        err = e as WireError
      }
      // OVERSIZE for the count as read, at its offset: the decoder refused
      // it before reading or allocating a single entry. (An eager allocation
      // would have thrown a RangeError or never returned instead.)
      expect(err, command).toBeInstanceOf(WireError)
      expect({ code: err!.code, actual: err!.detail.actual, offset: err!.detail.offset }, command).toEqual({ code: 'OVERSIZE', actual: 2 ** 32, offset: at })
    }
  })
})

describe('MessageDecoder', () => {
  it('property: mutated frame streams give only messages, invalid payloads or one fatal WireError', () => {
    const pings = [0n, 1n, 2n ** 64n - 1n].map((nonce) => encodeMessage({ command: 'ping', nonce }, regtest))
    const inv = encodeMessage({ command: 'inv', items: [{ type: 1, hash: new Uint8Array(32).fill(9) }] }, regtest)
    const base = concatBytes(...pings, inv)
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }), fc.integer({ min: 1, max: 50 }), (flips, chunk) => {
        const bytes = base.slice()
        for (const [at, x] of flips) bytes[at % bytes.length] ^= x
        const d = new MessageDecoder({ network: regtest })
        let errors = 0
        for (let i = 0; i < bytes.length && !d.failed; i += chunk) {
          for (const ev of d.push(bytes.subarray(i, i + chunk))) {
            if (ev.type === 'error') errors++
            if (ev.type === 'error' || ev.type === 'invalid') expect(ev.error).toBeInstanceOf(WireError)
          }
        }
        expect(errors).toBeLessThanOrEqual(1)
        if (flips.length === 0) expect(d.failed).toBe(false)
      }),
      { numRuns: 300, seed: 5 },
    )
  })

  it('reports a payload that frames but does not decode as invalid, and keeps going', () => {
    const bad = encodeMessage({ command: 'unknown', rawCommand: 'pong', payload: new Uint8Array(3) }, regtest)
    const good = encodeMessage({ command: 'ping', nonce: 5n }, regtest)
    const d = new MessageDecoder({ network: regtest })
    const ev = d.push(concatBytes(bad, good))
    expect(ev.map((e) => e.type)).toEqual(['invalid', 'message'])
    expect(ev[0]).toMatchObject({ command: 'pong', error: { code: 'TRUNCATED' } })
    expect(ev[1]).toMatchObject({ message: { command: 'ping', nonce: 5n } })
  })
})
