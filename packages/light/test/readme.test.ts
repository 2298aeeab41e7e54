// The README's example is this code (between readme:start and readme:end),
// and it does what its comments say.
/// <reference types="node" />
import { describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mainnet, testnet4, toHex } from '@bitp2p/wire'
import { addressToScript, isAddressError, scriptToAddress, scriptType } from '../src/index.js'
import { FileLightStore } from '../src/node.js'

/** The lines of this file between `// <marker>:start` and `// <marker>:end`, without the test's indentation. */
function snippet(marker: string): string {
  const test = readFileSync(new URL(import.meta.url), 'utf8')
  const m = new RegExp(`// ${marker}:start\\n([\\s\\S]*?)\\n\\s*// ${marker}:end\\n`).exec(test)
  expect(m).not.toBeNull()
  const indent = /^ */.exec(m![1]!)![0]!.length
  return m![1]!
    .split('\n')
    .map((l) => l.slice(Math.min(indent, /^ */.exec(l)![0]!.length)))
    .join('\n')
}

describe('README example', () => {
  it('runs, and prints what the README says', () => {
    // readme:start
    const script = addressToScript('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', mainnet)
    const hex = toHex(script) // '0014751e76e8199196d454941c45d1b3a323f1433bd6'
    const type = scriptType(script) // 'p2wpkh'
    const onTestnet = scriptToAddress(script, testnet4) // 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx'

    let code: string | undefined
    try {
      addressToScript(onTestnet!, mainnet)
    } catch (e) {
      if (isAddressError(e)) code = e.code // 'WRONG_NETWORK' (e.detail.networks: testnet3, testnet4, signet)
    }
    // readme:end
    expect(hex).toBe('0014751e76e8199196d454941c45d1b3a323f1433bd6')
    expect(type).toBe('p2wpkh')
    expect(onTestnet).toBe('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx')
    expect(code).toBe('WRONG_NETWORK')
  })

  it('is the code in README.md', () => {
    const test = readFileSync(new URL(import.meta.url), 'utf8')
    const m = /\/\/ readme:start\n([\s\S]*?)\n\s*\/\/ readme:end\n/.exec(test)
    expect(m).not.toBeNull()
    // The README's block is the same lines, without the test's indentation.
    const snippet = m![1]!
      .split('\n')
      .map((l) => l.replace(/^ {4}/, ''))
      .join('\n')
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readme).toContain(snippet + '\n```\n')
  })

  it('the Stores example runs: what was written is there after a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bitp2p-light-readme-'))
    const filterHeaders = new Uint8Array(3 * 32).fill(7)
    try {
      // readme-store:start
      const store = await FileLightStore.open(dir)
      await store.putFilterHeaders(0, filterHeaders) // heights 0..n-1, 32 bytes each
      await store.saveState({ scanHeight: 41 })
      await store.close()

      // After a restart: what was written is there; nothing is downloaded again.
      const again = await FileLightStore.open(dir)
      const stored = await again.loadFilterHeaders() // the same n headers
      const state = await again.loadState() // { scanHeight: 41 }
      await again.close()
      // readme-store:end
      expect(stored).toEqual(filterHeaders)
      expect(state).toEqual({ scanHeight: 41 })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('the Stores example is the code in README.md', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readme).toContain("import { FileLightStore } from '@bitp2p/light/node'\n\n" + snippet('readme-store') + '\n```\n')
  })
})
