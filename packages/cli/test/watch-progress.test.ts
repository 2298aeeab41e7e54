// `bitp2p watch`'s progress: a bar per stage (headers, filter headers,
// filters) on a terminal, plain counts in a log. The run against btcd is in
// watch.test.ts; this is the rendering alone.
import { describe, expect, it } from 'vitest'
// @ts-expect-error plain ES module of the CLI, without type declarations
import { progressText } from '../commands/watch.mjs'

const p = { tip: 1349, peerHeight: 1349, filterHeaders: 1349, scanned: 674, blocks: 3, blocksPending: 1 }

describe('watch progress', () => {
  it('in a log: the counts of each stage and the blocks', () => {
    expect(progressText(p)).toBe('headers 1349/1349 | filter headers 1350/1350 | filters 675/1350 | blocks 3 (+1)')
  })

  it('on a terminal: each stage its own bar, filled to its share', () => {
    expect(progressText(p, { bars: true })).toBe(
      'headers [##########] 1349/1349 | filter headers [##########] 1350/1350 | filters [#####.....] 675/1350 | blocks 3 (+1)',
    )
    expect(progressText({ tip: 0, peerHeight: 1349, filterHeaders: -1, scanned: -1, blocks: 0, blocksPending: 0 }, { bars: true })).toBe(
      'headers [..........] 0/1349 | filter headers [..........] 0/1 | filters [..........] 0/1 | blocks 0',
    )
  })
})
