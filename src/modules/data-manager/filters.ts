/**
 * Data-manager filters and ordering → SQL conditions, on SQLite and PostgreSQL. Every value is a
 * bound parameter; column SQL comes only from the catalog in filter-columns.ts. Anything unknown
 * (column, operator, value shape) is a 400 naming the item, e.g. `filters.items[2].operator`.
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { invalid } from '../../http/errors.js';
import { OPERATORS, resolveColumn, type Column, type Operator, type RelatedColumn, type SqlDialect, type ValueKind } from './filter-columns.js';

/** One filter: `filter:tasks:<column>`, an operator, the value's type and the value. */
export interface FilterItem {
  filter: string;
  operator: string;
  type: string;
  value: unknown;
}

/** Label Studio's filter group: one conjunction over a flat list of items. */
export interface Filters {
  conjunction: 'and' | 'or';
  items: FilterItem[];
}

/** Limits that keep one request's SQL small: items, list values, text and regex lengths, ordering terms. */
export const MAX_FILTER_ITEMS = 50;
export const MAX_LIST_VALUES = 1000;
export const MAX_TEXT_VALUE = 1000;
export const MAX_REGEX = 200;
export const MAX_ORDERING = 10;
const FILTER_PREFIX = 'filter:tasks:';
const ORDER_PREFIX = 'tasks:';
const ITEM_KEYS = new Set(['filter', 'operator', 'type', 'value', 'child_filters']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseItem(raw: unknown, field: string): FilterItem {
  if (!isObject(raw)) throw invalid({ [field]: ['A filter item is an object {filter, operator, type, value}.'] });
  const extra = Object.keys(raw).filter((k) => !ITEM_KEYS.has(k));
  if (extra.length) throw invalid({ [field]: [`Unknown keys: ${extra.join(', ')}.`] });
  const { filter, operator, type = 'String', value = null, child_filters: children = [] } = raw;
  if (typeof filter !== 'string' || filter.length > 300) throw invalid({ [`${field}.filter`]: ['A string like "filter:tasks:id".'] });
  if (typeof operator !== 'string' || operator.length > 50) throw invalid({ [`${field}.operator`]: ['A string, one of the operators.'] });
  if (typeof type !== 'string' || type.length > 50) throw invalid({ [`${field}.type`]: ['A string such as "Number" or "String".'] });
  if (!Array.isArray(children) || children.length > 0) throw invalid({ [`${field}.child_filters`]: ['Child filters are not supported; send [] or leave it out.'] });
  return { filter, operator, type, value };
}

/** Checks the shape of `{conjunction, items}` and returns it canonical (no unknown keys). */
export function parseFilters(raw: unknown, field = 'filters'): Filters | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) throw invalid({ [field]: ['Filters are an object {conjunction, items}.'] });
  const conjunction = raw.conjunction ?? 'and';
  if (conjunction !== 'and' && conjunction !== 'or') throw invalid({ [`${field}.conjunction`]: ['"and" or "or".'] });
  const items = raw.items ?? [];
  if (!Array.isArray(items) || items.length > MAX_FILTER_ITEMS) throw invalid({ [`${field}.items`]: [`A list of at most ${MAX_FILTER_ITEMS} filter items.`] });
  return { conjunction, items: items.map((it, i) => parseItem(it, `${field}.items[${i}]`)) };
}

/** Checks an ordering list (`["tasks:id"]`, `["-tasks:total_annotations"]`). */
export function parseOrdering(raw: unknown, field = 'ordering'): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length > MAX_ORDERING || raw.some((o) => typeof o !== 'string' || o.length > 300)) {
    throw invalid({ [field]: [`A list of at most ${MAX_ORDERING} strings like "tasks:id" or "-tasks:created_at".`] });
  }
  return raw as string[];
}

// ---- values ---------------------------------------------------------------------------------

function numberOf(v: unknown, field: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw invalid({ [field]: ['A number.'] });
  return n;
}

function isoOf(v: unknown, field: string): string {
  const t = typeof v === 'string' && v.length <= 64 ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw invalid({ [field]: ['A date and time such as "2024-01-31T00:00:00.000Z".'] });
  return new Date(t).toISOString();
}

function textOf(v: unknown, field: string, max = MAX_TEXT_VALUE): string {
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw invalid({ [field]: ['A string.'] });
  const s = String(v);
  if (s.length > max) throw invalid({ [field]: [`At most ${max} characters.`] });
  return s;
}

function booleanOf(v: unknown, field: string): boolean {
  if (v === true || v === 'true' || v === 1) return true;
  if (v === false || v === 'false' || v === 0) return false;
  throw invalid({ [field]: ['true or false.'] });
}

/** A bound parameter for a value of a kind; on PostgreSQL a fraction is cast so it never meets an integer type. */
function param(kind: ValueKind, v: unknown, d: SqlDialect, field: string): RawBuilder<unknown> {
  switch (kind) {
    case 'number': {
      const n = numberOf(v, field);
      return d === 'postgres' && !Number.isInteger(n) ? sql`cast(${n} as numeric)` : sql`${n}`;
    }
    case 'datetime':
      return sql`${isoOf(v, field)}`;
    case 'boolean':
      return sql`${booleanOf(v, field) ? 'true' : 'false'}`;
    default:
      return sql`${textOf(v, field)}`;
  }
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function like(x: RawBuilder<unknown>, pattern: string, d: SqlDialect): RawBuilder<SqlBool> {
  // Case-insensitive on both: SQLite's LIKE already is (ASCII); PostgreSQL needs ILIKE.
  return d === 'postgres' ? sql<SqlBool>`${x} ilike ${pattern} escape '\\'` : sql<SqlBool>`${x} like ${pattern} escape '\\'`;
}

// ---- conditions -----------------------------------------------------------------------------

const NEGATION: Partial<Record<Operator, Operator>> = { not_equal: 'equal', not_in: 'in', not_in_list: 'in_list', not_contains: 'contains' };
const COMPARISON: Partial<Record<Operator, string>> = { equal: '=', less: '<', greater: '>', less_or_equal: '<=', greater_or_equal: '>=' };

/** The condition an operator states about `x` (never a negative operator: those wrap this). */
function positive(x: RawBuilder<unknown>, kind: ValueKind, op: Operator, value: unknown, d: SqlDialect, field: string): RawBuilder<SqlBool> {
  const cmp = COMPARISON[op];
  if (cmp) return sql<SqlBool>`${x} ${sql.raw(cmp)} ${param(kind, value, d, field)}`;
  switch (op) {
    case 'in': {
      if (!isObject(value) || !('min' in value) || !('max' in value)) throw invalid({ [field]: ['An object {min, max}.'] });
      return sql<SqlBool>`(${x} >= ${param(kind, value.min, d, `${field}.min`)} and ${x} <= ${param(kind, value.max, d, `${field}.max`)})`;
    }
    case 'in_list': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length > MAX_LIST_VALUES) throw invalid({ [field]: [`At most ${MAX_LIST_VALUES} values.`] });
      if (list.length === 0) return sql<SqlBool>`(1 = 0)`;
      return sql<SqlBool>`${x} in (${sql.join(list.map((v, i) => param(kind, v, d, `${field}[${i}]`)))})`;
    }
    case 'contains':
      return like(x, `%${likeEscape(textOf(value, field))}%`, d);
    case 'starts_with':
      return like(x, `${likeEscape(textOf(value, field))}%`, d);
    case 'ends_with':
      return like(x, `%${likeEscape(textOf(value, field))}`, d);
    case 'regex':
      if (d === 'sqlite') throw invalid({ [field]: ['The "regex" operator is not available on SQLite; use "contains", "starts_with" or "ends_with".'] });
      return sql<SqlBool>`${x} ~ ${textOf(value, field, MAX_REGEX)}`;
    default:
      throw invalid({ [field]: [`Operator "${op}" cannot be used here.`] });
  }
}

function emptiness(x: RawBuilder<unknown>, kind: ValueKind): RawBuilder<SqlBool> {
  return kind === 'text' ? sql<SqlBool>`(${x} is null or ${x} = '')` : sql<SqlBool>`(${x} is null)`;
}

/** `not (p)`, where an unknown (NULL) outcome counts as "does not match" and so is kept. */
const not = (p: RawBuilder<SqlBool>) => sql<SqlBool>`not coalesce(${p}, false)`;

function related(c: RelatedColumn, cond: RawBuilder<SqlBool> | null): RawBuilder<SqlBool> {
  const where = cond ?? sql<SqlBool>`1 = 1`;
  // The table name is one of two constants chosen by the catalog, never caller input.
  return c.table === 'annotations'
    ? sql<SqlBool>`exists (select 1 from annotations r where r.task_id = tasks.id and ${where})`
    : sql<SqlBool>`exists (select 1 from predictions r where r.task_id = tasks.id and ${where})`;
}

function itemCondition(column: Column, op: Operator, value: unknown, d: SqlDialect, field: string): RawBuilder<SqlBool> {
  if (!column.operators.includes(op)) throw invalid({ [`${field}.operator`]: [`Operator "${op}" does not apply to this column; use one of ${column.operators.join(', ')}.`] });
  const v = `${field}.value`;
  if (column.shape === 'related') {
    if (op === 'empty') return booleanOf(value, v) ? not(related(column, null)) : related(column, null);
    const base = NEGATION[op] ?? op;
    // "annotators contains 7" means one of the annotators is user 7.
    const effective = column.kind === 'number' && base === 'contains' ? 'equal' : base;
    const pos = related(column, positive(column.expr, column.kind, effective, value, d, v));
    return NEGATION[op] ? not(pos) : pos;
  }
  if (op === 'empty') return booleanOf(value, v) ? emptiness(column.expr, column.kind) : not(emptiness(column.expr, column.kind));
  const negated = NEGATION[op];
  return negated ? not(positive(column.expr, column.kind, negated, value, d, v)) : positive(column.expr, column.kind, op, value, d, v);
}

function operatorOf(name: string, field: string): Operator {
  if (!(OPERATORS as readonly string[]).includes(name)) throw invalid({ [field]: [`Unknown operator "${name}". Known: ${OPERATORS.join(', ')}.`] });
  return name as Operator;
}

/** The SQL condition of a filter group over `tasks`, or null when it has no items. */
export function compileFilters(filters: Filters | null, d: SqlDialect, field = 'filters'): RawBuilder<SqlBool> | null {
  if (!filters || filters.items.length === 0) return null;
  const conds = filters.items.map((item, i) => {
    const f = `${field}.items[${i}]`;
    if (!item.filter.startsWith(FILTER_PREFIX)) throw invalid({ [`${f}.filter`]: [`Unknown filter "${item.filter}": filters start with "${FILTER_PREFIX}".`] });
    const column = resolveColumn(item.filter.slice(FILTER_PREFIX.length), item.type, d, `${f}.filter`);
    return itemCondition(column, operatorOf(item.operator, `${f}.operator`), item.value, d, f);
  });
  return sql<SqlBool>`(${sql.join(conds, sql.raw(filters.conjunction === 'or' ? ' or ' : ' and '))})`;
}

/** ORDER BY terms for an ordering list; `id` ascending is always appended by callers as the tie-breaker. */
export function compileOrdering(ordering: string[], d: SqlDialect, field = 'ordering'): RawBuilder<unknown>[] {
  return ordering.map((term, i) => {
    const desc = term.startsWith('-');
    const name = desc ? term.slice(1) : term;
    if (!name.startsWith(ORDER_PREFIX)) throw invalid({ [`${field}[${i}]`]: [`Unknown ordering "${term}": use "tasks:<column>" or "-tasks:<column>".`] });
    const column = resolveColumn(name.slice(ORDER_PREFIX.length), 'Unknown', d, `${field}[${i}]`);
    if (column.shape !== 'scalar') throw invalid({ [`${field}[${i}]`]: [`Tasks cannot be ordered by "${name}".`] });
    const key = column.orderExpr ?? column.expr;
    // Explicit NULLS placement so both dialects sort the same way (missing values first ascending).
    return desc ? sql`${key} desc nulls last` : sql`${key} asc nulls first`;
  });
}

/** The regular expressions a filter group uses, with their item index (checked on PostgreSQL before querying). */
export function regexValues(filters: Filters | null): { index: number; pattern: string }[] {
  return (filters?.items ?? []).flatMap((i, index) => (i.operator === 'regex' && typeof i.value === 'string' ? [{ index, pattern: i.value }] : []));
}
