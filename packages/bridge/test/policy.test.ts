// The target policy on its own (the bridge tests drive it end to end).
import { describe, expect, it } from 'vitest'
import { checkTarget, compileAllowlist, isHostname, MAX_RESOLVED_ADDRESSES, type TargetPolicy } from '../src/policy.js'

const resolver = (table: Record<string, string[]>) => async (name: string) => {
  const a = table[name]
  if (a === undefined) throw new Error('ENOTFOUND')
  return a
}

describe('compileAllowlist', () => {
  it('canonicalises IP literals and lowercases names', () => {
    const a = compileAllowlist(['[2001:DB8:0::1]:8333', '[::ffff:203.0.113.9]:8333', 'Seed.Example:8333'])
    expect(a.has('2001:db8::1', 8333)).toBe(true)
    expect(a.has('[2001:0db8::0:1]', 8333)).toBe(true)
    expect(a.has('203.0.113.9', 8333)).toBe(true)
    expect(a.has('seed.example', 8333)).toBe(true)
    expect(a.has('seed.example', 8334)).toBe(false)
    expect(a.size).toBe(3)
  })
  it.each(['1.2.3.4', '1.2.3.4:0', '1.2.3.4:65536', '::1:80', '[::1]', 'a b:1', '[zz::1]:1', ''])('throws on %j', (entry) => {
    expect(() => compileAllowlist([entry])).toThrow(RangeError)
  })
})

describe('checkTarget', () => {
  const policy = (allow: string[], allowPrivate: boolean, table: Record<string, string[]> = {}): TargetPolicy => ({
    allow: compileAllowlist(allow),
    allowPrivate,
    resolve: resolver(table),
  })

  it('allows a listed global IP and says which address to connect to', async () => {
    expect(await checkTarget(policy(['8.8.8.8:8333'], false), '8.8.8.8', 8333)).toEqual({ ok: true, ip: '8.8.8.8', addresses: ['8.8.8.8'] })
    expect(await checkTarget(policy(['[2606:4700::1]:8333'], false), '2606:4700:0::1', 8333)).toMatchObject({ ok: true, ip: '2606:4700::1' })
  })
  it('checks the allowlist before the scope (4001 before 4002)', async () => {
    expect(await checkTarget(policy([], false), '10.0.0.1', 8333)).toMatchObject({ ok: false, code: 4001 })
    expect(await checkTarget(policy(['10.0.0.1:8333'], false), '10.0.0.1', 8333)).toMatchObject({ ok: false, code: 4002 })
    expect(await checkTarget(policy(['10.0.0.1:8333'], true), '10.0.0.1', 8333)).toMatchObject({ ok: true })
    // The port is part of the entry.
    expect(await checkTarget(policy(['8.8.8.8:8333'], false), '8.8.8.8', 8334)).toMatchObject({ ok: false, code: 4001 })
  })
  it('checks every resolved address of a name', async () => {
    const t = { 'a.test': ['8.8.8.8', '8.8.4.4'], 'b.test': ['8.8.8.8', '127.0.0.1'], 'c.test': ['8.8.8.8'] }
    expect(await checkTarget(policy(['a.test:1'], false, t), 'a.test', 1)).toEqual({ ok: true, ip: '8.8.8.8', addresses: ['8.8.8.8', '8.8.4.4'] })
    // Listed by name, one address is loopback.
    expect(await checkTarget(policy(['b.test:1'], false, t), 'b.test', 1)).toMatchObject({ ok: false, code: 4002 })
    // Not listed by name: each address must be listed.
    expect(await checkTarget(policy(['8.8.8.8:1'], false, t), 'c.test', 1)).toMatchObject({ ok: true, ip: '8.8.8.8' })
    expect(await checkTarget(policy(['8.8.8.8:1'], false, t), 'a.test', 1)).toMatchObject({ ok: false, code: 4001 })
  })
  it('refuses names that do not resolve, resolve to nothing, to junk, or to too much', async () => {
    const t: Record<string, string[]> = {
      'empty.test': [],
      'junk.test': ['not-an-ip'],
      'many.test': Array.from({ length: MAX_RESOLVED_ADDRESSES + 1 }, (_, i) => `8.8.${i >> 8}.${i & 255}`),
    }
    const p = policy(['gone.test:1', 'empty.test:1', 'junk.test:1', 'many.test:1'], false, t)
    expect(await checkTarget(p, 'gone.test', 1)).toMatchObject({ ok: false, code: 4006 })
    expect(await checkTarget(p, 'empty.test', 1)).toMatchObject({ ok: false, code: 4006 })
    expect(await checkTarget(p, 'junk.test', 1)).toMatchObject({ ok: false, code: 4006 })
    expect(await checkTarget(p, 'many.test', 1)).toMatchObject({ ok: false, code: 4001 })
    // An unlisted name that does not resolve is simply not allowed.
    expect(await checkTarget(policy([], false), 'other.test', 1)).toMatchObject({ ok: false, code: 4001 })
  })
  it('refuses hosts that are neither IPs nor names', async () => {
    expect(await checkTarget(policy([], true), '-bad-.test', 1)).toMatchObject({ ok: false, code: 4000 })
    expect(isHostname('a'.repeat(64) + '.test')).toBe(false)
    expect(isHostname('xn--bcher-kva.example')).toBe(true)
  })
})
