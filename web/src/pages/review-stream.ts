/**
 * The review stream's loader: the project's annotated tasks a page of at most 50 at a time
 * (GET /api/tasks, filtered to tasks with annotations, in id order), then each task's
 * annotations one request at a time (GET /api/tasks/:id), so the first annotation shows as soon
 * as its task arrives and a large project never fires fifty requests at once. `loadMore` asks
 * for the next page.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Annotation, Task, TaskList } from '../api/types';

/** Tasks per page of the stream. */
export const REVIEW_PAGE = 50;

/** One annotation to review, with its task. */
export interface ReviewItem {
  task: Task;
  annotation: Annotation;
}

/** What the page reads. */
export interface ReviewStream {
  items: ReviewItem[];
  /** A page or a task is being fetched. */
  loading: boolean;
  /** Tasks fetched so far, and how many annotated tasks the project has. */
  loaded: number;
  total: number;
  hasMore: boolean;
  error: Error | undefined;
  loadMore: () => void;
}

const ANNOTATED = JSON.stringify({ filters: { conjunction: 'and', items: [{ filter: 'filter:tasks:total_annotations', operator: 'greater', type: 'Number', value: 0 }] }, ordering: ['tasks:id'] });

/** Page `page` of the annotated tasks (an empty page past the end). */
async function annotatedTasks(projectId: number, page: number): Promise<TaskList> {
  try {
    return await api<TaskList>('GET', `/api/tasks?project=${projectId}&page=${page}&page_size=${REVIEW_PAGE}&query=${encodeURIComponent(ANNOTATED)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { tasks: [], total: 0, total_annotations: 0, total_predictions: 0 }; // nothing (more) annotated
    throw e;
  }
}

/** The stream of project `projectId` (nothing is fetched while `enabled` is false). */
export function useReviewStream(projectId: number, enabled: boolean): ReviewStream {
  const [items, setItems] = useState<ReviewItem[]>([]);
  const [page, setPage] = useState(1);
  const [loading, setLoading] = useState(enabled);
  const [loaded, setLoaded] = useState(0);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<Error>();
  const busy = useRef(false);

  useEffect(() => {
    if (!enabled) return;
    let live = true;
    busy.current = true;
    setLoading(true);
    (async () => {
      if (page === 1) {
        setItems([]);
        setLoaded(0);
      }
      const list = await annotatedTasks(projectId, page);
      if (!live) return;
      if (list.tasks.length > 0 || page === 1) setTotal(list.total);
      for (const t of list.tasks) {
        const task = await api<Task>('GET', `/api/tasks/${t.id}`);
        if (!live) return;
        const fresh = (task.annotations ?? []).filter((a) => !a.was_cancelled).map((annotation) => ({ task, annotation }));
        // A task annotated meanwhile shifts the pages: never list an annotation twice.
        setItems((old) => [...old, ...fresh.filter((f) => !old.some((o) => o.annotation.id === f.annotation.id))]);
        setLoaded((n) => n + 1);
      }
    })()
      .catch((e: Error) => live && setError(e))
      .finally(() => {
        if (!live) return;
        busy.current = false;
        setLoading(false);
      });
    return () => {
      live = false;
      busy.current = false;
    };
  }, [projectId, page, enabled]);

  const hasMore = page * REVIEW_PAGE < total;
  const loadMore = useCallback(() => {
    if (!busy.current && hasMore) setPage((n) => n + 1);
  }, [hasMore]);

  return { items, loading, loaded, total, hasMore, error, loadMore };
}
