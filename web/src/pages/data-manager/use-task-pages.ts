/**
 * The data manager's tasks, fetched a page at a time as the table scrolls to them
 * (GET /api/tasks?page=&page_size=), kept in a bounded cache. A new `key` (other filters,
 * ordering, or a refresh after an action) starts a new generation: answers to older requests
 * are dropped, and the old rows stay on screen until the first page of the new generation
 * arrives (no flash of an empty table).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/client';
import type { Task, TaskList } from '../../api/types';

/** Tasks per request. */
export const PAGE_SIZE = 100;
/** Pages kept in memory (the farthest from the screen go first). */
const MAX_PAGES = 40;
/** Scrolling must rest this long before pages are requested (no requests for rows flown past). */
const SETTLE_MS = 60;

interface Entry {
  generation: number;
  tasks: Task[];
}

/** What the table reads. */
export interface TaskPages {
  /** Tasks matching the query; undefined until the first answer. */
  total: number | undefined;
  /** Task at position `i` of the query's order, if its page is loaded. */
  rowAt: (i: number) => Task | undefined;
  /** The rows of the first page (for discovering data columns). */
  firstPage: Task[] | undefined;
  /** Asks for the pages holding rows [start, end). */
  ensure: (start: number, end: number) => void;
  /** True until the current query's first page has arrived. */
  pending: boolean;
  error: ApiError | undefined;
}

/** Pages of the query named by `key`; `load(page, size)` fetches one. */
export function useTaskPages(key: string, load: (page: number, size: number) => Promise<TaskList>): TaskPages {
  const cache = useRef(new Map<number, Entry>());
  const inflight = useRef(new Set<number>());
  const generation = useRef(0);
  const settled = useRef(true); // the current generation has delivered a page
  const wanted = useRef({ start: 0, end: PAGE_SIZE });
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [state, setState] = useState<{ total?: number; error?: ApiError; version: number }>({ version: 0 });
  const loader = useRef(load);
  loader.current = load; // `key` names the query; the loader of the latest render serves it

  const evict = () => {
    if (cache.current.size <= MAX_PAGES) return;
    const centre = Math.floor((wanted.current.start + wanted.current.end) / 2 / PAGE_SIZE);
    const far = [...cache.current.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
    for (const page of far.slice(0, cache.current.size - MAX_PAGES)) cache.current.delete(page);
  };

  const commit = (gen: number, page: number, tasks: Task[], total: number | undefined) => {
    if (!settled.current) {
      cache.current.clear();
      settled.current = true;
    }
    cache.current.set(page, { generation: gen, tasks });
    evict();
    setState((s) => ({ total: total ?? s.total, version: s.version + 1 }));
  };

  const fetchPage = useCallback(
    (page: number) => {
      const gen = generation.current;
      const have = cache.current.get(page);
      if ((have && have.generation === gen) || inflight.current.has(page)) return;
      inflight.current.add(page);
      loader.current(page + 1, PAGE_SIZE).then(
        (res) => gen === generation.current && commit(gen, page, res.tasks, res.total),
        (e: unknown) => {
          if (gen !== generation.current) return;
          // A page past the end (after deleting or filtering) is 404: nothing there.
          if (e instanceof ApiError && e.status === 404 && page > 0) commit(gen, page, [], undefined);
          else setState((s) => ({ ...s, error: e instanceof ApiError ? e : new ApiError(0, String(e)), version: s.version + 1 }));
        },
      ).finally(() => gen === generation.current && inflight.current.delete(page));
    },
    // A new key is a new query: a new fetcher, hence a new generation (the effect below).
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key],
  );

  const fetchWanted = useCallback(() => {
    const { start, end } = wanted.current;
    for (let p = Math.floor(start / PAGE_SIZE); p <= Math.floor(Math.max(start, end - 1) / PAGE_SIZE); p++) fetchPage(p);
  }, [fetchPage]);

  // A new query: a new generation, its first pages requested at once.
  useEffect(() => {
    generation.current += 1;
    inflight.current.clear();
    settled.current = false;
    setState((s) => ({ ...s, error: undefined }));
    fetchPage(0);
    fetchWanted();
    return () => clearTimeout(timer.current);
  }, [fetchPage, fetchWanted]);

  const ensure = useCallback(
    (start: number, end: number) => {
      wanted.current = { start, end };
      clearTimeout(timer.current);
      timer.current = setTimeout(fetchWanted, SETTLE_MS);
    },
    [fetchWanted],
  );

  const rowAt = (i: number) => cache.current.get(Math.floor(i / PAGE_SIZE))?.tasks[i % PAGE_SIZE];
  const first = cache.current.get(0);
  return {
    total: state.total,
    rowAt,
    firstPage: first?.tasks,
    ensure,
    pending: !settled.current,
    error: state.error,
  };
}
