/**
 * The data manager's task table: saved views as tabs (GET/POST/PATCH/DELETE /api/dm/views),
 * filters (data field, annotator, labeled state, dates) and sorting sent as the `query` of
 * GET /api/tasks (the server's filter language, src/modules/data-manager/filters.ts), paging,
 * and row selection with bulk actions (delete tasks or annotations through /api/dm/actions,
 * assign to annotators through /api/projects/:id/tasks/assignees, label the selection).
 */
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { DmView, FilterItem, Filters, Membership, Page, Project, TaskList } from '../api/types';
import { Link, navigate } from '../app/router';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { ago, ConfirmButton, Empty, ErrorAlert, Loading, nameOf } from '../components/ui';

const PAGE_SIZE = 30;
const IMAGE_VALUE = /^(data:image\/|https?:\/\/\S+\.(png|jpe?g|gif|webp|svg)(\?|$)|\/data\/upload\/\S+\.(png|jpe?g|gif|webp|svg)$)/i;

/** One data field as a cell: image thumbnails, truncated text, compact JSON. */
function DataCell({ value }: { value: unknown }) {
  if (typeof value === 'string' && IMAGE_VALUE.test(value)) return <img className="thumb" src={value} alt="" loading="lazy" />;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return (
    <span className="cell-text" title={text}>
      {text}
    </span>
  );
}

/** The filters the toolbar offers, each turned into the server's filter items. */
type FilterKind = 'field' | 'annotator' | 'labeled' | 'created_after' | 'created_before';
interface UiFilter {
  kind: FilterKind;
  field?: string;
  value: string;
}

function toItem(f: UiFilter): FilterItem | null {
  switch (f.kind) {
    case 'field':
      return f.field && f.value ? { filter: `filter:tasks:data.${f.field}`, operator: 'contains', type: 'String', value: f.value } : null;
    case 'annotator':
      return f.value ? { filter: 'filter:tasks:annotators', operator: 'contains', type: 'List', value: Number(f.value) } : null;
    case 'labeled':
      return f.value ? { filter: 'filter:tasks:total_annotations', operator: f.value === 'yes' ? 'greater' : 'equal', type: 'Number', value: 0 } : null;
    case 'created_after':
      return f.value ? { filter: 'filter:tasks:created_at', operator: 'greater_or_equal', type: 'Datetime', value: new Date(`${f.value}T00:00:00`).toISOString() } : null;
    case 'created_before':
      return f.value ? { filter: 'filter:tasks:created_at', operator: 'less', type: 'Datetime', value: new Date(new Date(`${f.value}T00:00:00`).getTime() + 86_400_000).toISOString() } : null;
  }
}

/** Back from the server's items to the toolbar's (for saved views); unknown items are dropped. */
function fromItem(i: FilterItem): UiFilter | null {
  const col = i.filter.replace('filter:tasks:', '');
  if (col.startsWith('data.')) return { kind: 'field', field: col.slice(5), value: String(i.value ?? '') };
  if (col === 'annotators') return { kind: 'annotator', value: String(i.value ?? '') };
  if (col === 'total_annotations') return { kind: 'labeled', value: i.operator === 'greater' ? 'yes' : 'no' };
  if (col === 'created_at' && typeof i.value === 'string') {
    const day = new Date(i.value);
    if (i.operator === 'less') day.setTime(day.getTime() - 86_400_000);
    const iso = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
    return { kind: i.operator === 'less' ? 'created_before' : 'created_after', value: iso };
  }
  return null;
}

const KIND_LABELS: Record<FilterKind, string> = { field: 'Data field', annotator: 'Annotated by', labeled: 'Labeled', created_after: 'Created on or after', created_before: 'Created on or before' };

/** The task table of project `p`. */
export function TaskTable({ p, onImport, refreshKey }: { p: Project; onImport: () => void; refreshKey: number }) {
  const { can, user } = useSession();
  const id = p.id;
  const views = useApi(`views-${id}`, () => api<DmView[]>('GET', `/api/dm/views?project=${id}`));
  const members = useApi(can('members.view') && user?.active_organization ? `members-${user.active_organization}` : null, () =>
    api<Page<Membership>>('GET', `/api/organizations/${user!.active_organization}/memberships?page_size=1000`),
  );
  const people = useMemo(() => new Map((members.data?.results ?? []).map((m) => [m.user.id, m])), [members.data]);
  const [view, setView] = useState<number | null>(null);
  const [filters, setFilters] = useState<UiFilter[]>([]);
  const [ordering, setOrdering] = useState<string[]>([]);
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [error, setError] = useState<ApiError | Error>();
  const [notice, setNotice] = useState<string>();
  const [assignee, setAssignee] = useState('');
  const [tick, setTick] = useState(0);

  const items = filters.map(toItem).filter((x): x is FilterItem => x !== null);
  const query: { filters: Filters; ordering: string[] } = { filters: { conjunction: 'and', items }, ordering };
  const queryJson = JSON.stringify(query);
  const tasks = useApi(`tasks-${id}-${page}-${queryJson}-${refreshKey}-${tick}`, async () => {
    try {
      return await api<TaskList>('GET', `/api/tasks?project=${id}&page=${page}&page_size=${PAGE_SIZE}&fields=all&query=${encodeURIComponent(queryJson)}`);
    } catch (e) {
      // A page past the end (after deleting or filtering) is 404: nothing there.
      if (e instanceof ApiError && e.status === 404 && page > 1) return { tasks: [], total: 0, total_annotations: 0, total_predictions: 0 };
      throw e;
    }
  });
  useEffect(() => setPage(1), [queryJson]);
  useEffect(() => setSelected(new Set()), [queryJson, page, refreshKey, tick]);

  const rows = tasks.data?.tasks ?? [];
  const fields = useMemo(() => [...new Set(rows.flatMap((t) => Object.keys(t.data)))].slice(0, 4), [rows]);
  const [knownFields, setKnownFields] = useState<string[]>([]);
  useEffect(() => {
    if (fields.length) setKnownFields((k) => [...new Set([...k, ...fields])]);
  }, [fields]);
  const total = tasks.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const unfiltered = items.length === 0 && view === null;

  const openView = (v: DmView | null) => {
    setView(v?.id ?? null);
    setFilters((v?.data.filters?.items ?? []).map(fromItem).filter((x): x is UiFilter => x !== null));
    setOrdering(v?.data.ordering ?? v?.ordering ?? []);
  };
  const act = async (what: () => Promise<string>) => {
    setError(undefined);
    setNotice(undefined);
    try {
      setNotice(await what());
      setTick((t) => t + 1);
    } catch (e) {
      setError(e as Error);
    }
  };
  const saveView = (asNew: boolean) =>
    act(async () => {
      const title = asNew ? `View ${(views.data?.length ?? 0) + 1}` : undefined;
      if (asNew || view === null) {
        const v = await api<DmView>('POST', '/api/dm/views', { project: id, data: { title, filters: query.filters, ordering } });
        setView(v.id);
      } else await api('PATCH', `/api/dm/views/${view}`, { project: id, data: { filters: query.filters, ordering } });
      views.reload();
      return 'View saved.';
    });
  const deleteView = (v: DmView) =>
    act(async () => {
      await api('DELETE', `/api/dm/views/${v.id}`);
      if (view === v.id) openView(null);
      views.reload();
      return `View “${v.data.title ?? v.id}” deleted.`;
    });
  const selection = { all: false, included: [...selected] };
  const runAction = (action: string, label: string) =>
    act(async () => {
      const r = await api<{ processed_items?: number }>('POST', `/api/dm/actions?id=${action}&project=${id}`, { selectedItems: selection });
      return `${label}: ${r.processed_items ?? selected.size} task${(r.processed_items ?? selected.size) === 1 ? '' : 's'}.`;
    });
  const assign = () =>
    act(async () => {
      const r = await api<{ assignments: number }>('POST', `/api/projects/${id}/tasks/assignees`, { type: 'AN', users: [Number(assignee)], selectedItems: selection });
      setAssignee('');
      return `Assigned ${r.assignments} task${r.assignments === 1 ? '' : 's'}.`;
    });

  const sortBy = (col: string) => setOrdering(ordering[0] === `tasks:${col}` ? [`-tasks:${col}`] : ordering[0] === `-tasks:${col}` ? [] : [`tasks:${col}`]);
  const arrow = (col: string) => (ordering[0] === `tasks:${col}` ? ' ↑' : ordering[0] === `-tasks:${col}` ? ' ↓' : '');
  const Th = ({ col, label, className }: { col: string; label: string; className?: string }) => (
    <th scope="col" className={`sortable ${className ?? ''}`} onClick={() => sortBy(col)} aria-sort={ordering[0] === `tasks:${col}` ? 'ascending' : ordering[0] === `-tasks:${col}` ? 'descending' : 'none'}>
      {label}
      {arrow(col)}
    </th>
  );
  const allOnPage = rows.length > 0 && rows.every((t) => selected.has(t.id));
  const annotatorChoices = (members.data?.results ?? []).filter((m) => !['NO', 'DI'].includes(m.role));

  return (
    <div className="card">
      <div className="view-tabs" role="tablist" aria-label="Views">
        <button className="view-tab" role="tab" aria-selected={view === null} onClick={() => openView(null)}>
          All tasks
        </button>
        {(views.data ?? []).map((v) => (
          <span key={v.id} className="row" style={{ gap: 0 }}>
            <button className="view-tab" role="tab" aria-selected={view === v.id} onClick={() => openView(v)}>
              {v.data.title || `View ${v.id}`}
            </button>
            {can('task.change') && view === v.id && (
              <button className="btn btn-ghost btn-sm" aria-label={`Delete view ${v.data.title ?? v.id}`} onClick={() => void deleteView(v)}>
                ✕
              </button>
            )}
          </span>
        ))}
      </div>
      <div className="toolbar" aria-label="Filters">
        {filters.map((f, i) => (
          <span className="filter-row" key={i} data-testid="filter">
            <select className="input" aria-label={`Filter ${i + 1} column`} value={f.kind} onChange={(e) => setFilters(filters.map((x, j) => (j === i ? { kind: e.target.value as FilterKind, field: knownFields[0], value: '' } : x)))}>
              {(Object.keys(KIND_LABELS) as FilterKind[])
                .filter((k) => k !== 'annotator' || members.data)
                .map((k) => (
                  <option key={k} value={k}>
                    {KIND_LABELS[k]}
                  </option>
                ))}
            </select>
            {f.kind === 'field' && (
              <>
                <select className="input" aria-label={`Filter ${i + 1} field`} value={f.field ?? ''} onChange={(e) => setFilters(filters.map((x, j) => (j === i ? { ...x, field: e.target.value } : x)))}>
                  {knownFields.map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
                <span className="muted">contains</span>
                <input className="input" aria-label={`Filter ${i + 1} value`} value={f.value} onChange={(e) => setFilters(filters.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
              </>
            )}
            {f.kind === 'annotator' && (
              <select className="input" aria-label={`Filter ${i + 1} value`} value={f.value} onChange={(e) => setFilters(filters.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}>
                <option value="">Anyone…</option>
                {annotatorChoices.map((m) => (
                  <option key={m.user.id} value={m.user.id}>
                    {nameOf(m.user)}
                  </option>
                ))}
              </select>
            )}
            {f.kind === 'labeled' && (
              <select className="input" aria-label={`Filter ${i + 1} value`} value={f.value} onChange={(e) => setFilters(filters.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}>
                <option value="">Either</option>
                <option value="yes">Has annotations</option>
                <option value="no">No annotations</option>
              </select>
            )}
            {(f.kind === 'created_after' || f.kind === 'created_before') && (
              <input className="input" type="date" aria-label={`Filter ${i + 1} value`} value={f.value} onChange={(e) => setFilters(filters.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
            )}
            <button className="btn btn-ghost btn-sm" aria-label={`Remove filter ${i + 1}`} onClick={() => setFilters(filters.filter((_, j) => j !== i))}>
              ✕
            </button>
          </span>
        ))}
        <button className="btn btn-sm" onClick={() => setFilters([...filters, { kind: 'labeled', value: 'yes' }])}>
          + Filter
        </button>
        <div className="toolbar-spacer" />
        {can('task.change') && (
          <>
            {view !== null && (
              <button className="btn btn-sm" onClick={() => void saveView(false)}>
                Update view
              </button>
            )}
            <button className="btn btn-sm" onClick={() => void saveView(true)}>
              Save as view
            </button>
          </>
        )}
      </div>
      {selected.size > 0 && (
        <div className="bulk-bar" role="region" aria-label="Selection">
          <strong>{selected.size} selected</strong>
          <div className="toolbar-spacer" />
          {can('annotation.create') && (
            <button className="btn btn-sm" onClick={() => navigate(`/projects/${id}/label?task=${[...selected][0]}`)}>
              Label selected
            </button>
          )}
          {can('task.assign') && members.data && (
            <>
              <select className="input" style={{ height: 30, width: 200 }} aria-label="Assign to" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
                <option value="">Assign to…</option>
                {annotatorChoices.map((m) => (
                  <option key={m.user.id} value={m.user.id}>
                    {nameOf(m.user)}
                  </option>
                ))}
              </select>
              <button className="btn btn-sm" disabled={!assignee} onClick={() => void assign()}>
                Assign
              </button>
            </>
          )}
          {can('annotation.change_any') && <ConfirmButton label="Delete annotations" confirm="Delete annotations" className="btn btn-sm btn-danger" onConfirm={() => void runAction('delete_tasks_annotations', 'Deleted the annotations of')} />}
          {can('task.change') && <ConfirmButton label="Delete tasks" confirm="Delete tasks" className="btn btn-sm btn-danger" onConfirm={() => void runAction('delete_tasks', 'Deleted')} />}
        </div>
      )}
      {(error || tasks.error || views.error || notice) && (
        <div className="stack" style={{ padding: '12px 16px 0', gap: 8 }}>
          <ErrorAlert error={error ?? tasks.error ?? views.error} />
          {notice && (
            <div className="alert alert-success" role="status">
              {notice}
            </div>
          )}
        </div>
      )}
      {tasks.loading && !tasks.data && <Loading label="Loading tasks…" />}
      {tasks.data && total === 0 && unfiltered && (
        <Empty icon="inbox" title="No tasks yet">
          <p>Import a JSON list, CSV or media files to start labeling.</p>
          {can('task.import') && (
            <button className="btn btn-primary" onClick={onImport}>
              Import data
            </button>
          )}
        </Empty>
      )}
      {tasks.data && rows.length === 0 && !unfiltered && (
        <Empty icon="compass" title="No tasks match">
          <p>Change or remove a filter to see more.</p>
        </Empty>
      )}
      {rows.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="table" aria-label="Tasks">
              <thead>
                <tr>
                  <th className="sel">
                    <input type="checkbox" aria-label="Select all on this page" checked={allOnPage} onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((t) => t.id)) : new Set())} />
                  </th>
                  <Th col="id" label="ID" className="num" />
                  {fields.map((c) => (
                    <Th key={c} col={`data.${c}`} label={c} />
                  ))}
                  <Th col="total_annotations" label="Annotations" className="num" />
                  <th>Annotated by</th>
                  <Th col="predictions_score" label="Score" className="num" />
                  <th>Status</th>
                  <Th col="created_at" label="Created" />
                  <Th col="updated_at" label="Updated" />
                </tr>
              </thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.id} data-testid="task-row" data-task={t.id} className={can('annotation.create') ? 'clickable' : undefined} onClick={can('annotation.create') ? () => navigate(`/projects/${id}/label?task=${t.id}`) : undefined}>
                    <td className="sel" onClick={(e) => e.stopPropagation()}>
                      <input
                        type="checkbox"
                        aria-label={`Select task ${t.id}`}
                        checked={selected.has(t.id)}
                        onChange={(e) => {
                          const next = new Set(selected);
                          if (e.target.checked) next.add(t.id);
                          else next.delete(t.id);
                          setSelected(next);
                        }}
                      />
                    </td>
                    <td className="num">
                      {can('annotation.create') ? (
                        <Link to={`/projects/${id}/label?task=${t.id}`} onClick={(e) => e.stopPropagation()} aria-label={`Open task ${t.id}`}>
                          {t.id}
                        </Link>
                      ) : (
                        t.id
                      )}
                    </td>
                    {fields.map((c) => (
                      <td key={c}>{c in t.data ? <DataCell value={t.data[c]} /> : <span className="muted">—</span>}</td>
                    ))}
                    <td className="num">
                      {t.total_annotations}
                      {t.cancelled_annotations > 0 && <span className="muted"> · {t.cancelled_annotations} skipped</span>}
                    </td>
                    <td>
                      <span className="cell-text" style={{ maxWidth: 200 }}>
                        {(t.annotators ?? []).map((u) => (people.get(u) ? nameOf(people.get(u)!.user) : u === user?.id ? 'You' : `User ${u}`)).join(', ') || <span className="muted">—</span>}
                      </span>
                    </td>
                    <td className="num">{typeof t.predictions_score === 'number' ? t.predictions_score.toFixed(2) : <span className="muted">—</span>}</td>
                    <td>{t.is_labeled ? <span className="badge badge-success">Done</span> : <span className="badge">To do</span>}</td>
                    <td className="muted" title={t.created_at}>
                      {ago(t.created_at)}
                    </td>
                    <td className="muted" title={t.updated_at}>
                      {ago(t.updated_at)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <span>
              {(page - 1) * PAGE_SIZE + 1}–{Math.min(page * PAGE_SIZE, total)} of {total} tasks
            </span>
            <div className="row">
              <button className="btn btn-sm" disabled={page <= 1 || tasks.loading} onClick={() => setPage(page - 1)}>
                ← Previous
              </button>
              <span>
                Page {page} of {pages}
              </span>
              <button className="btn btn-sm" disabled={page >= pages || tasks.loading} onClick={() => setPage(page + 1)}>
                Next →
              </button>
            </div>
          </div>
        </>
      )}
    </div>
  );
}
