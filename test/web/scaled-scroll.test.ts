/**
 * The data manager's scaled scrolling arithmetic (web/src/pages/data-manager/scaled-scroll.ts):
 * pure functions, tested here because vitest collects only src/ and test/. The browser side
 * (wheel, keys, rows on screen) is in test/browser/data-manager.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  bodyHeight,
  bodyHeightCap,
  followed,
  isScaled,
  MAX_BODY_HEIGHT,
  MIN_BODY_HEIGHT,
  scrolledBy,
  scrollTopFor,
  virtualMax,
  virtualTopAt,
  windowAt,
  type Extent,
} from '../../web/src/pages/data-manager/scaled-scroll.js';

const ROW = 52;
const VIEWPORT = 580;

/** The extent of `count` rows under `cap` in a VIEWPORT-high scroller (no header). */
function extentOf(count: number, cap = MAX_BODY_HEIGHT): Extent {
  const body = bodyHeight(count, ROW, cap);
  return { maxScroll: body - VIEWPORT, extra: count * ROW - body };
}

const firstRow = (virtualTop: number) => Math.floor(virtualTop / ROW);

describe('bodyHeightCap', () => {
  it('is the safe maximum unless the URL flag lowers it, never below the floor', () => {
    expect(bodyHeightCap('')).toBe(MAX_BODY_HEIGHT);
    expect(bodyHeightCap('?dm-max-height=20000')).toBe(20_000);
    expect(bodyHeightCap('?dm-max-height=999999999')).toBe(MAX_BODY_HEIGHT); // only lowers
    expect(bodyHeightCap('?dm-max-height=5')).toBe(MIN_BODY_HEIGHT);
    for (const junk of ['?dm-max-height=', '?dm-max-height=-3', '?dm-max-height=1e9', '?dm-max-height=12.5', '?dm-max-height=abc', '?other=1'])
      expect(bodyHeightCap(junk)).toBe(MAX_BODY_HEIGHT);
  });
});

describe('unscaled (below the cap): exactly the plain window', () => {
  const count = 100_000; // 5.2 M px < 15 M px
  const e = extentOf(count);
  it('maps scroll top to itself and places rows at index × row height', () => {
    expect(isScaled(count, ROW, MAX_BODY_HEIGHT)).toBe(false);
    expect(bodyHeight(count, ROW, MAX_BODY_HEIGHT)).toBe(count * ROW);
    for (const top of [0, 1, 12_345, e.maxScroll]) expect(virtualTopAt(top, e)).toBe(top);
    expect(windowAt({ scrollTop: 52_000, virtualTop: 52_000 }, { count, rowHeight: ROW, viewport: VIEWPORT, overscan: 10, scaled: false })).toEqual({ start: 990, end: 1022, base: 0, shift: 0 });
    expect(scrolledBy({ scrollTop: 100, virtualTop: 100 }, 40, e)).toEqual({ scrollTop: 140, virtualTop: 140 });
  });
});

describe('scaled (10 million tasks: 520 M px under a 15 M px cap)', () => {
  const count = 10_000_000;
  const e = extentOf(count);
  const visibleRows = VIEWPORT / ROW;

  it('caps the body and maps the thumb proportionally, ends to ends', () => {
    expect(isScaled(count, ROW, MAX_BODY_HEIGHT)).toBe(true);
    expect(bodyHeight(count, ROW, MAX_BODY_HEIGHT)).toBe(MAX_BODY_HEIGHT);
    expect(virtualTopAt(0, e)).toBe(0);
    expect(virtualTopAt(e.maxScroll, e)).toBe(count * ROW - VIEWPORT);
    const bottom = { scrollTop: e.maxScroll, virtualTop: virtualTopAt(e.maxScroll, e) };
    const w = windowAt(bottom, { count, rowHeight: ROW, viewport: VIEWPORT, overscan: 0, scaled: true });
    expect(w.end).toBe(count);
    expect(w.shift + (count - 1 - w.base) * ROW + ROW).toBe(e.maxScroll + VIEWPORT); // the last row ends at the bottom
    // The brief's formula: first row = scrollTop / (bodyHeight − viewport) × (count − visibleRows).
    for (const f of [0.1, 0.5, 0.9]) {
      const top = Math.round(e.maxScroll * f);
      expect(Math.abs(firstRow(virtualTopAt(top, e)) - Math.round((top / e.maxScroll) * (count - visibleRows)))).toBeLessThanOrEqual(1);
    }
  });

  it('round-trips a virtual top through the thumb to within one scaled pixel', () => {
    const scale = virtualMax(e) / e.maxScroll;
    for (const v of [0, 1_000_000, 260_000_000, virtualMax(e)]) expect(Math.abs(virtualTopAt(scrollTopFor(v, e), e) - v)).toBeLessThanOrEqual(scale);
  });

  it('moves by rows for small deltas (wheel, keys), not by the scale', () => {
    const from = { scrollTop: scrollTopFor(260_000_000, e), virtualTop: 260_000_000 };
    const down = scrolledBy(from, 3 * ROW, e);
    expect(firstRow(down.virtualTop) - firstRow(from.virtualTop)).toBe(3);
    const scale = virtualMax(e) / e.maxScroll;
    expect(down.scrollTop - from.scrollTop).toBeLessThanOrEqual(Math.ceil((3 * ROW) / scale)); // the thumb moves 1/scale as far
    // The echo of our own scroll keeps the fine position (the thumb is rounded to whole pixels).
    expect(followed(down, down.scrollTop, e, false)).toEqual(down);
    const back = scrolledBy(down, -3 * ROW, e);
    expect(back.virtualTop).toBe(from.virtualTop);
    expect(scrolledBy(from, Infinity, e).virtualTop).toBe(virtualMax(e)); // End
    expect(scrolledBy(from, -Infinity, e)).toEqual({ scrollTop: 0, virtualTop: 0 }); // Home
    expect(scrolledBy({ scrollTop: 0, virtualTop: 10 }, -500, e).virtualTop).toBe(0); // clamped
  });

  it('follows a thumb drag proportionally and a focus scroll one to one', () => {
    const from = { scrollTop: 1_000, virtualTop: 40_000 };
    expect(followed(from, 1_030, e, false).virtualTop).toBeCloseTo(virtualTopAt(1_030, e));
    expect(followed(from, 1_030, e, true).virtualTop).toBe(40_030);
    expect(followed(from, e.maxScroll, e, false).virtualTop).toBe(virtualMax(e));
  });

  it('places the window relative to the viewport, in a layer whose offsets stay small', () => {
    const at = { scrollTop: 7_500_000, virtualTop: 260_000_000 + 20 };
    const w = windowAt(at, { count, rowHeight: ROW, viewport: VIEWPORT, overscan: 10, scaled: true });
    expect(w.start).toBe(5_000_000 - 10);
    expect(w.end).toBe(5_000_000 + 12 + 10);
    expect(w.start - w.base).toBeLessThan(1024);
    // Row 5,000,000 sits 20 px above the top of the viewport (which starts at the physical scroll top).
    expect(w.shift + (5_000_000 - w.base) * ROW).toBe(at.scrollTop - 20);
    expect(Math.abs(w.shift - at.scrollTop)).toBeLessThan(1024 * ROW + VIEWPORT);
  });
});
