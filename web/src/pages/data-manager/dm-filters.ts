/**
 * The data manager's filters as the toolbar shows them, and their translation to and from the
 * server's filter items (`filter:tasks:<column>`, src/modules/data-manager/filters.ts). Items a
 * saved view holds that the toolbar cannot edit are kept as they are (kind `raw`), so opening and
 * re-saving a view made elsewhere never drops a filter.
 */
import type { FilterItem } from '../../api/types';

/** What a toolbar filter compares. */
export type FilterKind =
  | 'field'
  | 'annotator'
  | 'labeled'
  | 'created_after'
  | 'created_before'
  | 'updated_after'
  | 'updated_before'
  | 'score_min'
  | 'score_max'
  | 'raw';

/** One filter of the toolbar. */
export interface UiFilter {
  kind: FilterKind;
  /** The data field (kind `field`). */
  field?: string;
  value: string;
  /** The server item kept unchanged (kind `raw`). */
  raw?: FilterItem;
}

/** The kinds a user may pick, with their labels (`raw` only comes from saved views). */
export const KIND_LABELS: Record<Exclude<FilterKind, 'raw'>, string> = {
  field: 'Data field',
  annotator: 'Annotated by',
  labeled: 'Labeled',
  created_after: 'Created on or after',
  created_before: 'Created on or before',
  updated_after: 'Updated on or after',
  updated_before: 'Updated on or before',
  score_min: 'Prediction score ≥',
  score_max: 'Prediction score ≤',
};

const DAY_MS = 86_400_000;
const DATE_KINDS = { created_after: 'created_at', created_before: 'created_at', updated_after: 'updated_at', updated_before: 'updated_at' } as const;

/** Whether a kind is edited with a date input. */
export const isDateKind = (k: FilterKind): k is keyof typeof DATE_KINDS => k in DATE_KINDS;

/** A local calendar day (yyyy-mm-dd) → the ISO instant it starts. */
const dayStart = (day: string) => new Date(`${day}T00:00:00`).toISOString();

/** An ISO instant → the local calendar day holding it. */
function localDay(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function dateItem(kind: keyof typeof DATE_KINDS, day: string): FilterItem {
  const filter = `filter:tasks:${DATE_KINDS[kind]}`;
  if (kind.endsWith('_after')) return { filter, operator: 'greater_or_equal', type: 'Datetime', value: dayStart(day) };
  return { filter, operator: 'less', type: 'Datetime', value: new Date(new Date(dayStart(day)).getTime() + DAY_MS).toISOString() };
}

/** A toolbar filter → the server's item; null while it is incomplete. */
export function toItem(f: UiFilter): FilterItem | null {
  if (f.kind === 'raw') return f.raw ?? null;
  if (isDateKind(f.kind)) return f.value ? dateItem(f.kind, f.value) : null;
  switch (f.kind) {
    case 'field':
      return f.field && f.value ? { filter: `filter:tasks:data.${f.field}`, operator: 'contains', type: 'String', value: f.value } : null;
    case 'annotator':
      return f.value ? { filter: 'filter:tasks:annotators', operator: 'contains', type: 'List', value: Number(f.value) } : null;
    case 'labeled':
      return f.value ? { filter: 'filter:tasks:total_annotations', operator: f.value === 'yes' ? 'greater' : 'equal', type: 'Number', value: 0 } : null;
    case 'score_min':
    case 'score_max': {
      const n = Number(f.value);
      if (f.value.trim() === '' || !Number.isFinite(n)) return null;
      return { filter: 'filter:tasks:predictions_score', operator: f.kind === 'score_min' ? 'greater_or_equal' : 'less_or_equal', type: 'Number', value: n };
    }
  }
}

/** The server's item → the toolbar's filter (kind `raw` when the toolbar has no editor for it). */
export function fromItem(i: FilterItem): UiFilter {
  const col = i.filter.replace('filter:tasks:', '');
  const v = i.value;
  if (col.startsWith('data.') && i.operator === 'contains') return { kind: 'field', field: col.slice(5), value: String(v ?? '') };
  if (col === 'annotators' && i.operator === 'contains') return { kind: 'annotator', value: String(v ?? '') };
  if (col === 'total_annotations' && v === 0 && (i.operator === 'greater' || i.operator === 'equal')) return { kind: 'labeled', value: i.operator === 'greater' ? 'yes' : 'no' };
  if ((col === 'created_at' || col === 'updated_at') && typeof v === 'string') {
    const prefix = col === 'created_at' ? 'created' : 'updated';
    if (i.operator === 'greater_or_equal') return { kind: `${prefix}_after`, value: localDay(v) };
    if (i.operator === 'less') return { kind: `${prefix}_before`, value: localDay(new Date(new Date(v).getTime() - DAY_MS).toISOString()) };
  }
  if (col === 'predictions_score' && typeof v === 'number') {
    if (i.operator === 'greater_or_equal') return { kind: 'score_min', value: String(v) };
    if (i.operator === 'less_or_equal') return { kind: 'score_max', value: String(v) };
  }
  return { kind: 'raw', value: '', raw: { filter: i.filter, operator: i.operator, type: i.type, value: i.value } };
}

/** A raw item, readable: "annotations_results contains car". */
export const describeRaw = (i: FilterItem) => `${i.filter.replace('filter:tasks:', '')} ${i.operator.replace(/_/g, ' ')} ${typeof i.value === 'string' ? i.value : JSON.stringify(i.value ?? '')}`;

/** A fresh filter of a kind (the default value each editor starts with). */
export function blankFilter(kind: Exclude<FilterKind, 'raw'>, firstField: string | undefined): UiFilter {
  if (kind === 'labeled') return { kind, value: 'yes' };
  if (kind === 'field') return { kind, field: firstField, value: '' };
  return { kind, value: '' };
}
