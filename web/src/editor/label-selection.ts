/**
 * Labeling a data-manager selection task by task ("Label selected"): the selection the data
 * manager sent (`selectedItems`, filters, ordering) is kept in the tab's sessionStorage under a
 * short key that the labeling page's URL carries (`?selection=KEY`), so a reload stays in it.
 * The next task comes from the server's `next_task` action with that selection (the first
 * selected task still needing a label from the caller, reserved for them), minus the tasks the
 * user passed over with "Next task". Progress ("task k of N") is counted with GET /api/tasks.
 */
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { FilterItem, Filters, Task, TaskList } from '../api/types';

/** Label Studio's `selectedItems`, as the data manager sends it. */
export interface SelectedItems {
  all: boolean;
  /** With `all` false: the selected tasks. */
  included?: number[];
  /** With `all` true: the tasks left out. */
  excluded?: number[];
}

/** A selection being labeled. */
export interface LabelSelection {
  project: number;
  selectedItems: SelectedItems;
  filters: Filters;
  ordering: string[];
  /** Tasks passed over with "Next task", left out until the user goes through them again. */
  passed: number[];
}

/** Where labeling stands in a selection: the current task is the `position`-th of `total`. */
export interface SelectionProgress {
  position: number;
  total: number;
}

const STORE_PREFIX = 'labelvault.label-selection.';

/** Keeps a selection for this tab; returns the key the URL carries. */
export function saveSelection(sel: Omit<LabelSelection, 'passed'>): string {
  const key = (Date.now().toString(36) + Math.random().toString(36).slice(2, 8)).slice(-10);
  writeSelection(key, { ...sel, passed: [] });
  return key;
}

function writeSelection(key: string, sel: LabelSelection): void {
  try {
    sessionStorage.setItem(STORE_PREFIX + key, JSON.stringify(sel));
  } catch {
    /* storage full or off: the selection lasts until the page is reloaded */
  }
}

/** The selection kept under `key` for project `projectId`, or null (another tab, or storage cleared). */
export function readSelection(key: string, projectId: number): LabelSelection | null {
  try {
    const raw = JSON.parse(sessionStorage.getItem(STORE_PREFIX + key) ?? 'null') as LabelSelection | null;
    return raw && raw.project === projectId && typeof raw.selectedItems === 'object' ? { ...raw, passed: raw.passed ?? [] } : null;
  } catch {
    return null;
  }
}

/** The labeling page's URL for a selection (at a task, or looking for the next one). */
export const selectionUrl = (projectId: number, key: string, taskId?: number | null) =>
  `/projects/${projectId}/label?${taskId ? `task=${taskId}&` : ''}selection=${encodeURIComponent(key)}`;

/** The selection without the tasks passed over. */
function narrowed(sel: LabelSelection): SelectedItems {
  const passed = new Set(sel.passed);
  const s = sel.selectedItems;
  return s.all ? { all: true, excluded: [...new Set([...(s.excluded ?? []), ...passed])] } : { all: false, included: (s.included ?? []).filter((id) => !passed.has(id)) };
}

/** The first task of the selection the caller still has to label (reserved for them), or null when none is left. */
export async function nextInSelection(sel: LabelSelection): Promise<number | null> {
  const body = { selectedItems: narrowed(sel), filters: sel.filters, ordering: sel.ordering };
  try {
    return (await api<Task>('POST', `/api/dm/actions?id=next_task&project=${sel.project}`, body)).id;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** How many tasks of the project the selection and extra filter items match. */
async function countTasks(sel: LabelSelection, selectedItems: SelectedItems, extra: FilterItem[]): Promise<number> {
  const query = JSON.stringify({ filters: { conjunction: 'and', items: [...sel.filters.items, ...extra] }, selectedItems });
  try {
    return (await api<TaskList>('GET', `/api/tasks?project=${sel.project}&page_size=1&fields=task_only&query=${encodeURIComponent(query)}`)).total;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return 0;
    throw e;
  }
}

/**
 * The current task's place in the selection: of the N selected tasks, those still open for the
 * caller (fewer annotations than the project needs, none by the caller, not passed over) are
 * ahead; the rest are behind. Null when the filters are ORed (extra conditions cannot be added).
 */
export async function selectionProgress(sel: LabelSelection, userId: number, maximumAnnotations: number): Promise<SelectionProgress | null> {
  if (sel.filters.conjunction === 'or' && sel.filters.items.length > 1) return null;
  const open: FilterItem[] = [
    { filter: 'filter:tasks:total_annotations', operator: 'less', type: 'Number', value: maximumAnnotations },
    { filter: 'filter:tasks:annotators', operator: 'not_contains', type: 'List', value: userId },
  ];
  const [total, ahead] = await Promise.all([countTasks(sel, sel.selectedItems, []), countTasks(sel, narrowed(sel), open)]);
  return { total, position: Math.min(total, Math.max(1, total - ahead + 1)) };
}

/** What the labeling page uses of a selection (all null/no-ops when the URL names none). */
export interface SelectionState {
  key: string | null;
  /** The selection, or null (none named, or not kept in this tab: `lost`). */
  selection: LabelSelection | null;
  lost: boolean;
  progress: SelectionProgress | null;
  /** Leaves `taskId` for later (until `revisitPassed`). */
  pass: (taskId: number) => void;
  /** Brings the passed-over tasks back. */
  revisitPassed: () => void;
}

/**
 * The selection named by `key` in project `projectId`; progress is recounted for each `taskId`
 * (null: the selection is finished, only its size matters; undefined: the next task is loading).
 */
export function useLabelSelection(projectId: number, key: string | null, taskId: number | null | undefined, userId: number | undefined, maximumAnnotations: number | undefined): SelectionState {
  const name = key === null ? null : `${projectId}:${key}`;
  const [read, setRead] = useState(() => ({ name, selection: key ? readSelection(key, projectId) : null }));
  const [progress, setProgress] = useState<SelectionProgress | null>(null);
  let { selection } = read;
  if (read.name !== name) {
    // Another selection named in the URL: read it now (state set while rendering, React's pattern for derived state).
    selection = key ? readSelection(key, projectId) : null;
    setRead({ name, selection });
  }

  useEffect(() => {
    if (!selection) return setProgress(null);
    if (taskId === undefined || userId === undefined || maximumAnnotations === undefined) return; // the last count stays while the next task loads
    let live = true;
    selectionProgress(selection, userId, maximumAnnotations).then(
      (p) => live && setProgress(p),
      () => live && setProgress(null), // the count is a nicety: labeling goes on without it
    );
    return () => {
      live = false;
    };
  }, [selection, taskId, userId, maximumAnnotations]);

  const update = (passed: (old: number[]) => number[]) => {
    if (!key || !selection) return;
    const next = { ...selection, passed: passed(selection.passed) };
    writeSelection(key, next);
    setRead({ name, selection: next });
  };
  return {
    key,
    selection,
    lost: key !== null && selection === null,
    progress,
    pass: (id) => update((old) => [...new Set([...old, id])]),
    revisitPassed: () => update(() => []),
  };
}
