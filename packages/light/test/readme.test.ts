// The README's example is this code (between readme:start and readme:end),
// and it does what its comments say.
/// <reference types="node" />
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { mainnet, testnet4, toHex } from '@bitp2p/wire'
import { addressToScript, isAddressError, scriptToAddress, scriptType } from '../src/index.js'

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
})
