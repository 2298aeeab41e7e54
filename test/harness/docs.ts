/**
 * The doc-comment check the packages without a TypeDoc page of their own
 * run (bip324, light, jetstream): every export of an entry has a doc
 * comment, and so does every public method, accessor and property of its
 * exported classes and every method of its exported interfaces.
 */
import ts from 'typescript'

/** Options of `undocumented`. */
export interface UndocumentedOptions {
  /** Members declared in a file this returns true for are someone else's to document (e.g. EventEmitter's). */
  readonly skipMembersOf?: (fileName: string) => boolean
}

/** A program over `entries` with the packages' compiler settings (`dom` and `node` types for entries that need them). */
export function docsProgram(entries: readonly string[], { dom = false, node = false } = {}): ts.Program {
  return ts.createProgram([...entries], {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    ...(dom ? { lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'] } : {}),
    ...(node ? { types: ['node'] } : {}),
    noEmit: true,
  })
}

/** The export count of `entry` and its undocumented names ("Name" or "Class.member"). */
export function undocumented(program: ts.Program, entry: string, options: UndocumentedOptions = {}): { exports: number; missing: string[] } {
  const checker = program.getTypeChecker()
  const mod = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!
  const exports = checker.getExportsOfModule(mod)
  const missing: string[] = []
  const doc = (s: ts.Symbol): boolean => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== ''
  for (const e of exports) {
    const s = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e
    if (!doc(s)) missing.push(e.name)
    if (s.flags & ts.SymbolFlags.Class) {
      for (const m of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(s))) {
        const decl = m.declarations?.[0]
        if (decl === undefined || !(ts.isMethodDeclaration(decl) || ts.isGetAccessor(decl) || ts.isPropertyDeclaration(decl))) continue
        if (m.name.startsWith('#') || (ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Private) !== 0) continue
        if (options.skipMembersOf?.(decl.getSourceFile().fileName) === true) continue
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
