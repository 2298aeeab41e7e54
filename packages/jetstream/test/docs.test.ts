// Every name the package exports has a doc comment, and so does every public
// method and accessor of its exported classes and every method of its
// exported interfaces (what TypeDoc's notDocumented validation asks of the
// other packages). Members inherited from other packages (EventEmitter's)
// are theirs to document. The check is test/harness/docs.ts.
import { describe, expect, it } from 'vitest'
import { docsProgram, undocumented } from '../../../test/harness/docs.js'

const ENTRY = new URL('../src/index.ts', import.meta.url).pathname
const SRC = new URL('../src/', import.meta.url).pathname

describe('documentation', () => {
  it('every export of src/index.ts, and every public method and accessor of an exported class, is documented', () => {
    const { exports, missing } = undocumented(docsProgram([ENTRY]), ENTRY, { skipMembersOf: (file) => !file.startsWith(SRC) })
    expect(exports).toBeGreaterThan(60)
    expect(missing).toEqual([])
  })
})
