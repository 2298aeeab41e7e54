// Generates the Node variants of wire's fixed-size sha256d hashers (the
// compact loops for browsers are src/hash/header-hash.ts and short-hash.ts),
// every round written out (V8 keeps the state and schedule in registers that
// way; a loop over the K table measured 8-10 % slower), with constant
// padding words folded in:
//
//  - src/hash/header-hash.node.ts: the three compressions of sha256d over an
//    80-byte header (padding folded into blocks 2 and 3);
//  - src/hash/short-hash.node.ts: the two compressions of sha256d over a
//    message of at most 55 bytes (a frame's checksum; pass 2's padding
//    folded in, and W[14] of pass 1, the length's high word, always zero).
//
// The prose, the exports and the code around the rounds are in
// header-hash.template.ts and short-hash.template.ts; this script only
// writes the round code.
//
//   node packages/wire/scripts/gen-header-hash.mjs          # rewrites both generated files
//   node packages/wire/scripts/gen-header-hash.mjs --check  # exits 1 if either is not what it generates
//
// test/hash/header-hash.test.ts and test/hash/short-hash.test.ts run the
// comparison, so an edit to a generated file that is not made here fails
// the tests.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const TEMPLATE = new URL('./header-hash.template.ts', import.meta.url)
export const OUTPUT = new URL('../src/hash/header-hash.node.ts', import.meta.url)
const SHORT_TEMPLATE = new URL('./short-hash.template.ts', import.meta.url)
export const SHORT_OUTPUT = new URL('../src/hash/short-hash.node.ts', import.meta.url)

/** FIPS 180-4 4.2.2 round constants (gen-sha256-compress.mjs uses them too). */
export const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]
/** A word as 8 hex digits; then the four sigma functions of FIPS 180-4 4.1.2 as source text over a variable name. */
export const hex = (n) => '0x' + (n >>> 0).toString(16).padStart(8, '0')
export const eS1 = (x) => `(((${x} >>> 6) | (${x} << 26)) ^ ((${x} >>> 11) | (${x} << 21)) ^ ((${x} >>> 25) | (${x} << 7)))`
export const eS0 = (x) => `(((${x} >>> 2) | (${x} << 30)) ^ ((${x} >>> 13) | (${x} << 19)) ^ ((${x} >>> 22) | (${x} << 10)))`
export const es1 = (x) => `(((${x} >>> 17) | (${x} << 15)) ^ ((${x} >>> 19) | (${x} << 13)) ^ (${x} >>> 10))`
export const es0 = (x) => `(((${x} >>> 7) | (${x} << 25)) ^ ((${x} >>> 18) | (${x} << 14)) ^ (${x} >>> 3))`

/** words: 16 entries, {name} for a variable word, {zero:true} or {expr} for a constant one. */
function rounds(words) {
  const L = []
  const W = words.map((w) => ({ ...w }))
  let v = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
  let p = 'p', q = 'q'
  const round = (ind, kterm, wterm) => {
    const [a, b, c, d, e, f, g, h] = v
    L.push(`${ind}t1 = (((${h} + ${kterm}${wterm ? ` + ${wterm}` : ''}) | 0) + ${eS1(e)} + (${g} ^ (${e} & (${f} ^ ${g})))) | 0`)
    L.push(`${ind}${d} = (${d} + t1) | 0`)
    L.push(`${ind}${p} = ${a} ^ ${b}`)
    L.push(`${ind}${h} = (t1 + ((${eS0(a)} + (${b} ^ (${p} & ${q}))) | 0)) | 0`)
    v = [h, a, b, c, d, e, f, g];
    [p, q] = [q, p]
  }
  L.push(`  // Maj's y ^ z for round 0; each round leaves its x ^ y for the next in p or q.`, `  let ${q} = b ^ c`)
  const zeros = W.map((w, i) => (w.zero ? i : -1)).filter((i) => i >= 0)
  const consts = W.map((w, i) => (w.expr ? `W[${i}] = ${w.expr}` : '')).filter(Boolean)
  const zeroWords = zeros.length === 1 ? `W[${zeros[0]}] = 0` : `W[${zeros[0]}..${zeros.at(-1)}] = 0`
  L.push(
    consts.length
      ? `  // Rounds 0..15: ${consts.join(', ')}, ${zeroWords} (nothing to add).`
      : zeros.length
        ? `  // Rounds 0..15: the block's words; ${zeroWords} (nothing to add).`
        : `  // Rounds 0..15: the block's words.`,
  )
  for (let t = 0; t < 16; t++) {
    const w = W[t]
    round('  ', hex(K[t]), w.name ?? (w.zero ? '' : w.expr))
  }
  const special = words.some((w) => !w.name)
  if (special) L.push(`  // Rounds 16..31: W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16] (in w[t % 16]), without`, `  // the terms of zero words; sigma0/sigma1 of a constant word is a constant (SIGMA0_*, SIGMA1_*).`)
  else L.push(`  // Rounds 16..63: W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16], in w[t % 16].`)
  for (let t = 16; t < 64; t++) {
    const terms = [['sigma1', t - 2], [null, t - 7], [ 'sigma0', t - 15], [null, t - 16]]
    const parts = []
    for (const [fn, i] of terms) {
      const w = W[i]
      if (w.name) parts.push(fn === 'sigma1' ? es1(w.name) : fn === 'sigma0' ? es0(w.name) : w.name)
      else if (!w.zero) parts.push(fn ? `${fn.toUpperCase()}_${w.expr}` : w.expr)
    }
    if (t === 32 && special) L.push(`  // Rounds 32..63: every term is a computed word.`)
    W[t] = { name: `w${t % 16}` }
    L.push(`  w${t % 16} = (${parts.join(' + ')}) | 0`)
    round('  ', hex(K[t]), `w${t % 16}`)
  }
  return L.join('\n')
}
/** Message words of each block: `{ name }` a variable, `{ expr }` a named constant, `zero` a zero word. */
const v = (i) => ({ name: `w${i}` })
const z = { zero: true }
const BLOCK1 = Array.from({ length: 16 }, (_, i) => v(i))
const BLOCK2 = [v(0), v(1), v(2), v(3), { expr: 'END_MARKER' }, z, z, z, z, z, z, z, z, z, z, { expr: 'PASS1_BITS' }]
const BLOCK3 = [v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), { expr: 'END_MARKER' }, z, z, z, z, z, z, { expr: 'PASS2_BITS' }]
/** Pass 1 of a short message: any word may hold message bytes, the marker or the length, except W[14] (the length's high word). */
const SHORT_BLOCK = [...Array.from({ length: 14 }, (_, i) => v(i)), z, v(15)]

/** The text of header-hash.node.ts. */
export function generate() {
  return readFileSync(TEMPLATE, 'utf8')
    .replace('@@BLOCK1@@', rounds(BLOCK1))
    .replace('@@BLOCK2@@', rounds(BLOCK2))
    .replace('@@BLOCK3@@', rounds(BLOCK3))
}

/** The text of short-hash.node.ts (pass 2 is the same block as the header hash's block 3). */
export function generateShort() {
  return readFileSync(SHORT_TEMPLATE, 'utf8').replace('@@MESSAGE@@', rounds(SHORT_BLOCK)).replace('@@DIGEST@@', rounds(BLOCK3))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = [
    [OUTPUT, generate()],
    [SHORT_OUTPUT, generateShort()],
  ]
  for (const [file, text] of files) {
    const name = fileURLToPath(file)
    if (process.argv.includes('--check')) {
      const same = readFileSync(file, 'utf8') === text
      console.log(same ? `${name} is up to date` : `${name} differs from what the generator writes`)
      if (!same) process.exitCode = 1
    } else {
      writeFileSync(file, text)
      console.log(`wrote ${name}`)
    }
  }
}
