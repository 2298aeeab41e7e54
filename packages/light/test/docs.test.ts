// Every name the package's entries export has a doc comment, and so does
// every public method and accessor of their exported classes (what
// TypeDoc's notDocumented validation asks; this runs with the tests).
/// <reference types="node" />
import { describe, expect, it } from 'vitest'
import { docsProgram, undocumented } from '../../../test/harness/docs.js'

const ENTRIES = ['index', 'node', 'indexeddb'].map((e) => new URL(`../src/${e}.ts`, import.meta.url).pathname)

describe('documentation', () => {
  const program = docsProgram(ENTRIES, { dom: true, node: true })
  for (const entry of ENTRIES) {
    it(`every export of ${entry.replace(/^.*\/src\//, 'src/')}, and every public method of its classes and interfaces, is documented`, () => {
      // Inherited from a dependency (EventEmitter's methods): documented there.
      const { exports, missing } = undocumented(program, entry, { skipMembersOf: (file) => file.includes('/node_modules/') })
      expect(exports).toBeGreaterThan(3)
      expect(missing).toEqual([])
    })
  }
})
