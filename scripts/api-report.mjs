#!/usr/bin/env node
// The public API of every entry point, one text file per entry under api/:
// api/wire.txt for @bitp2p/wire, api/wire-codecs.txt for @bitp2p/wire/codecs.
//
// Each line is one exported name (or one public member of an exported class
// or interface) with its kind and its signature as the TypeScript compiler
// prints it, sorted, so a change to the public surface shows up in review as
// a diff of these files (the way rust-bitcoin keeps api/*.txt).
//
//   npm run api                          write the reports
//   node scripts/api-report.mjs --check  compare; exit 1 with a diff when a
//                                        checked-in report is out of date
//   node scripts/api-report.mjs --counts print names per entry (values, types)
//
// The entry points are the "exports" of each packages/*/package.json
// (./dist/X.js -> src/X.ts); the program reads the sources, each @bitp2p/*
// import resolved to its package's sources, so no build is needed.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const API_DIR = join(ROOT, 'api')

/** Every public entry point: { pkg, specifier, source, report }. */
export function entryPoints() {
  const out = []
  for (const dir of readdirSync(join(ROOT, 'packages')).sort()) {
    const pjPath = join(ROOT, 'packages', dir, 'package.json')
    if (!existsSync(pjPath)) continue
    const pj = JSON.parse(readFileSync(pjPath, 'utf8'))
    for (const [subpath, target] of Object.entries(pj.exports ?? {})) {
      if (subpath === './package.json') continue
      const m = /^\.\/dist\/([\w-]+)\.js$/.exec(typeof target === 'string' ? target : target.default)
      if (m === null) throw new Error(`${pj.name}: export ${subpath} does not map ./dist/X.js to a source file`)
      const short = pj.name.replace(/^@bitp2p\//, '')
      out.push({
        pkg: pj.name,
        specifier: subpath === '.' ? pj.name : `${pj.name}/${subpath.slice(2)}`,
        source: join(ROOT, 'packages', dir, 'src', `${m[1]}.ts`),
        report: subpath === '.' ? `${short}.txt` : `${short}-${subpath.slice(2).replace(/\//g, '-')}.txt`,
      })
    }
  }
  return out
}

/** How an inferred type is written out (where the source has no annotation to print). */
const NODE_FLAGS =
  ts.NodeBuilderFlags.NoTruncation |
  ts.NodeBuilderFlags.UseAliasDefinitionsOutsideCurrentScope |
  ts.NodeBuilderFlags.UseSingleQuotesForStringLiteralType |
  ts.NodeBuilderFlags.IgnoreErrors

const printer = ts.createPrinter({ removeComments: true, omitTrailingSemicolon: true })
const scratch = ts.createSourceFile('api.ts', '', ts.ScriptTarget.ES2022)

/** A node's text on one line, comments dropped. */
function oneLine(node, sf = scratch) {
  return printer.printNode(ts.EmitHint.Unspecified, node, sf).replace(/\s+/g, ' ').trim()
}

const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * An inferred type as text, its unions sorted. The compiler orders a union
 * by when it first met each member, which depends on which files the program
 * loaded first; sorted, a line changes only when its type does.
 */
function inferred(checker, type, enclosing) {
  const node = checker.typeToTypeNode(type, enclosing, NODE_FLAGS)
  if (node === undefined) return checker.typeToString(type, enclosing)
  const sortUnions = (context) => {
    const visit = (n) => {
      const v = ts.visitEachChild(n, visit, context)
      if (!ts.isUnionTypeNode(v)) return v
      const sorted = [...v.types].sort((a, b) => byText(oneLine(a), oneLine(b)))
      return ts.factory.updateUnionTypeNode(v, ts.factory.createNodeArray(sorted))
    }
    return visit
  }
  const result = ts.transform(node, [sortUnions])
  // A type not in scope where it is used is written import("/abs/path").Name: the name alone.
  const text = oneLine(result.transformed[0]).replace(/import\("[^"]*"\)\./g, '')
  result.dispose()
  return text
}

/** A declaration's type: its annotation as written where it has one (stable), else the inferred type. */
function typeOf(checker, decl, annotation = decl.type) {
  if (annotation !== undefined) return oneLine(annotation, annotation.getSourceFile())
  const type = ts.isFunctionLike(decl) ? checker.getReturnTypeOfSignature(checker.getSignatureFromDeclaration(decl)) : checker.getTypeAtLocation(decl)
  return inferred(checker, type, decl)
}

/** `<T>(a: A, b?: B): R` of a function, method or signature declaration (no return type for a constructor). */
function signature(checker, decl) {
  const sf = decl.getSourceFile()
  const params = decl.parameters.map((p) => {
    const optional = p.questionToken !== undefined || p.initializer !== undefined ? '?' : ''
    return `${p.dotDotDotToken ? '...' : ''}${oneLine(p.name, sf)}${optional}: ${typeOf(checker, p)}`
  })
  const ret = ts.isConstructorDeclaration(decl) ? '' : `: ${typeOf(checker, decl)}`
  return `${typeParams(decl, sf)}(${params.join(', ')})${ret}`
}

/** The declarations of an overloaded function or method that callers see: the overloads, not the implementation. */
function callable(decls) {
  return decls.length > 1 ? decls.filter((d) => d.body === undefined) : decls
}

function modifiers(decl) {
  const flags = ts.getCombinedModifierFlags(decl)
  const out = []
  if (flags & ts.ModifierFlags.Protected) out.push('protected')
  if (flags & ts.ModifierFlags.Static) out.push('static')
  if (flags & ts.ModifierFlags.Abstract) out.push('abstract')
  if (flags & ts.ModifierFlags.Readonly) out.push('readonly')
  return out
}

function typeParams(decl, sf) {
  const tps = decl.typeParameters
  return tps && tps.length > 0 ? `<${tps.map((t) => oneLine(t, sf)).join(', ')}>` : ''
}

function heritage(decl, sf) {
  return (decl.heritageClauses ?? []).map((h) => ' ' + oneLine(h, sf)).join('')
}

/** Lines for one member of a class or interface (public and protected; private and #names are not API). */
function memberLines(checker, prefix, member) {
  if (member.flags & ts.SymbolFlags.TypeParameter) return [] // a class's <T> sits among its members
  const decls = (member.declarations ?? []).filter((d) => !(ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Private) && !(d.name !== undefined && ts.isPrivateIdentifier(d.name)))
  if (decls.length === 0) return []
  const decl = decls[0]
  const sf = decl.getSourceFile()
  const mods = modifiers(decl)
  const optional = member.flags & ts.SymbolFlags.Optional ? '?' : ''
  const lead = `${prefix}.${mods.length > 0 ? mods.join(' ') + ' ' : ''}`
  if (ts.isConstructorDeclaration(decl)) return callable(decls).map((d) => `${prefix}.constructor${signature(checker, d)}`)
  if (ts.isIndexSignatureDeclaration(decl)) return [`${prefix}.${oneLine(decl, sf)}`]
  if (ts.isCallSignatureDeclaration(decl) || ts.isConstructSignatureDeclaration(decl)) {
    return decls.map((d) => `${prefix}.${ts.isConstructSignatureDeclaration(d) ? 'new ' : ''}${signature(checker, d)}`)
  }
  if (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl)) {
    return callable(decls).map((d) => `${lead}${member.name}${optional}${signature(checker, d)}`)
  }
  if (ts.isGetAccessorDeclaration(decl) || ts.isSetAccessorDeclaration(decl)) {
    const get = decls.find(ts.isGetAccessorDeclaration)
    const set = decls.find(ts.isSetAccessorDeclaration)
    const type = get !== undefined ? typeOf(checker, get) : typeOf(checker, set.parameters[0])
    return [`${lead}${get && set ? 'get set' : get ? 'get' : 'set'} ${member.name}: ${type}`]
  }
  return [`${lead}${member.name}${optional}: ${typeOf(checker, decl)}`]
}

/** Lines for one exported name. `kinds` collects value/type counts. */
function exportLines(checker, name, exported, kinds) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
  const decls = symbol.declarations ?? []
  const lines = []
  let value = false
  let type = false
  for (const decl of decls) {
    const sf = decl.getSourceFile()
    if (ts.isClassDeclaration(decl)) {
      value = true
      const abs = ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Abstract ? 'abstract ' : ''
      lines.push(`${abs}class ${name}${typeParams(decl, sf)}${heritage(decl, sf)}`)
      const members = [...(symbol.members?.values() ?? []), ...(symbol.exports?.values() ?? [])].filter((m) => m.name !== 'prototype')
      for (const m of members) lines.push(...memberLines(checker, `class ${name}`, m))
    } else if (ts.isInterfaceDeclaration(decl)) {
      type = true
      if (lines.some((l) => l.startsWith(`interface ${name}`))) continue // merged declarations: members listed once
      lines.push(`interface ${name}${typeParams(decl, sf)}${heritage(decl, sf)}`)
      for (const m of symbol.members?.values() ?? []) lines.push(...memberLines(checker, `interface ${name}`, m))
    } else if (ts.isTypeAliasDeclaration(decl)) {
      type = true
      lines.push(`type ${name}${typeParams(decl, sf)} = ${oneLine(decl.type, sf)}`)
    } else if (ts.isFunctionDeclaration(decl)) {
      value = true
      if (!callable(decls.filter(ts.isFunctionDeclaration)).includes(decl)) continue
      lines.push(`function ${name}${signature(checker, decl)}`)
    } else if (ts.isVariableDeclaration(decl)) {
      value = true
      const isConst = (ts.getCombinedNodeFlags(decl) & ts.NodeFlags.Const) !== 0
      lines.push(`${isConst ? 'const' : 'let'} ${name}: ${typeOf(checker, decl)}`)
    } else if (ts.isEnumDeclaration(decl)) {
      value = true
      type = true
      lines.push(`enum ${name}`)
      for (const m of decl.members) lines.push(`enum ${name}.${oneLine(m, sf)}`)
    } else if (ts.isModuleDeclaration(decl)) {
      value = true
      lines.push(`namespace ${name}`)
    } else {
      lines.push(`${ts.SyntaxKind[decl.kind]} ${name}`)
    }
  }
  if (value) kinds.values++
  else if (type) kinds.types++
  return lines
}

/** The program over every entry's source, @bitp2p/* imports resolved to sources. */
function createProgram(entries) {
  const base = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), (p) => ts.sys.readFile(p))
  const parsed = ts.parseJsonConfigFileContent(base.config, ts.sys, ROOT)
  // Every entry of every package to its sources, also when reporting a few.
  const paths = {}
  for (const e of entryPoints()) paths[e.specifier] = [e.source]
  const options = { ...parsed.options, types: ['node'], paths, baseUrl: undefined, noEmit: true }
  return ts.createProgram(entries.map((e) => e.source), options)
}

/** { entry, lines, values, types } for every entry point. */
export function buildReports(entries = entryPoints()) {
  const program = createProgram(entries)
  const checker = program.getTypeChecker()
  return entries.map((entry) => {
    const sf = program.getSourceFile(entry.source)
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf)
    if (moduleSymbol === undefined) throw new Error(`${entry.specifier}: ${entry.source} is not a module`)
    const kinds = { values: 0, types: 0 }
    const lines = []
    for (const exported of checker.getExportsOfModule(moduleSymbol)) lines.push(...exportLines(checker, exported.name, exported, kinds))
    lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    return { entry, lines: [...new Set(lines)], ...kinds }
  })
}

/** The text of one report file. */
export function render(report) {
  const { entry, values, types } = report
  const head = `// ${entry.specifier}: ${values + types} names (${values} values, ${types} types). Generated by npm run api; do not edit.`
  return [head, ...report.lines].join('\n') + '\n'
}

/** The lines only one of `expected` and `actual` has, `-` and `+`, at most `max`. */
function differences(expected, actual, max = 20) {
  const a = new Set(expected.split('\n'))
  const b = new Set(actual.split('\n'))
  const out = []
  for (const l of expected.split('\n')) if (!b.has(l) && l !== '') out.push(`- ${l}`)
  for (const l of actual.split('\n')) if (!a.has(l) && l !== '') out.push(`+ ${l}`)
  return out.slice(0, max).concat(out.length > max ? [`  ... ${out.length - max} more`] : [])
}

/** Writes every report into `dir` and removes the reports of entries that are gone. */
export function writeReports(reports, dir = API_DIR) {
  const wanted = new Map(reports.map((r) => [r.entry.report, render(r)]))
  mkdirSync(dir, { recursive: true })
  for (const file of readdirSync(dir)) if (file.endsWith('.txt') && !wanted.has(file)) rmSync(join(dir, file))
  for (const [file, text] of wanted) writeFileSync(join(dir, file), text)
}

/** What differs between the reports and the files in `dir`: one message per file, empty when all match. */
export function checkReports(reports, dir = API_DIR) {
  const wanted = new Map(reports.map((r) => [r.entry.report, render(r)]))
  const problems = []
  for (const [file, text] of wanted) {
    const path = join(dir, file)
    if (!existsSync(path)) problems.push(`api/${file} is missing`)
    else {
      const current = readFileSync(path, 'utf8')
      if (current !== text) problems.push(`api/${file} is out of date:\n${differences(current, text).map((l) => '    ' + l).join('\n')}`)
    }
  }
  for (const file of existsSync(dir) ? readdirSync(dir).sort() : []) {
    if (file.endsWith('.txt') && !wanted.has(file)) problems.push(`api/${file} belongs to no entry point`)
  }
  return problems
}

/** The message --check prints when the reports differ. */
export function checkFailure(problems) {
  return `The public API differs from the checked-in reports (- checked in, + now):\n\n${problems.join('\n\n')}\n\nIf the change is intended, run \`npm run api\` and commit api/.`
}

function main(argv) {
  const reports = buildReports()
  if (argv.includes('--counts')) {
    for (const r of reports) console.log(`${r.entry.specifier.padEnd(32)} ${String(r.values + r.types).padStart(4)}  (${r.values} values, ${r.types} types)`)
    return 0
  }
  if (argv.includes('--check')) {
    const problems = checkReports(reports)
    if (problems.length > 0) {
      console.error(checkFailure(problems))
      return 1
    }
    console.log(`api/: ${reports.length} reports up to date`)
    return 0
  }
  writeReports(reports)
  console.log(`api/: wrote ${reports.length} reports`)
  return 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2))
