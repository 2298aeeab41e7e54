// Which build a project of vitest.config.ts runs: the default project the
// pure AEAD, the node-variant project node:crypto's. Without this, the
// node-variant project could silently run the pure code again.
import { describe, expect, inject, it } from 'vitest'
import { PACKET_AEAD_BACKEND } from '../src/index.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The packet AEAD the project's build must use. */
    aeadBackend: 'noble' | 'node:crypto'
  }
}

describe('the build under test', () => {
  it('uses the packet AEAD its vitest project names', () => {
    expect(PACKET_AEAD_BACKEND).toBe(inject('aeadBackend'))
  })
})
