/**
 * Scaled scrolling for the task table: the arithmetic, kept free of the DOM so it is unit-tested
 * (test/web/scaled-scroll.test.ts). Chromium clamps an element's height near 33.5 million px
 * (2^25 layout units), so a body of count × 52 px stops growing at about 640,000 tasks and the
 * rows past it cannot be reached. Above a safe height the body is capped and two positions are
 * kept apart:
 *
 * - the physical scroll top: where the scroll bar's thumb is, within the capped body;
 * - the virtual top: what the scroll top would be if the body had its true height. It picks the
 *   rows (first row = virtual top / row height) and places them: they are drawn relative to the
 *   viewport (physical top − virtual top), never at their absolute offsets.
 *
 * The thumb maps proportionally: virtual top = scroll top / max scroll top × max virtual top, so
 * dragging it to the middle shows the middle row and to the end the last row (in rows this is
 * first row ≈ scrollTop / (bodyHeight − viewport) × (count − visibleRows)). A proportional map
 * alone would make a 100 px wheel notch travel 100 px × the scale (thousands of rows at millions
 * of tasks). So input that means "pixels" — wheel, arrow and page keys — is taken over
 * (preventDefault) and added to the virtual top 1:1, a row-offset accumulator; the thumb is then
 * set to the proportional image of the new virtual top. A scroll the page makes by itself (thumb
 * drag, track click, touch, scrollTop set by script) is mapped proportionally, except the small
 * scroll that brings a newly focused row into view, which is followed 1:1 like the wheel.
 *
 * SlickGrid's known scheme ("page + offset": a scroll smaller than the viewport is relative,
 * larger ones jump proportionally) needs no event handling but makes a slow thumb drag crawl
 * 1:1 behind the thumb; telling the inputs apart keeps the thumb exact. Below the cap none of
 * this applies: virtual top = scroll top, rows sit at index × row height, as before.
 */

/** The tallest body the table builds: well under Chromium's 33.5 M px clamp. */
export const MAX_BODY_HEIGHT = 15_000_000;
/** The lowest cap the `dm-max-height` URL flag may set (tests use it to reach scaled mode with a few thousand tasks). */
export const MIN_BODY_HEIGHT = 10_000;
/** Rows are placed against a base row that moves in steps of this many rows (offsets inside stay small). */
export const BASE_STEP = 1024;
/** Pixels per wheel "line" and per arrow key, as Chromium scrolls them. */
export const LINE_PX = 40;
/** The share of the viewport a page key scrolls, as Chromium does. */
export const PAGE_FRACTION = 0.875;

/**
 * The body height cap for a page whose query string is `search`: `dm-max-height=N` may only
 * LOWER it (to no less than MIN_BODY_HEIGHT), so the flag cannot make the table unreachable;
 * anything else gives MAX_BODY_HEIGHT.
 */
export function bodyHeightCap(search: string): number {
  const raw = new URLSearchParams(search).get('dm-max-height');
  const n = raw !== null && /^\d{1,9}$/.test(raw) ? Number(raw) : MAX_BODY_HEIGHT;
  return Math.min(MAX_BODY_HEIGHT, Math.max(MIN_BODY_HEIGHT, n));
}

/** The body's height: every row, or the cap when they would be taller. */
export const bodyHeight = (count: number, rowHeight: number, cap: number) => Math.min(count * rowHeight, cap);

/** Whether `count` rows need scaled scrolling under `cap`. */
export const isScaled = (count: number, rowHeight: number, cap: number) => count * rowHeight > cap;

/** The scroll container's measures: `maxScroll` = scrollHeight − clientHeight; `extra` = true height − body height. */
export interface Extent {
  maxScroll: number;
  extra: number;
}

/** A physical scroll top and the virtual top it stands for. */
export interface ScrollPoint {
  scrollTop: number;
  virtualTop: number;
}

/** The largest virtual top (the last row at the bottom of the viewport). */
export const virtualMax = (e: Extent) => Math.max(0, e.maxScroll) + e.extra;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** The virtual top a physical scroll top maps to proportionally (identity when nothing is scaled). */
export function virtualTopAt(scrollTop: number, e: Extent): number {
  if (e.extra <= 0) return scrollTop;
  if (e.maxScroll <= 0) return 0;
  return clamp(scrollTop / e.maxScroll, 0, 1) * virtualMax(e);
}

/** The physical scroll top that shows virtual top `virtualTop` (the inverse of virtualTopAt). */
export function scrollTopFor(virtualTop: number, e: Extent): number {
  const max = virtualMax(e);
  if (e.extra <= 0 || max <= 0) return clamp(virtualTop, 0, Math.max(0, e.maxScroll));
  return Math.round((clamp(virtualTop, 0, max) / max) * e.maxScroll);
}

/**
 * Moves the virtual top by `delta` px (wheel or keys: fine movement, row by row), clamped to the
 * rows there are; `scrollTop` is where the thumb should go. ±Infinity goes to the top or bottom.
 */
export function scrolledBy(from: ScrollPoint, delta: number, e: Extent): ScrollPoint {
  const virtualTop = clamp(from.virtualTop + delta, 0, virtualMax(e));
  return { scrollTop: scrollTopFor(virtualTop, e), virtualTop };
}

/**
 * Follows a scroll the page made to `scrollTop`: 1:1 when `fine` (bringing a focused row into
 * view), proportionally otherwise (the thumb). A scroll top equal to the last one keeps the
 * virtual top (the echo of our own scrolledBy).
 */
export function followed(from: ScrollPoint, scrollTop: number, e: Extent, fine: boolean): ScrollPoint {
  if (scrollTop === from.scrollTop) return { scrollTop, virtualTop: clamp(from.virtualTop, 0, virtualMax(e)) };
  if (fine) return { scrollTop, virtualTop: clamp(from.virtualTop + scrollTop - from.scrollTop, 0, virtualMax(e)) };
  return { scrollTop, virtualTop: virtualTopAt(scrollTop, e) };
}

/**
 * The rows to render, [start, end), and where: row i sits at (i − base) × row height inside a
 * layer whose top is `shift` px into the body. Unscaled, base and shift are 0 (row i at
 * i × row height, its absolute offset); scaled, shift places the rows relative to the viewport.
 */
export interface RowWindow {
  start: number;
  end: number;
  base: number;
  shift: number;
}

/** The window of `count` rows for virtual top `at.virtualTop` in a viewport `viewport` px high. */
export function windowAt(at: ScrollPoint, o: { count: number; rowHeight: number; viewport: number; overscan: number; scaled: boolean }): RowWindow {
  const first = Math.floor(at.virtualTop / o.rowHeight);
  const start = Math.max(0, Math.min(first - o.overscan, o.count));
  const end = Math.max(start, Math.min(o.count, first + Math.ceil(o.viewport / o.rowHeight) + o.overscan));
  if (!o.scaled) return { start, end, base: 0, shift: 0 };
  const base = Math.floor(start / BASE_STEP) * BASE_STEP;
  return { start, end, base, shift: Math.round(base * o.rowHeight + at.scrollTop - at.virtualTop) };
}
