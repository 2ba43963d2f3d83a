/**
 * The data manager's columns: what `filter:tasks:<column>` and `tasks:<column>` may name, and the
 * SQL each stands for on SQLite and PostgreSQL. A column is looked up in a fixed catalog (or is
 * `data.<field>` with a strictly checked field name, bound as a parameter); nothing the caller
 * sends is ever spliced into SQL text. There is no relation traversal (`__`): Label Studio
 * leaked password hashes through it (CVE-2023-47117), so a name containing it is refused.
 */
import { sql, type RawBuilder } from 'kysely';
import { invalid } from '../../http/errors.js';

/** The two databases of record. */
export type SqlDialect = 'sqlite' | 'postgres';
/** How values of a column compare: numbers, timestamps, text, or JSON booleans. */
export type ValueKind = 'number' | 'datetime' | 'text' | 'boolean';

/** Every operator a filter may use (Label Studio's, plus starts_with and ends_with from its OpenAPI). */
export const OPERATORS = [
  'equal', 'not_equal', 'less', 'greater', 'less_or_equal', 'greater_or_equal', 'in', 'not_in',
  'in_list', 'not_in_list', 'empty', 'contains', 'not_contains', 'starts_with', 'ends_with', 'regex',
] as const;
export type Operator = (typeof OPERATORS)[number];

const COMPARABLE: readonly Operator[] = ['equal', 'not_equal', 'less', 'greater', 'less_or_equal', 'greater_or_equal', 'in', 'not_in', 'in_list', 'not_in_list', 'empty'];
const TEXTUAL: readonly Operator[] = ['equal', 'not_equal', 'contains', 'not_contains', 'starts_with', 'ends_with', 'regex', 'in_list', 'not_in_list', 'empty'];
const BOOLEAN: readonly Operator[] = ['equal', 'not_equal', 'empty'];
const SEARCH: readonly Operator[] = ['contains', 'not_contains', 'regex', 'empty'];
const MEMBERS: readonly Operator[] = ['equal', 'not_equal', 'contains', 'not_contains', 'in_list', 'not_in_list', 'empty'];

/** A column with one value per task, compared directly (and orderable). */
export interface ScalarColumn {
  shape: 'scalar';
  kind: ValueKind;
  operators: readonly Operator[];
  expr: RawBuilder<unknown>;
  /** The sort key (defaults to `expr`). */
  orderExpr?: RawBuilder<unknown>;
}

/** A column over a task's annotations or predictions, matched with EXISTS over rows aliased `r`. */
export interface RelatedColumn {
  shape: 'related';
  kind: 'number' | 'text';
  operators: readonly Operator[];
  table: 'annotations' | 'predictions';
  expr: RawBuilder<unknown>;
}

/** A column of the catalog or a data field. */
export type Column = ScalarColumn | RelatedColumn;

const taskColumn = (name: string, kind: ValueKind): ScalarColumn => ({ shape: 'scalar', kind, operators: COMPARABLE, expr: sql.ref(`tasks.${name}`) });

/** The fixed catalog. Keys are the only column names accepted besides `data.<field>`. */
const CATALOG: ReadonlyMap<string, Column> = new Map<string, Column>([
  ['id', taskColumn('id', 'number')],
  ['inner_id', taskColumn('inner_id', 'number')],
  ['created_at', taskColumn('created_at', 'datetime')],
  ['updated_at', taskColumn('updated_at', 'datetime')],
  ['total_annotations', taskColumn('total_annotations', 'number')],
  ['cancelled_annotations', taskColumn('cancelled_annotations', 'number')],
  ['total_predictions', taskColumn('total_predictions', 'number')],
  ['completed_at', { shape: 'scalar', kind: 'datetime', operators: COMPARABLE, expr: sql`(select max(ca.created_at) from annotations ca where ca.task_id = tasks.id)` }],
  ['predictions_score', { shape: 'scalar', kind: 'number', operators: COMPARABLE, expr: sql`(select avg(ps.score) from predictions ps where ps.task_id = tasks.id)` }],
  ['annotators', { shape: 'related', kind: 'number', operators: MEMBERS, table: 'annotations', expr: sql`r.completed_by_id` }],
  ['annotations_results', { shape: 'related', kind: 'text', operators: SEARCH, table: 'annotations', expr: sql`cast(r.result as text)` }],
  ['predictions_results', { shape: 'related', kind: 'text', operators: SEARCH, table: 'predictions', expr: sql`cast(r.result as text)` }],
  ['predictions_model_versions', { shape: 'related', kind: 'text', operators: TEXTUAL, table: 'predictions', expr: sql`r.model_version` }],
]);

/** The column names of the catalog (for error messages and docs). */
export const COLUMN_NAMES: readonly string[] = [...CATALOG.keys(), 'data.<field>'];

/**
 * A task data field name: letters, digits, `_`, `-` and inner spaces, at most 64 characters. It
 * is bound as a parameter anyway; the pattern also keeps quotes and backslashes out of the
 * SQLite JSON path.
 */
export const DATA_FIELD = /^[A-Za-z0-9_][A-Za-z0-9_ -]{0,63}$/;

function kindOfType(type: string): ValueKind {
  switch (type) {
    case 'Number':
      return 'number';
    case 'Boolean':
      return 'boolean';
    case 'Datetime':
      return 'datetime';
    default:
      return 'text';
  }
}

const OPERATORS_OF: Record<ValueKind, readonly Operator[]> = { number: COMPARABLE, datetime: COMPARABLE, text: TEXTUAL, boolean: BOOLEAN };

/** `data.<field>` as SQL: the JSON value read with the field bound as a parameter, typed by kind. */
function dataColumn(field: string, kind: ValueKind, d: SqlDialect): ScalarColumn {
  if (d === 'sqlite') {
    const path = `$."${field}"`;
    const expr =
      kind === 'number'
        ? sql`(case when json_type(tasks.data, ${path}) in ('integer', 'real') then json_extract(tasks.data, ${path}) end)`
        : kind === 'boolean'
          ? sql`(case when json_type(tasks.data, ${path}) in ('true', 'false') then json_type(tasks.data, ${path}) end)`
          : sql`cast(json_extract(tasks.data, ${path}) as text)`;
    return { shape: 'scalar', kind, operators: OPERATORS_OF[kind], expr, orderExpr: sql`json_extract(tasks.data, ${path})` };
  }
  const key = sql`cast(${field} as text)`;
  const expr =
    kind === 'number'
      ? sql`(case when jsonb_typeof(tasks.data -> ${key}) = 'number' then (tasks.data ->> ${key})::numeric end)`
      : kind === 'boolean'
        ? sql`(case when jsonb_typeof(tasks.data -> ${key}) = 'boolean' then tasks.data ->> ${key} end)`
        : sql`(tasks.data ->> ${key})`;
  return { shape: 'scalar', kind, operators: OPERATORS_OF[kind], expr, orderExpr: sql`(tasks.data -> ${key})` };
}

/**
 * The column a name stands for (`id`, `annotators`, `data.text`, …), or a 400 on `field` naming
 * it. `type` is the filter's declared type; it only matters for `data.<field>`.
 */
export function resolveColumn(name: string, type: string, d: SqlDialect, field: string): Column {
  if (name.includes('__')) throw invalid({ [field]: [`"${name}": relation traversal ("__") is not allowed.`] });
  if (name.startsWith('data.')) {
    const key = name.slice('data.'.length);
    if (!DATA_FIELD.test(key)) throw invalid({ [field]: [`"${name}": a data field name has letters, digits, "_", "-" and spaces only (at most 64).`] });
    return dataColumn(key, kindOfType(type), d);
  }
  const column = CATALOG.get(name);
  if (!column) throw invalid({ [field]: [`Unknown column "${name}". Known: ${COLUMN_NAMES.join(', ')}.`] });
  return column;
}
