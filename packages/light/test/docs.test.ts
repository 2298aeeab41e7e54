// Every name the package's entries export has a doc comment, and so does
// every public method and accessor of their exported classes (what
// TypeDoc's notDocumented validation asks; this runs with the tests).
/// <reference types="node" />
import { describe, expect, it } from 'vitest'
import ts from 'typescript'

const ENTRIES = ['index', 'node', 'indexeddb'].map((e) => new URL(`../src/${e}.ts`, import.meta.url).pathname)

/** The undocumented exports of `entry` (and members of its exported classes). */
function undocumented(program: ts.Program, entry: string): { exports: number; missing: string[] } {
  const checker = program.getTypeChecker()
  const mod = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!
  const exports = checker.getExportsOfModule(mod)
  const missing: string[] = []
  const doc = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== ''
  for (const e of exports) {
    const s = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e
    if (!doc(s)) missing.push(e.name)
    if (s.flags & ts.SymbolFlags.Class) {
      for (const m of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(s))) {
        const decl = m.declarations?.[0]
        if (decl === undefined || !(ts.isMethodDeclaration(decl) || ts.isGetAccessor(decl) || ts.isPropertyDeclaration(decl))) continue
        if (m.name.startsWith('#') || (ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Private) !== 0) continue
        // Inherited from a dependency (EventEmitter's methods): documented there.
        if (decl.getSourceFile().fileName.includes('/node_modules/')) continue
        if (!doc(m)) missing.push(`${e.name}.${m.name}`)
      }
      s.exports?.forEach((m) => {
        if (m.flags & ts.SymbolFlags.Method && !doc(m)) missing.push(`${e.name}.${m.name}`)
      })
    }
    if (s.flags & ts.SymbolFlags.Interface) {
      for (const m of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(s))) {
        if (m.flags & ts.SymbolFlags.Method && !doc(m)) missing.push(`${e.name}.${m.name}`)
      }
    }
  }
  return { exports: exports.length, missing }
}

describe('documentation', () => {
  const program = ts.createProgram(ENTRIES, {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    noEmit: true,
  })
  for (const entry of ENTRIES) {
    it(`every export of ${entry.replace(/^.*\/src\//, 'src/')}, and every public method of its classes and interfaces, is documented`, () => {
      const { exports, missing } = undocumented(program, entry)
      expect(exports).toBeGreaterThan(3)
      expect(missing).toEqual([])
    })
  }
})
