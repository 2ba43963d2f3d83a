/**
 * The data manager's filter toolbar: one row per filter (data field contains, annotated by,
 * labeled or not, created / updated dates, prediction score), "+ Filter", and whatever the table
 * puts on the right (the view buttons).
 */
import type { ReactNode } from 'react';
import type { Membership } from '../../api/types';
import { nameOf } from '../../components/ui';
import { blankFilter, describeRaw, isDateKind, KIND_LABELS, type FilterKind, type UiFilter } from './dm-filters';

type Kind = Exclude<FilterKind, 'raw'>;

interface Props {
  filters: UiFilter[];
  onChange: (filters: UiFilter[]) => void;
  /** Data fields seen in the tasks, for the data-field filter. */
  fields: string[];
  /** Who may appear as annotator (undefined: the caller may not list members; no annotator filter). */
  people: Membership[] | undefined;
  children?: ReactNode;
}

/** The value editor of filter `i`. */
function ValueEditor({ f, i, set, fields, people }: { f: UiFilter; i: number; set: (f: UiFilter) => void; fields: string[]; people: Membership[] | undefined }) {
  const label = `Filter ${i + 1} value`;
  if (f.kind === 'raw') return <span className="muted">{f.raw ? describeRaw(f.raw) : ''}</span>;
  if (isDateKind(f.kind)) return <input className="input" type="date" aria-label={label} value={f.value} onChange={(e) => set({ ...f, value: e.target.value })} />;
  switch (f.kind) {
    case 'field':
      return (
        <>
          <select className="input" aria-label={`Filter ${i + 1} field`} value={f.field ?? ''} onChange={(e) => set({ ...f, field: e.target.value })}>
            {fields.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
          <span className="muted">contains</span>
          <input className="input" aria-label={label} value={f.value} onChange={(e) => set({ ...f, value: e.target.value })} />
        </>
      );
    case 'annotator':
      return (
        <select className="input" aria-label={label} value={f.value} onChange={(e) => set({ ...f, value: e.target.value })}>
          <option value="">Anyone…</option>
          {(people ?? []).map((m) => (
            <option key={m.user.id} value={m.user.id}>
              {nameOf(m.user)}
            </option>
          ))}
        </select>
      );
    case 'labeled':
      return (
        <select className="input" aria-label={label} value={f.value} onChange={(e) => set({ ...f, value: e.target.value })}>
          <option value="">Either</option>
          <option value="yes">Has annotations</option>
          <option value="no">No annotations</option>
        </select>
      );
    case 'score_min':
    case 'score_max':
      return <input className="input" type="number" step="any" style={{ width: 90 }} aria-label={label} value={f.value} onChange={(e) => set({ ...f, value: e.target.value })} />;
  }
}

/** The toolbar: filters on the left, `children` on the right. */
export function FilterBar({ filters, onChange, fields, people, children }: Props) {
  const kinds = (Object.keys(KIND_LABELS) as Kind[]).filter((k) => k !== 'annotator' || people);
  const setAt = (i: number, f: UiFilter) => onChange(filters.map((x, j) => (j === i ? f : x)));
  return (
    <div className="toolbar" aria-label="Filters">
      {filters.map((f, i) => (
        <span className="filter-row" key={i} data-testid="filter">
          {f.kind === 'raw' ? (
            <span className="badge">Saved filter</span>
          ) : (
            <select className="input" aria-label={`Filter ${i + 1} column`} value={f.kind} onChange={(e) => setAt(i, blankFilter(e.target.value as Kind, fields[0]))}>
              {kinds.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABELS[k]}
                </option>
              ))}
            </select>
          )}
          <ValueEditor f={f} i={i} set={(x) => setAt(i, x)} fields={fields} people={people} />
          <button className="btn btn-ghost btn-sm" aria-label={`Remove filter ${i + 1}`} onClick={() => onChange(filters.filter((_, j) => j !== i))}>
            ✕
          </button>
        </span>
      ))}
      <button className="btn btn-sm" onClick={() => onChange([...filters, blankFilter('labeled', fields[0])])}>
        + Filter
      </button>
      <div className="toolbar-spacer" />
      {children}
    </div>
  );
}
