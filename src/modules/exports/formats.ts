/**
 * Label Studio's JSON, JSON_MIN, CSV and TSV exports as pure streaming generators: each takes an
 * async iterable of tasks and yields text in strings of about EXPORT_CHUNK_CHARS (one write per
 * 64 Ki characters, not per task), so memory stays flat however large the project. The
 * conversions follow Label Studio's documented and observed behaviour:
 *
 * - JSON: a compact array of tasks, keys in Label Studio's export order (export-types.ts).
 * - JSON_MIN: one object per annotation, newest annotation first, skipped (cancelled) annotations
 *   left out; a task with no annotations at all gives one row without results, a task whose
 *   annotations were all skipped gives none. Row keys: the task data fields, `id` (task id), one
 *   key per control `from_name` that has results (in order of first appearance), then
 *   `annotator`, `annotation_id`, `created_at`, `updated_at`, `lead_time`. A control's value is
 *   the list of its regions' `value` objects (plus `original_width`/`original_height` when the
 *   result has them); for Choices and TextArea a lone region is unwrapped and a lone choice or
 *   text becomes a plain string. Results without a `from_name` (relations) and results of
 *   controls not in the config are dropped. `annotator` is the user's email when the export
 *   expands users, else the user id (a number here, text in CSV). Written like Python's
 *   `json.dump(indent=2)`.
 * - CSV/TSV: the same rows as a table. Columns are sorted by name (as Label Studio sorts them);
 *   every string is quoted, numbers and booleans are not, missing values are `""`, objects and
 *   lists are JSON, lines end with CRLF.
 *
 * Known differences: numbers use JavaScript's formatting (`100`, Python writes `100.0`); Label
 * Studio's JSON writer escapes `/` as `\/`, ours does not (the same JSON once parsed); Repeater
 * (`{{idx}}`) control names, Chat transcripts and Enterprise-only columns (`agreement`,
 * `history`) are not produced.
 */
import {
  EXPORT_ANNOTATION_KEYS,
  EXPORT_PREDICTION_KEYS,
  EXPORT_TASK_KEYS,
  type ExportAnnotation,
  type ExportControlInfo,
  type ExportResult,
  type ExportTask,
  type ExportUser,
} from './export-types.js';

/** The formats this module writes, by Label Studio's `export_type` name. */
export type ExportFormatName = 'JSON' | 'JSON_MIN' | 'CSV' | 'TSV';

/** One entry of `GET /api/projects/{id}/export/formats`, in Label Studio's shape. */
export interface ExportFormatInfo {
  name: ExportFormatName;
  title: string;
  description: string;
  link?: string;
  tags?: readonly string[];
  /** Set by Label Studio on formats the project's config cannot produce; never for these four. */
  disabled?: boolean;
}

const GUIDE = 'https://labelstud.io/guide/export.html';

const formats: ExportFormatInfo[] = [
  {
    name: 'JSON',
    title: 'JSON',
    description:
      "Every task with its data, annotations and predictions, in Label Studio's raw JSON. " +
      'Use it to back up a project or to move it to another tool.',
    link: `${GUIDE}#JSON`,
  },
  {
    name: 'JSON_MIN',
    title: 'JSON-MIN',
    description:
      "One flat JSON object per annotation: the task's data fields and each control's simplified " +
      'result, without the bookkeeping fields.',
    link: `${GUIDE}#JSON-MIN`,
  },
  {
    name: 'CSV',
    title: 'CSV',
    description:
      'The JSON-MIN rows as comma-separated values: a column per data field and per control, ' +
      'lists and objects written as JSON.',
    link: `${GUIDE}#CSV`,
  },
  {
    name: 'TSV',
    title: 'TSV',
    description:
      'The JSON-MIN rows as tab-separated values: a column per data field and per control, ' +
      'lists and objects written as JSON.',
    link: `${GUIDE}#TSV`,
  },
];

/** The four always-available formats, in Label Studio's order, with Label Studio's titles and doc anchors. */
export const EXPORT_FORMATS: readonly Readonly<ExportFormatInfo>[] = Object.freeze(formats.map((f) => Object.freeze(f)));

/** A JSON_MIN row. Built without a prototype, so a data key or control named `__proto__` is a plain key. */
export type MinRow = Record<string, unknown>;

/** The columns Label Studio always adds after the data fields and results. */
export const MIN_ROW_FIXED_KEYS = ['annotator', 'annotation_id', 'created_at', 'updated_at', 'lead_time'] as const;

/** Copies `source` with `keys` first, in that order, then any other keys it has; null-prototype. */
function ordered(source: object, keys: readonly string[]): Record<string, unknown> {
  const from = source as Record<string, unknown>;
  const out: Record<string, unknown> = Object.create(null);
  for (const key of keys) if (Object.hasOwn(from, key)) out[key] = from[key];
  for (const key of Object.keys(from)) if (!Object.hasOwn(out, key)) out[key] = from[key];
  return out;
}

function orderAnnotation(annotation: ExportAnnotation): Record<string, unknown> {
  const out = ordered(annotation, EXPORT_ANNOTATION_KEYS);
  const prediction = annotation.prediction as object | null | undefined;
  if (prediction && Object.keys(prediction).length > 0) out.prediction = ordered(prediction, EXPORT_PREDICTION_KEYS);
  return out;
}

/** The task with its own, its annotations' and its predictions' keys in Label Studio's order. */
export function orderTask(task: ExportTask): Record<string, unknown> {
  const out = ordered(task, EXPORT_TASK_KEYS);
  out.annotations = task.annotations.map(orderAnnotation);
  out.predictions = task.predictions.map((p) => ordered(p, EXPORT_PREDICTION_KEYS));
  return out;
}

/**
 * The size, in UTF-16 code units, from which the exports yield their text: a streamed response
 * costs a write per yielded string, so one string per task made writing dominate an export.
 */
export const EXPORT_CHUNK_CHARS = 64 * 1024;

/** Collects an export's small strings into one buffer, handed out once it reaches EXPORT_CHUNK_CHARS. */
class TextChunks {
  private parts: string[] = [];
  private length = 0;

  /** Adds text; returns the buffer's text when it is full (and starts a new one), else undefined. */
  add(text: string): string | undefined {
    this.parts.push(text);
    this.length += text.length;
    return this.length >= EXPORT_CHUNK_CHARS ? this.flush() : undefined;
  }

  /** The buffer's text, emptying it. */
  flush(): string {
    const text = this.parts.join('');
    this.parts = [];
    this.length = 0;
    return text;
  }
}

/**
 * Label Studio's JSON export: `[`, the tasks as compact JSON separated by `,`, then `]`. Holds at
 * most one chunk of text (see EXPORT_CHUNK_CHARS) besides the task being written.
 */
export async function* exportJson(tasks: AsyncIterable<ExportTask>): AsyncGenerator<string> {
  const out = new TextChunks();
  out.add('[');
  let separator = '';
  for await (const task of tasks) {
    const full = out.add(separator + JSON.stringify(orderTask(task)));
    if (full !== undefined) yield full;
    separator = ',';
  }
  out.add(']');
  yield out.flush();
}

/** Control name → lower-cased tag type, or null when there is no config (every named result is kept). */
type ControlTypes = ReadonlyMap<string, string> | null;

function controlTypesOf(info: ExportControlInfo | undefined): ControlTypes {
  if (!info || info.controls.length === 0) return null;
  return new Map(info.controls.map((c) => [c.name, c.type.toLowerCase()]));
}

interface ControlOutput {
  type: string | undefined;
  regions: Record<string, unknown>[];
}

/** The annotation's results grouped by control, in order of first appearance. */
function outputsOf(result: readonly ExportResult[], types: ControlTypes): Map<string, ControlOutput> {
  const outputs = new Map<string, ControlOutput>();
  for (const r of result) {
    const name = r.from_name;
    if (!name || (types && !types.has(name))) continue;
    const region: Record<string, unknown> = Object.assign(Object.create(null), r.value);
    if (Object.hasOwn(r, 'original_width')) region.original_width = r.original_width;
    if (Object.hasOwn(r, 'original_height')) region.original_height = r.original_height;
    const output = outputs.get(name) ?? { type: types?.get(name), regions: [] };
    output.regions.push(region);
    outputs.set(name, output);
  }
  return outputs;
}

/** Control types whose lone choice/text Label Studio writes as a plain string: type → value field. */
const UNWRAPPED: ReadonlyMap<string, string> = new Map([
  ['choices', 'choices'],
  ['textarea', 'text'],
]);

/**
 * A control's JSON_MIN value: the list of its regions, except that for Choices and TextArea a
 * region with a single choice/text becomes that string and a lone region is unwrapped.
 */
export function simplifyRegions(regions: readonly Record<string, unknown>[], controlType: string | undefined): unknown {
  const field = controlType === undefined ? undefined : UNWRAPPED.get(controlType.toLowerCase());
  if (!field) return regions;
  const out = regions.map((region) => {
    const items = region[field];
    return Array.isArray(items) && items.length === 1 ? (items[0] as unknown) : region;
  });
  return out.length === 1 ? out[0] : out;
}

/** `completed_by` as Label Studio writes `annotator`: the email of an expanded user, else the id. */
function annotatorOf(completedBy: number | ExportUser | undefined, numericId: boolean): unknown {
  if (completedBy === undefined || completedBy === null) return null;
  if (typeof completedBy === 'object') return completedBy.email ?? null;
  return numericId ? completedBy : String(completedBy);
}

function minRow(task: ExportTask, annotation: ExportAnnotation | null, types: ControlTypes, numericId: boolean): MinRow {
  const row: MinRow = Object.assign(Object.create(null), task.data);
  row.id = task.id;
  for (const [name, output] of outputsOf(annotation?.result ?? [], types)) {
    row[name] = simplifyRegions(output.regions, output.type);
  }
  row.annotator = annotatorOf(annotation?.completed_by, numericId);
  row.annotation_id = annotation?.id ?? null;
  row.created_at = annotation?.created_at ?? null;
  row.updated_at = annotation?.updated_at ?? null;
  row.lead_time = annotation?.lead_time ?? null;
  return row;
}

const newestFirst = (a: ExportAnnotation, b: ExportAnnotation): number =>
  a.created_at === b.created_at ? 0 : a.created_at > b.created_at ? -1 : 1;

function minRows(task: ExportTask, types: ControlTypes, numericId: boolean): MinRow[] {
  if (task.annotations.length === 0) return [minRow(task, null, types, numericId)];
  return task.annotations
    .filter((a) => !a.was_cancelled)
    .sort(newestFirst)
    .map((a) => minRow(task, a, types, numericId));
}

/**
 * The JSON_MIN rows of one task (see the module header for the rules). Without `info` every
 * result with a `from_name` is kept and none is simplified, as Label Studio does for config-less
 * projects.
 */
export function toMinTask(task: ExportTask, info?: ExportControlInfo): MinRow[] {
  return minRows(task, controlTypesOf(info), true);
}

/** Label Studio's JSON_MIN export, written like Python's `json.dump(indent=2)`; in chunks, as exportJson. */
export async function* exportJsonMin(tasks: AsyncIterable<ExportTask>, info?: ExportControlInfo): AsyncGenerator<string> {
  const types = controlTypesOf(info);
  const out = new TextChunks();
  out.add('[\n');
  let first = true;
  for await (const task of tasks) {
    const rows = minRows(task, types, true);
    if (rows.length === 0) continue;
    const full = out.add((first ? '' : ',\n') + rows.map((row) => JSON.stringify(row, null, 2)).join(',\n'));
    if (full !== undefined) yield full;
    first = false;
  }
  out.add('\n]');
  yield out.flush();
}

/**
 * The CSV/TSV columns for a project: its data keys, `id`, its control names and the fixed
 * columns, sorted by name as Label Studio sorts them. Label Studio lists only controls that have
 * results; pass a narrowed `controls` list to match it exactly. Columns are fixed up front so
 * rows can be written as they come.
 */
export function csvColumns(info: ExportControlInfo): string[] {
  const names = new Set([...info.dataKeys, 'id', ...info.controls.map((c) => c.name), ...MIN_ROW_FIXED_KEYS]);
  return [...names].sort();
}

/** One cell, quoted the way Python's `csv.QUOTE_NONNUMERIC` does; lists and objects as JSON. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '""';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `"${text.replaceAll('"', '""')}"`;
}

/** Options of {@link exportCsv}. */
export interface CsvExportOptions {
  delimiter: ',' | '\t';
  info: ExportControlInfo;
  /** The header; defaults to {@link csvColumns}. Row keys not listed are left out. */
  columns?: readonly string[];
}

/**
 * Label Studio's CSV (`,`) or TSV (`\t`) export: a header line, then one line per JSON_MIN row;
 * in chunks, as exportJson.
 */
export async function* exportCsv(tasks: AsyncIterable<ExportTask>, options: CsvExportOptions): AsyncGenerator<string> {
  const { delimiter } = options;
  if (delimiter !== ',' && delimiter !== '\t') throw new RangeError('CSV delimiter must be "," or a tab');
  const columns = options.columns ?? csvColumns(options.info);
  const types = controlTypesOf(options.info);
  const line = (cells: readonly unknown[]) => cells.map(csvCell).join(delimiter) + '\r\n';
  const out = new TextChunks();
  out.add(line(columns));
  for await (const task of tasks) {
    const rows = minRows(task, types, false);
    if (rows.length === 0) continue;
    const full = out.add(rows.map((row) => line(columns.map((c) => row[c]))).join(''));
    if (full !== undefined) yield full;
  }
  const rest = out.flush();
  if (rest !== '') yield rest;
}
