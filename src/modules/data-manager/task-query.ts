/**
 * Which tasks a data-manager request means: a view's filters and ordering, a `query` (JSON:
 * filters, ordering, selectedItems), and a selection of ids — turned into SQL conditions and
 * ORDER BY terms over `tasks`. Used by `GET /api/tasks` and by the bulk actions.
 */
import { PostgresAdapter, sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import secureJson from 'secure-json-parse';
import type { Db } from '../../db/database.js';
import { fromJson, type Database } from '../../db/schema.js';
import { invalid, notFound } from '../../http/errors.js';
import type { SqlDialect } from './filter-columns.js';
import { compileFilters, compileOrdering, parseFilters, parseOrdering, regexValues, type Filters } from './filters.js';

/** Label Studio's `selectedItems`: everything but some ids, or only some ids. */
export interface Selection {
  all: boolean;
  ids: number[];
}

/** Filters, ordering and selection of one request, validated. */
export interface TaskQuery {
  filters: Filters | null;
  ordering: string[];
  selection: Selection | null;
}

/** Most ids one `selectedItems` list may carry (use `all: true` with filters beyond). */
export const MAX_SELECTED_IDS = 1_000_000;

/** The dialect of a Kysely instance or transaction. */
export function dialectOf(db: Kysely<Database>): SqlDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `{all: false, included: [ids]}` or `{all: true, excluded: [ids]}`. */
export function parseSelection(raw: unknown, field = 'selectedItems'): Selection | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw) || typeof raw.all !== 'boolean') throw invalid({ [field]: ['An object {all: false, included: [ids]} or {all: true, excluded: [ids]}.'] });
  const key = raw.all ? 'excluded' : 'included';
  const ids = raw[key] ?? [];
  if (!Array.isArray(ids) || ids.length > MAX_SELECTED_IDS || ids.some((id) => !Number.isSafeInteger(id) || (id as number) < 1)) {
    throw invalid({ [`${field}.${key}`]: [`A list of at most ${MAX_SELECTED_IDS} task ids.`] });
  }
  return { all: raw.all, ids: ids as number[] };
}

/** `tasks.id` is one of `ids`, as ONE bound parameter (a JSON text on SQLite, an array on PostgreSQL), whatever the count. */
export function idIn(ids: readonly number[], d: SqlDialect, column: RawBuilder<unknown> = sql`tasks.id`): RawBuilder<SqlBool> {
  if (ids.length === 0) return sql<SqlBool>`(1 = 0)`;
  return d === 'postgres' ? sql<SqlBool>`${column} = any(cast(${[...ids]} as bigint[]))` : sql<SqlBool>`${column} in (select value from json_each(${JSON.stringify(ids)}))`;
}

/** The SQL conditions (ANDed by the caller) that a task query puts on `tasks`. */
export function taskConditions(q: TaskQuery, d: SqlDialect): RawBuilder<SqlBool>[] {
  const out: RawBuilder<SqlBool>[] = [];
  const filters = compileFilters(q.filters, d);
  if (filters) out.push(filters);
  if (q.selection) out.push(q.selection.all ? sql<SqlBool>`not (${idIn(q.selection.ids, d)})` : idIn(q.selection.ids, d));
  return out;
}

/** ORDER BY terms of a task query (callers append `id` as the tie-breaker). */
export const taskOrdering = (q: TaskQuery, d: SqlDialect) => compileOrdering(q.ordering, d);

/**
 * Compiles the query once so a bad column, operator or value is a 400 before anything runs, and
 * on PostgreSQL asks the server to compile each regular expression (a bad one is a 400, not a 500).
 */
export async function assertTaskQueryValid(db: Db, q: TaskQuery): Promise<void> {
  const d = dialectOf(db);
  taskConditions(q, d);
  taskOrdering(q, d);
  if (d !== 'postgres') return;
  for (const { index, pattern } of regexValues(q.filters)) {
    try {
      await sql`select '' ~ ${pattern} as ok`.execute(db);
    } catch {
      throw invalid({ [`filters.items[${index}].value`]: [`"${pattern.slice(0, 50)}" is not a valid regular expression.`] });
    }
  }
}

/** A view's saved filters and ordering (the view must belong to the project, else 404). */
async function viewQuery(db: Db, projectId: number, viewId: number): Promise<TaskQuery> {
  const view = await db.selectFrom('dm_views').select(['project_id', 'data']).where('id', '=', viewId).executeTakeFirst();
  if (!view || view.project_id !== projectId) throw notFound('View not found.');
  const data = fromJson<Record<string, unknown>>(view.data);
  return { filters: parseFilters(data.filters, 'view.filters'), ordering: parseOrdering(data.ordering, 'view.ordering'), selection: null };
}

/** Parses and checks the `query` parameter (JSON text) of `GET /api/tasks`; a 400 names `query.filters.items[i]…`. */
export function parseQueryParam(text: string, d: SqlDialect): Partial<TaskQuery> {
  let raw: unknown;
  try {
    raw = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw invalid({ query: ['Not valid JSON.'] });
  }
  if (!isObject(raw)) throw invalid({ query: ['A JSON object {filters, ordering, selectedItems}.'] });
  const q: Partial<TaskQuery> = {
    ...('filters' in raw && { filters: parseFilters(raw.filters, 'query.filters') }),
    ...('ordering' in raw && { ordering: parseOrdering(raw.ordering, 'query.ordering') }),
    ...('selectedItems' in raw && { selection: parseSelection(raw.selectedItems, 'query.selectedItems') }),
  };
  compileFilters(q.filters ?? null, d, 'query.filters');
  compileOrdering(q.ordering ?? [], d, 'query.ordering');
  return q;
}

/**
 * The task query of a request: the view's filters and ordering, overridden by whatever the
 * `query` parameter (or an action body) states. Validated (400) before it is returned.
 */
export async function resolveTaskQuery(db: Db, projectId: number, from: { view?: number | undefined; query?: Partial<TaskQuery> | undefined }): Promise<TaskQuery> {
  const base: TaskQuery = from.view !== undefined ? await viewQuery(db, projectId, from.view) : { filters: null, ordering: [], selection: null };
  const q = { ...base, ...from.query };
  await assertTaskQueryValid(db, q);
  return q;
}
