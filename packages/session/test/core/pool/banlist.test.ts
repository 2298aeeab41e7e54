import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { BIP155Network, WireError, ipFromString, isWireError } from '@bitp2p/wire'
import { BAN_FOREVER, BAN_LIST_FORMAT_VERSION, BAN_LIST_MAGIC, BanList, MAX_BAN_REASON_BYTES, parseSubnet, subnetContains, subnetToString } from '../../../src/core/pool/banlist.js'
import { frameStore } from '../../../src/core/pool/addrman.js'
import { ip4 } from './fixtures.js'

const T = 1_750_000_000

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

describe('subnets', () => {
  it('parses hosts and CIDR, clearing host bits', () => {
    expect(parseSubnet('10.1.2.3/8')).toEqual({ network: BIP155Network.IPV4, bytes: Uint8Array.of(10, 0, 0, 0), bits: 8 })
    expect(subnetToString(parseSubnet('10.1.2.3/8'))).toBe('10.0.0.0/8')
    expect(subnetToString(parseSubnet('1.2.3.4'))).toBe('1.2.3.4')
    expect(subnetToString(parseSubnet('2001:db8:ffff::1/32'))).toBe('2001:db8::/32')
    expect(subnetToString(parseSubnet('1.2.3.4/12'))).toBe('1.0.0.0/12')
    for (const bad of ['1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/08', 'example.com', '1.2.3/8', '::/129']) {
      expect((thrown(() => parseSubnet(bad)) as WireError).code).toBe('INVALID_VALUE')
    }
  })

  it('contains exactly the addresses under its prefix', () => {
    const s = parseSubnet('172.16.0.0/12')
    expect(subnetContains(s, ip4(172, 16, 0, 1))).toBe(true)
    expect(subnetContains(s, ip4(172, 31, 255, 255))).toBe(true)
    expect(subnetContains(s, ip4(172, 32, 0, 0))).toBe(false)
    expect(subnetContains(s, { network: BIP155Network.IPV6, bytes: ipFromString('ac10::'), port: 1 })).toBe(false)
    expect(subnetContains(parseSubnet('0.0.0.0/0'), ip4(8, 8, 8, 8))).toBe(true)
  })
})

describe('BanList', () => {
  it('bans a host on every port until the ban expires', () => {
    const list = new BanList()
    list.ban(ip4(23, 1, 1, 1), T + 3600, 'bad headers', T)
    expect(list.isBanned(ip4(23, 1, 1, 1), T)).toBe(true)
    expect(list.isBanned({ host: '23.1.1.1', port: 18333 }, T)).toBe(true)
    expect(list.isBanned(ip4(23, 1, 1, 2), T)).toBe(false)
    expect(list.isBanned(ip4(23, 1, 1, 1), T + 3599)).toBe(true)
    expect(list.isBanned(ip4(23, 1, 1, 1), T + 3600)).toBe(false)
    expect(list.bannedUntil(ip4(23, 1, 1, 1), T)).toBe(T + 3600)
  })

  it('bans subnets, and reports the latest covering expiry', () => {
    const list = new BanList()
    list.ban('23.0.0.0/8', T + 100, 'spam')
    list.ban(ip4(23, 5, 5, 5), T + 50)
    list.ban('2001:db8::/32', BAN_FOREVER)
    expect(list.isBanned(ip4(23, 200, 1, 1), T)).toBe(true)
    expect(list.bannedUntil(ip4(23, 5, 5, 5), T)).toBe(T + 100)
    expect(list.isBanned(ip4(24, 0, 0, 1), T)).toBe(false)
    expect(list.isBanned({ host: '2001:db8::77', port: 1 }, T + 1e8)).toBe(true)
    expect(list.isBanned({ host: 'seed.example', port: 1 }, T)).toBe(false)
  })

  it('only ever extends a ban, and unban lifts exactly the named target', () => {
    const list = new BanList()
    list.ban('23.1.1.1', T + 100, 'first')
    list.ban('23.1.1.1', T + 50, 'shorter')
    expect(list.list()[0]!.until).toBe(T + 100)
    expect(list.list()[0]!.reason).toBe('first')
    list.ban('23.1.1.1', T + 500, 'longer')
    expect(list.list()).toHaveLength(1)
    expect(list.list()[0]!.reason).toBe('longer')
    list.ban('23.0.0.0/8', T + 500)
    expect(list.unban('23.1.1.1')).toBe(true)
    expect(list.isBanned(ip4(23, 1, 1, 1), T)).toBe(true) // still under the /8
    expect(list.unban('23.0.0.0/8')).toBe(true)
    expect(list.isBanned(ip4(23, 1, 1, 1), T)).toBe(false)
    expect(list.unban('23.0.0.0/8')).toBe(false)
  })

  it('sweeps expired bans', () => {
    const list = new BanList()
    list.ban('23.1.1.1', T + 10)
    list.ban('23.1.1.2', T + 20)
    list.ban('24.0.0.0/16', T + 30)
    expect(list.sweep(T + 20)).toBe(2)
    expect(list.list().map((b) => subnetToString(b.subnet))).toEqual(['24.0.0.0/16'])
    expect(list.sweep(T + 30)).toBe(1)
    expect(list.size).toBe(0)
  })

  it('makes room by dropping the ban that expires soonest', () => {
    const list = new BanList({ maxBans: 2 })
    list.ban('23.1.1.1', T + 300)
    list.ban('23.1.1.2', T + 100)
    list.ban('23.1.1.3', T + 200)
    expect(list.size).toBe(2)
    expect(list.isBanned(ip4(23, 1, 1, 2), T)).toBe(false)
    expect(list.isBanned(ip4(23, 1, 1, 3), T)).toBe(true)
  })

  it('cuts long reasons at a character boundary', () => {
    const list = new BanList()
    list.ban('23.1.1.1', T + 1, 'é'.repeat(200))
    const r = list.list()[0]!.reason
    expect(new TextEncoder().encode(r).length).toBeLessThanOrEqual(MAX_BAN_REASON_BYTES)
    expect(r).toBe('é'.repeat(MAX_BAN_REASON_BYTES / 2))
  })

  it('round-trips through serialize and keeps working', () => {
    const list = new BanList()
    list.ban('23.1.1.1', T + 100, 'misbehaving', T)
    list.ban('10.0.0.0/8', BAN_FOREVER, 'local policy', T)
    list.ban({ host: '2a00:1450::1', port: 8333 }, T + 5, 'Ünïcödé reason', T)
    list.ban({ network: BIP155Network.TORV3, bytes: new Uint8Array(32).fill(3), port: 0 }, T + 9)
    const bytes = list.serialize()
    const copy = BanList.deserialize(bytes)
    expect(copy.list()).toEqual(list.list())
    expect(copy.serialize()).toEqual(bytes)
    expect(copy.isBanned(ip4(10, 9, 9, 9), T + 1e6)).toBe(true)
    expect(copy.sweep(T + 100)).toBe(3)
    expect(copy.isBanned(ip4(23, 1, 1, 1), T + 100)).toBe(false)
  })

  it('rejects corrupt, truncated and inconsistent bytes with a typed error', () => {
    const list = new BanList()
    list.ban('23.1.1.1', T + 100, 'x')
    list.ban('10.0.0.0/8', T + 100, 'y')
    const bytes = list.serialize()
    const code = (b: Uint8Array) => (thrown(() => BanList.deserialize(b)) as WireError).code
    const flipped = bytes.slice()
    flipped[12] ^= 1
    expect(code(flipped)).toBe('BAD_CHECKSUM')
    expect(code(bytes.subarray(0, bytes.length - 2))).toBe('TRUNCATED')
    const magic = bytes.slice()
    magic[3] ^= 1
    expect(code(magic)).toBe('BAD_MAGIC')
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = bytes.slice()
        b[i] ^= x
        expect(isWireError(thrown(() => BanList.deserialize(b)))).toBe(true)
      }),
    )
    const seal = (body: number[]) => frameStore(BAN_LIST_MAGIC, BAN_LIST_FORMAT_VERSION, Uint8Array.from(body))
    const ban = (net: number, bits: number, addr: number[]) => [net, bits, 0, ...addr, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    // Host bits set past the prefix.
    expect(code(seal([1, ...ban(1, 8, [10, 1, 0, 0])]))).toBe('INVALID_VALUE')
    // A prefix longer than the address.
    expect(code(seal([1, ...ban(1, 40, [10, 0, 0, 0])]))).toBe('INVALID_VALUE')
    // Tor v2 and unknown networks.
    expect(code(seal([1, ...ban(3, 0, new Array(10).fill(0))]))).toBe('INVALID_VALUE')
    expect(code(seal([1, ...ban(9, 0, [0, 0, 0, 0])]))).toBe('INVALID_VALUE')
    // The same subnet twice.
    expect(code(seal([2, ...ban(1, 8, [10, 0, 0, 0]), ...ban(1, 8, [10, 0, 0, 0])]))).toBe('INVALID_VALUE')
    // A count the bytes cannot hold.
    expect(code(seal([200, ...ban(1, 8, [10, 0, 0, 0])]))).toBe('TRUNCATED')
    // And a valid hand-made one loads.
    expect(BanList.deserialize(seal([1, ...ban(1, 8, [10, 0, 0, 0])])).isBanned(ip4(10, 1, 1, 1), 0)).toBe(false) // until = 0: expired
  })
})
