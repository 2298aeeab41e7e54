/**
 * Block locator heights, as Core's LocatorEntries builds them: the tip and
 * the 11 blocks below it one by one (the step starts doubling once more than
 * 10 entries are listed), then steps of 2, 4, 8, ..., and always the lowest
 * block (genesis, or a tree's trusted base) last. A peer walks the list and
 * answers from the first hash it knows, so the list finds the fork point
 * with O(log n) entries: about 32 for a million blocks, well under
 * MAX_LOCATOR_SZ (101).
 */

/** Core doubles the step once the locator holds more than this many entries. */
export const LOCATOR_DENSE_ENTRIES = 10

/** Heights of a locator for a chain whose tip is at `tipHeight`, newest first, ending at `baseHeight`. */
export function locatorHeights(tipHeight: number, baseHeight = 0): number[] {
  if (!Number.isInteger(tipHeight) || !Number.isInteger(baseHeight) || tipHeight < baseHeight || baseHeight < 0) {
    throw new RangeError(`locator: bad heights tip=${tipHeight} base=${baseHeight}`)
  }
  const heights: number[] = []
  let step = 1
  let h = tipHeight
  for (;;) {
    heights.push(h)
    if (h === baseHeight) return heights
    h = Math.max(h - step, baseHeight)
    if (heights.length > LOCATOR_DENSE_ENTRIES) step *= 2
  }
}
