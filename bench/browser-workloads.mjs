// The work browser.bench.mjs times, as plain functions with no Node or
// browser API but a clock passed in: the same code runs in Node and, bundled,
// in headless Chromium, so the two figures measure the same thing.
//
// `lib` is one build of @bitp2p/wire as one namespace (main entry, codecs
// and consensus exports merged).

/** parse + every txid + every wtxid of one block. Returns the id count (used, so nothing is optimized away). */
export function parseBlockWithIds(lib, raw) {
  const block = lib.parseBlock(raw)
  return lib.blockTxids(block).length + lib.blockWtxids(block).length
}

/** `count` mainnet `ping` frames, back to back, as one stream. */
export function pingStream(lib, count) {
  const frames = []
  for (let i = 0; i < count; i++) frames.push(lib.encodeMessage({ command: 'ping', nonce: BigInt(i) }, lib.mainnet))
  return lib.concatBytes(...frames)
}

/** Push `stream` through a fresh MessageDecoder in `chunk`-byte pieces; returns the messages decoded (every checksum verified). */
export function decodeFrames(lib, stream, chunk) {
  const d = new lib.MessageDecoder({ network: lib.mainnet })
  let n = 0
  for (let i = 0; i < stream.length; i += chunk) {
    const events = d.push(stream.subarray(i, i + chunk))
    for (let j = 0; j < events.length; j++) {
      if (events[j].type !== 'message') throw new Error(`frame decode: unexpected ${events[j].type} event`)
      n++
    }
  }
  return n
}

/**
 * Mean time of one call of `fn` in ms: warm up, then call it until
 * `minMs` have passed (at least `minCalls` calls). `now` is the clock in
 * ms (performance.now in both places).
 */
export function meanMs(fn, now, minMs, minCalls = 3) {
  let sink = 0
  const warmEnd = now() + minMs / 4
  while (now() < warmEnd) sink += fn()
  let calls = 0
  const start = now()
  let t = start
  while (t - start < minMs || calls < minCalls) {
    sink += fn()
    calls++
    t = now()
  }
  if (sink === -1) throw new Error('unreachable')
  return (t - start) / calls
}

/**
 * One round of the browser benchmark's measurements with one build: block
 * 702861 (parse + ids) and 100,000 pings through MessageDecoder in 64 KiB
 * chunks. Returns mean ms per call of each.
 */
export function measureRound(lib, { raw, stream, pings, chunk, minMs, now }) {
  const blockMs = meanMs(() => parseBlockWithIds(lib, raw), now, minMs)
  const framesMs = meanMs(() => {
    const n = decodeFrames(lib, stream, chunk)
    if (n !== pings) throw new Error(`decoded ${n} of ${pings} pings`)
    return n
  }, now, minMs)
  return { blockMs, framesMs }
}
