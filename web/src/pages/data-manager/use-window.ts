/**
 * Windowed rendering for a long list of fixed-height rows inside a scrolling element: which rows
 * [start, end) are on screen (plus some overscan). Reads the scroll position at most once per
 * animation frame and re-renders only when the window itself changes, so scrolling through
 * 100,000 rows renders a few dozen at a time. Lists taller than the body height cap scroll
 * scaled (./scaled-scroll.ts explains how): then this hook also takes over the wheel and the
 * scrolling keys, so they move the list by rows rather than by thousands of them.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import { bodyHeight, followed, isScaled, LINE_PX, PAGE_FRACTION, scrolledBy, windowAt, type Extent, type RowWindow, type ScrollPoint } from './scaled-scroll';

export type { RowWindow } from './scaled-scroll';

/** How the window is taken. */
export interface WindowOptions {
  /** Rows rendered beyond each edge of the viewport. */
  overscan?: number;
  /** The body height cap (scaled-scroll.ts bodyHeightCap). */
  cap: number;
  /** A new value scrolls back to the top (a new query). */
  resetKey: string;
}

/** How long after a focus change a scroll counts as bringing the focused row into view (ms). */
const FOCUS_SCROLL_MS = 250;

/** Whether keys typed at `target` belong to it (text editing) rather than to the scroller; `space` too for checkboxes and buttons. */
function ownsKey(target: EventTarget | null, key: string): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement && target.type !== 'checkbox' && target.type !== 'radio') return true;
  return key === ' ' && (target instanceof HTMLInputElement || target instanceof HTMLButtonElement);
}

/** The scroll distance of a key in a viewport `height` px high (undefined: not a scrolling key). */
function keyDelta(e: KeyboardEvent, height: number): number | undefined {
  const page = height * PAGE_FRACTION;
  const deltas: Record<string, number> = { ArrowDown: LINE_PX, ArrowUp: -LINE_PX, PageDown: page, PageUp: -page, ' ': e.shiftKey ? -page : page, Home: -Infinity, End: Infinity };
  return deltas[e.key];
}

/** The wheel and the scrolling keys, taken over from the browser (scaled-scroll.ts says why). */
interface ScrollInput {
  /** When the focus last moved into the scroller (performance.now()). */
  focusedAt: () => number;
  /** Gives them back. */
  release: () => void;
}

/**
 * Sends the wheel and the scrolling keys meant for `el` to `moveBy` (pixels, ±Infinity for Home
 * and End) instead of letting the browser scroll. Keys are the scroller's when the focus is in it,
 * or when nothing has the focus and the scroller was the last thing clicked or focused (a click on
 * a row, or a focused row that scrolled out of the DOM).
 */
function takeScrollInput(el: HTMLElement, moveBy: (delta: number) => void): ScrollInput {
  let focusedAt = -Infinity;
  let owns = false;
  const inside = (t: EventTarget | null) => t instanceof Node && el.contains(t);
  const onWheel = (e: WheelEvent) => {
    if (e.ctrlKey || e.deltaY === 0) return; // ctrl+wheel zooms; a horizontal wheel scrolls natively
    e.preventDefault();
    const unit = e.deltaMode === WheelEvent.DOM_DELTA_LINE ? LINE_PX : e.deltaMode === WheelEvent.DOM_DELTA_PAGE ? el.clientHeight : 1;
    if (e.deltaX) el.scrollLeft += e.deltaX * unit;
    moveBy(e.deltaY * unit);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || ownsKey(e.target, e.key)) return;
    if (!inside(e.target) && !(owns && (e.target === document.body || e.target === document.documentElement))) return;
    const delta = keyDelta(e, el.clientHeight);
    if (delta === undefined) return;
    e.preventDefault();
    moveBy(delta);
  };
  const onFocus = (e: FocusEvent) => {
    owns = inside(e.target);
    if (owns) focusedAt = performance.now();
  };
  const onPointer = (e: PointerEvent) => {
    owns = inside(e.target);
  };
  el.addEventListener('wheel', onWheel, { passive: false });
  document.addEventListener('keydown', onKey);
  document.addEventListener('focusin', onFocus);
  document.addEventListener('pointerdown', onPointer);
  return {
    focusedAt: () => focusedAt,
    release: () => {
      el.removeEventListener('wheel', onWheel);
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('focusin', onFocus);
      document.removeEventListener('pointerdown', onPointer);
    },
  };
}

/**
 * The window of `count` rows of `rowHeight` pixels that the scroll container `ref` shows.
 * Follows scrolling (one read per frame) and resizing of the container.
 */
export function useRowWindow(ref: RefObject<HTMLElement | null>, count: number, rowHeight: number, { overscan = 10, cap, resetKey }: WindowOptions): RowWindow {
  const [range, setRange] = useState<RowWindow>(() => windowAt({ scrollTop: 0, virtualTop: 0 }, { count, rowHeight, viewport: 800, overscan, scaled: false }));
  const point = useRef<ScrollPoint>({ scrollTop: 0, virtualTop: 0 });
  const shownKey = useRef(resetKey);
  const scaled = isScaled(count, rowHeight, cap);

  useEffect(() => {
    const el = ref.current;
    if (el && shownKey.current !== resetKey) {
      el.scrollTop = 0;
      point.current = { scrollTop: 0, virtualTop: 0 };
    }
    shownKey.current = resetKey;
    let frame = 0;
    let input: ScrollInput | undefined;
    const extent = (): Extent => ({ maxScroll: el ? el.scrollHeight - el.clientHeight : 0, extra: count * rowHeight - bodyHeight(count, rowHeight, cap) });
    const update = () => {
      frame = 0;
      const top = el?.scrollTop ?? 0;
      const height = el?.clientHeight || 800;
      if (!scaled) point.current = { scrollTop: top, virtualTop: top };
      else point.current = followed(point.current, top, extent(), performance.now() - (input?.focusedAt() ?? -Infinity) < FOCUS_SCROLL_MS && Math.abs(top - point.current.scrollTop) <= height);
      const next = windowAt(point.current, { count, rowHeight, viewport: height, overscan, scaled });
      setRange((r) => (r.start === next.start && r.end === next.end && r.base === next.base && r.shift === next.shift ? r : next));
    };
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    // Scaled only: wheel and keys move the virtual top 1:1; the thumb follows proportionally.
    const moveBy = (delta: number) => {
      if (!el) return;
      const to = scrolledBy(point.current, delta, extent());
      el.scrollTop = to.scrollTop;
      point.current = { scrollTop: el.scrollTop, virtualTop: to.virtualTop };
      onScroll();
    };
    if (scaled && el) {
      // Count or cap changed while scrolled (a refreshed total): keep the rows in view if the thumb has not moved.
      point.current = followed(point.current, el.scrollTop, extent(), false);
      input = takeScrollInput(el, moveBy);
    }
    update();
    el?.addEventListener('scroll', onScroll, { passive: true });
    const resize = typeof ResizeObserver === 'undefined' || !el ? null : new ResizeObserver(onScroll);
    resize?.observe(el!);
    return () => {
      el?.removeEventListener('scroll', onScroll);
      input?.release();
      resize?.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [ref, count, rowHeight, overscan, cap, scaled, resetKey]);
  return range;
}
