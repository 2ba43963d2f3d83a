/**
 * The data manager's task table: saved views as tabs (GET/POST/PATCH/DELETE /api/dm/views;
 * rename, duplicate, delete), filters (data field, annotator, labeled state, dates, prediction
 * score) and sorting sent as the `query` of GET /api/tasks (the server's filter language,
 * src/modules/data-manager/filters.ts), a windowed table that fetches pages as it scrolls
 * (smooth at 100,000 tasks), and row selection by filter with bulk actions. The pieces live in
 * ./data-manager/.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { DmView, FilterItem, Filters, Membership, Page, TaskList } from '../api/types';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { Empty, ErrorAlert, Loading, nameOf } from '../components/ui';
import { BulkBar, type DmAction } from './data-manager/bulk-bar';
import { fromItem, toItem, type UiFilter } from './data-manager/dm-filters';
import { FilterBar } from './data-manager/filter-bar';
import { NOTHING, selectedCount, type RowSelection } from './data-manager/selection';
import { TaskGrid } from './data-manager/task-grid';
import { useTaskPages } from './data-manager/use-task-pages';
import { ViewTabs, viewTitle } from './data-manager/view-tabs';

/** Data fields shown as columns (the first ones the tasks have). */
const MAX_FIELD_COLUMNS = 4;

/** The next "View N" title not taken yet. */
function freshTitle(views: DmView[], base = 'View'): string {
  const taken = new Set(views.map(viewTitle));
  for (let n = views.length + 1; ; n++) if (!taken.has(`${base} ${n}`)) return `${base} ${n}`;
}

/** Views of the project and the changes made to them from the tabs. */
function useViews(projectId: number, act: (what: () => Promise<string>) => void) {
  const views = useApi(`views-${projectId}`, () => api<DmView[]>('GET', `/api/dm/views?project=${projectId}`));
  const list = views.data ?? [];
  const change = (what: () => Promise<string>) =>
    act(async () => {
      const message = await what();
      views.reload();
      return message;
    });
  return {
    list,
    error: views.error,
    change,
    rename: (v: DmView, title: string) =>
      change(async () => {
        await api('PATCH', `/api/dm/views/${v.id}`, { project: projectId, data: { title } });
        return `View renamed to “${title}”.`;
      }),
  };
}

/** The task table of project `projectId` (it needs only the id, so it loads beside the project). */
export function TaskTable({ projectId: id, onImport, refreshKey }: { projectId: number; onImport: () => void; refreshKey: number }) {
  const { can, user } = useSession();
  const [view, setView] = useState<number | null>(null);
  const [filters, setFilters] = useState<UiFilter[]>([]);
  const [ordering, setOrdering] = useState<string[]>([]);
  const [selection, setSelection] = useState<RowSelection>(NOTHING);
  const [error, setError] = useState<Error>();
  const [notice, setNotice] = useState<string>();
  const [tick, setTick] = useState(0);

  const members = useApi(can('members.view') && user?.active_organization ? `members-${user.active_organization}` : null, () =>
    api<Page<Membership>>('GET', `/api/organizations/${user!.active_organization}/memberships?page_size=1000`),
  );
  const people = useMemo(() => new Map((members.data?.results ?? []).map((m) => [m.user.id, m])), [members.data]);
  const annotatorChoices = useMemo(() => members.data?.results.filter((m) => !['NO', 'DI'].includes(m.role)), [members.data]);
  const actions = useApi(`dm-actions-${id}`, () => api<DmAction[]>('GET', `/api/dm/actions?project=${id}`));

  const items = filters.map(toItem).filter((x): x is FilterItem => x !== null);
  const queryJson = JSON.stringify({ filters: { conjunction: 'and', items }, ordering });
  const query = useMemo(() => JSON.parse(queryJson) as { filters: Filters; ordering: string[] }, [queryJson]);
  const load = useCallback(
    (page: number, size: number) => api<TaskList>('GET', `/api/tasks?project=${id}&page=${page}&page_size=${size}&fields=all&query=${encodeURIComponent(queryJson)}`),
    [id, queryJson],
  );
  const pages = useTaskPages(`${id}-${queryJson}-${refreshKey}-${tick}`, load);
  useEffect(() => setSelection(NOTHING), [queryJson, refreshKey, tick]);

  // Columns: the data fields of the first page, kept once seen so they do not jump while scrolling.
  const [fields, setFields] = useState<string[]>([]);
  const firstPage = pages.firstPage;
  useEffect(() => {
    const seen = [...new Set((firstPage ?? []).flatMap((t) => Object.keys(t.data)))];
    if (seen.some((k) => !fields.includes(k))) setFields((f) => [...new Set([...f, ...seen])]);
  }, [firstPage, fields]);

  const act = (what: () => Promise<string>) => {
    setError(undefined);
    setNotice(undefined);
    what().then(
      (message) => {
        setNotice(message);
        setTick((t) => t + 1);
      },
      (e: unknown) => setError(e as Error),
    );
  };
  const views = useViews(id, act);
  const openView = (v: DmView | null) => {
    setView(v?.id ?? null);
    setFilters((v?.data.filters?.items ?? []).map(fromItem));
    setOrdering(v?.data.ordering ?? v?.ordering ?? []);
  };
  const saveView = (asNew: boolean) =>
    views.change(async () => {
      if (asNew || view === null) {
        const v = await api<DmView>('POST', '/api/dm/views', { project: id, data: { title: freshTitle(views.list), filters: query.filters, ordering } });
        setView(v.id);
      } else await api('PATCH', `/api/dm/views/${view}`, { project: id, data: { filters: query.filters, ordering } });
      return 'View saved.';
    });
  const viewEdits = {
    rename: views.rename,
    duplicate: (v: DmView) =>
      views.change(async () => {
        const title = `${viewTitle(v)} (copy)`.slice(0, 255);
        const copy = await api<DmView>('POST', '/api/dm/views', { project: id, data: { ...v.data, title } });
        openView(copy);
        return `View duplicated as “${title}”.`;
      }),
    remove: (v: DmView) =>
      views.change(async () => {
        await api('DELETE', `/api/dm/views/${v.id}`);
        if (view === v.id) openView(null);
        return `View “${viewTitle(v)}” deleted.`;
      }),
  };

  const sortBy = (col: string) => setOrdering(ordering[0] === `tasks:${col}` ? [`-tasks:${col}`] : ordering[0] === `-tasks:${col}` ? [] : [`tasks:${col}`]);
  const me = user?.id;
  const nameOfUser = useCallback(
    (u: number) => {
      const m = people.get(u);
      return m ? nameOf(m.user) : u === me ? 'You' : `User ${u}`;
    },
    [people, me],
  );
  const total = pages.total ?? 0;
  const count = selectedCount(selection, total);
  const unfiltered = items.length === 0 && view === null;
  const settled = pages.total !== undefined && !pages.pending;
  const shownFields = useMemo(() => fields.slice(0, MAX_FIELD_COLUMNS), [fields]);

  return (
    <div className="card">
      <ViewTabs views={views.list} active={view} onOpen={openView} {...(can('task.change') && { edit: viewEdits })} />
      <FilterBar filters={filters} onChange={setFilters} fields={fields} people={annotatorChoices}>
        {can('task.change') && (
          <>
            {view !== null && (
              <button className="btn btn-sm" onClick={() => saveView(false)}>
                Update view
              </button>
            )}
            <button className="btn btn-sm" onClick={() => saveView(true)}>
              Save as view
            </button>
          </>
        )}
      </FilterBar>
      {count > 0 && (
        <BulkBar
          projectId={id}
          selection={selection}
          onSelect={setSelection}
          total={total}
          count={count}
          query={query}
          actions={actions.data ?? []}
          members={annotatorChoices}
          act={act}
          onError={setError}
        />
      )}
      {(error || pages.error || views.error || notice) && (
        <div className="stack" style={{ padding: '12px 16px 0', gap: 8 }}>
          <ErrorAlert error={error ?? pages.error ?? views.error} />
          {notice && (
            <div className="alert alert-success" role="status">
              {notice}
            </div>
          )}
        </div>
      )}
      {pages.total === undefined && !pages.error && <Loading label="Loading tasks…" />}
      {settled && total === 0 && unfiltered && (
        <Empty icon="inbox" title="No tasks yet">
          <p>Import a JSON list, CSV or media files to start labeling.</p>
          {can('task.import') && (
            <button className="btn btn-primary" onClick={onImport}>
              Import data
            </button>
          )}
        </Empty>
      )}
      {settled && total === 0 && !unfiltered && (
        <Empty icon="compass" title="No tasks match">
          <p>Change or remove a filter to see more.</p>
        </Empty>
      )}
      {total > 0 && (
        <TaskGrid
          projectId={id}
          pages={pages}
          fields={shownFields}
          nameOf={nameOfUser}
          selection={selection}
          onSelect={setSelection}
          ordering={ordering}
          onSort={sortBy}
          queryKey={queryJson}
          canLabel={can('annotation.create')}
        />
      )}
    </div>
  );
}
