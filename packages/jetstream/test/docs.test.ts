// Every name the package exports has a doc comment, and so does every public
// method and accessor of its exported classes (what TypeDoc's notDocumented
// validation asks of the other packages). Members inherited from other
// packages (EventEmitter's) are theirs to document.
import { describe, expect, it } from 'vitest'
import ts from 'typescript'

const ENTRY = new URL('../src/index.ts', import.meta.url).pathname
const SRC = new URL('../src/', import.meta.url).pathname

describe('documentation', () => {
  it('every export of src/index.ts, and every public method and accessor of an exported class, is documented', () => {
    const program = ts.createProgram([ENTRY], { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022, noEmit: true })
    const checker = program.getTypeChecker()
    const mod = checker.getSymbolAtLocation(program.getSourceFile(ENTRY)!)!
    const exports = checker.getExportsOfModule(mod)
    expect(exports.length).toBeGreaterThan(60)
    const missing: string[] = []
    const doc = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== ''
    for (const e of exports) {
      const s = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e
      if (!doc(s)) missing.push(e.name)
      if (s.flags & ts.SymbolFlags.Class) {
        for (const m of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(s))) {
          const decl = m.declarations?.[0]
          if (decl === undefined || !(ts.isMethodDeclaration(decl) || ts.isGetAccessor(decl) || ts.isPropertyDeclaration(decl))) continue
          if (!decl.getSourceFile().fileName.startsWith(SRC)) continue
          if (m.name.startsWith('#') || (ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Private) !== 0) continue
          if (!doc(m)) missing.push(`${e.name}.${m.name}`)
        }
        const statics = s.exports
        statics?.forEach((m) => {
          if (m.flags & ts.SymbolFlags.Method && !doc(m)) missing.push(`${e.name}.${m.name}`)
        })
      }
    }
    expect(missing).toEqual([])
  })
})
