/**
 * Windowed rendering for a long list of fixed-height rows inside a scrolling element: which rows
 * [start, end) are on screen (plus some overscan). Reads the scroll position at most once per
 * animation frame and re-renders only when the range itself changes, so scrolling through
 * 100,000 rows renders a few dozen at a time.
 */
import { useEffect, useState, type RefObject } from 'react';

/** The rows to render: [start, end). */
export interface RowWindow {
  start: number;
  end: number;
}

/** The range of rows of height `rowHeight` that `el` shows at its current scroll position. */
function rangeOf(el: HTMLElement | null, count: number, rowHeight: number, overscan: number): RowWindow {
  const top = el?.scrollTop ?? 0;
  const height = el?.clientHeight || 800;
  const first = Math.floor(top / rowHeight);
  const start = Math.max(0, Math.min(first - overscan, count));
  const end = Math.min(count, first + Math.ceil(height / rowHeight) + overscan);
  return { start, end: Math.max(start, end) };
}

/**
 * The window of `count` rows of `rowHeight` pixels that the scroll container `ref` shows.
 * Follows scrolling (one read per frame) and resizing of the container.
 */
export function useRowWindow(ref: RefObject<HTMLElement | null>, count: number, rowHeight: number, overscan = 10): RowWindow {
  const [range, setRange] = useState<RowWindow>(() => rangeOf(null, count, rowHeight, overscan));
  useEffect(() => {
    const el = ref.current;
    let frame = 0;
    const update = () => {
      frame = 0;
      const next = rangeOf(el, count, rowHeight, overscan);
      setRange((r) => (r.start === next.start && r.end === next.end ? r : next));
    };
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    update();
    el?.addEventListener('scroll', onScroll, { passive: true });
    const resize = typeof ResizeObserver === 'undefined' || !el ? null : new ResizeObserver(onScroll);
    resize?.observe(el!);
    return () => {
      el?.removeEventListener('scroll', onScroll);
      resize?.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [ref, count, rowHeight, overscan]);
  return range;
}
