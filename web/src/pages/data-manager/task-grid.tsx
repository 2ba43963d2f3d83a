/**
 * The data manager's task table, windowed: only the rows on screen (plus a few) are in the DOM,
 * absolutely placed in a body as tall as every matching task, so the scroll bar is true and a
 * row's position is its index times the one fixed row height; the pages under the window are
 * fetched as it moves (use-task-pages.ts). Past about 290,000 tasks the body would outgrow what
 * a browser can lay out: its height is capped, the scroll bar maps proportionally and the rows
 * are placed relative to the viewport (scaled-scroll.ts). It is a CSS grid with ARIA table roles
 * rather than a <table>: moving the window then lays out only the rows that changed, never the
 * whole table.
 */
import { memo, useCallback, useEffect, useRef, useState } from 'react';
import type { Task } from '../../api/types';
import { Link, navigate } from '../../app/router';
import { ago } from '../../components/ui';
import { bodyHeight, bodyHeightCap } from './scaled-scroll';
import { isSelected, selectedCount, toggled, EVERYTHING, NOTHING, type RowSelection } from './selection';
import type { TaskPages } from './use-task-pages';
import { useRowWindow } from './use-window';

/** Row height in pixels; `.dm-row` in components.css has the same. */
export const ROW_HEIGHT = 52;
const IMAGE_VALUE = /^(data:image\/|https?:\/\/\S+\.(png|jpe?g|gif|webp|svg)(\?|$)|\/data\/upload\/\S+\.(png|jpe?g|gif|webp|svg)$)/i;

/** One data field as a cell: image thumbnails, truncated text, compact JSON. */
function DataCell({ value }: { value: unknown }) {
  if (typeof value === 'string' && IMAGE_VALUE.test(value)) return <img className="thumb" src={value} alt="" loading="lazy" />;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return (
    <span className="cell-text" title={text.length > 2000 ? `${text.slice(0, 2000)}…` : text}>
      {text.length > 500 ? `${text.slice(0, 500)}…` : text}
    </span>
  );
}

interface Props {
  projectId: number;
  pages: TaskPages;
  /** Data fields shown as columns. */
  fields: string[];
  /** A user's display name. */
  nameOf: (userId: number) => string;
  selection: RowSelection;
  onSelect: (s: RowSelection) => void;
  ordering: string[];
  onSort: (column: string) => void;
  /** Changes when the query does: the table scrolls back to the top. */
  queryKey: string;
  /** Rows open the task in the editor. */
  canLabel: boolean;
}

interface RowProps {
  t: Task;
  index: number;
  /** Pixels from the top of the rows' layer (index × row height when nothing is scaled). */
  top: number;
  selected: boolean;
  onToggle: (id: number) => void;
  projectId: number;
  fields: string[];
  nameOf: (userId: number) => string;
  canLabel: boolean;
}

/** One loaded task as a row (memoised: scrolling renders only the rows that come and go). */
const TaskRow = memo(function TaskRow({ t, index, top, selected, onToggle, projectId, fields, nameOf, canLabel }: RowProps) {
  const open = canLabel ? () => navigate(`/projects/${projectId}/label?task=${t.id}`) : undefined;
  return (
    <div role="row" data-testid="task-row" data-task={t.id} aria-rowindex={index + 2} aria-selected={selected} className={`dm-row${open ? ' clickable' : ''}`} style={{ top }} onClick={open}>
      <div role="cell" className="dm-cell" onClick={(e) => e.stopPropagation()}>
        <input type="checkbox" aria-label={`Select task ${t.id}`} checked={selected} onChange={() => onToggle(t.id)} />
      </div>
      <div role="cell" className="dm-cell num">
        {canLabel ? (
          <Link to={`/projects/${projectId}/label?task=${t.id}`} onClick={(e) => e.stopPropagation()} aria-label={`Open task ${t.id}`}>
            {t.id}
          </Link>
        ) : (
          t.id
        )}
      </div>
      {fields.map((c) => (
        <div role="cell" className="dm-cell" key={c}>
          {c in t.data ? <DataCell value={t.data[c]} /> : <span className="muted">—</span>}
        </div>
      ))}
      <div role="cell" className="dm-cell num">
        {t.total_annotations}
        {t.cancelled_annotations > 0 && <span className="muted">&nbsp;· {t.cancelled_annotations} skipped</span>}
      </div>
      <div role="cell" className="dm-cell">
        <span className="cell-text">{(t.annotators ?? []).map(nameOf).join(', ') || <span className="muted">—</span>}</span>
      </div>
      <div role="cell" className="dm-cell num">
        {typeof t.predictions_score === 'number' ? t.predictions_score.toFixed(2) : <span className="muted">—</span>}
      </div>
      <div role="cell" className="dm-cell">
        {t.is_labeled ? <span className="badge badge-success">Done</span> : <span className="badge">To do</span>}
      </div>
      <div role="cell" className="dm-cell muted" title={t.created_at}>
        {ago(t.created_at)}
      </div>
      <div role="cell" className="dm-cell muted" title={t.updated_at}>
        {ago(t.updated_at)}
      </div>
    </div>
  );
});

/** The windowed table and its footer (total and the rows in view). */
export function TaskGrid(p: Props) {
  const { pages, selection, ordering, onSelect } = p;
  const { ensure } = pages;
  const total = pages.total ?? 0;
  const scroller = useRef<HTMLDivElement>(null);
  const [cap] = useState(() => bodyHeightCap(location.search));
  const { start, end, base, shift } = useRowWindow(scroller, total, ROW_HEIGHT, { cap, resetKey: p.queryKey });
  useEffect(() => ensure(start, end), [ensure, start, end]);

  const toggle = useCallback((id: number) => onSelect(toggled(selection, id)), [onSelect, selection]);
  const count = selectedCount(selection, total);
  const allBox = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (allBox.current) allBox.current.indeterminate = count > 0 && count < total;
  }, [count, total]);

  // The first data field (usually the text or image) gets the most room.
  const columns = ['44px', '90px', ...p.fields.map((_, i) => (i === 0 ? 'minmax(200px, 3fr)' : 'minmax(120px, 1fr)')), '140px', '150px', '90px', '96px', '110px', '110px'].join(' ');
  const dir = (col: string) => (ordering[0] === `tasks:${col}` ? 'ascending' : ordering[0] === `-tasks:${col}` ? 'descending' : 'none');
  const th = (col: string, label: string, className = '') => (
    <div role="columnheader" key={col} className={`dm-th sortable ${className}`} onClick={() => p.onSort(col)} aria-sort={dir(col)}>
      {label}
      {dir(col) === 'ascending' ? ' ↑' : dir(col) === 'descending' ? ' ↓' : ''}
    </div>
  );
  const rows = [];
  for (let i = start; i < end; i++) {
    const t = pages.rowAt(i);
    const row = { index: i, top: (i - base) * ROW_HEIGHT, projectId: p.projectId, fields: p.fields, nameOf: p.nameOf, canLabel: p.canLabel, onToggle: toggle };
    if (t) rows.push(<TaskRow key={t.id} t={t} selected={isSelected(selection, t.id)} {...row} />);
    else
      rows.push(
        <div role="row" key={`pending-${i}`} className="dm-row dm-pending" aria-rowindex={i + 2} style={{ top: row.top }}>
          <span className="dm-skeleton" />
        </div>,
      );
  }

  return (
    <>
      <div className="dm-scroll" ref={scroller} data-testid="task-scroll">
        <div role="table" aria-label="Tasks" aria-rowcount={total + 1} className="dm-grid" style={{ ['--dm-columns' as string]: columns }}>
          <div role="rowgroup" className="dm-head">
            <div role="row" className="dm-header-row" aria-rowindex={1}>
              <div role="columnheader" className="dm-th">
                <input ref={allBox} type="checkbox" aria-label={`Select all ${total} tasks`} checked={total > 0 && count === total} onChange={(e) => onSelect(e.target.checked ? EVERYTHING : NOTHING)} />
              </div>
              {th('id', 'ID', 'num')}
              {p.fields.map((c) => th(`data.${c}`, c))}
              {th('total_annotations', 'Annotations', 'num')}
              <div role="columnheader" className="dm-th">
                Annotated by
              </div>
              {th('predictions_score', 'Score', 'num')}
              <div role="columnheader" className="dm-th">
                Status
              </div>
              {th('created_at', 'Created')}
              {th('updated_at', 'Updated')}
            </div>
          </div>
          <div role="rowgroup" className="dm-body" style={{ height: bodyHeight(total, ROW_HEIGHT, cap) }}>
            <div role="presentation" className="dm-rows" style={{ top: shift }}>
              {rows}
            </div>
          </div>
        </div>
      </div>
      <div className="pager">
        <span data-testid="task-total">
          {total.toLocaleString('en-US')} task{total === 1 ? '' : 's'}
        </span>
        <span className="muted">{total > 0 && `Rows ${(start + 1).toLocaleString('en-US')}–${end.toLocaleString('en-US')}`}</span>
      </div>
    </>
  );
}
