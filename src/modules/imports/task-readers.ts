/**
 * Reading import files into tasks, one task at a time with flat memory however large the input,
 * in the formats Label Studio imports: JSON, JSONL, CSV, TSV and TXT (media files are one task
 * each and are not read here; see detectFormat).
 *
 * Every problem is a 400 (`invalid`) with one message under one key: `opts.errorKey`, which the
 * caller sets to the uploaded file's name, or `tasks` (the default) for a JSON request body.
 * Messages name the place: `task 12: …` (JSON; tasks count from 1, while RawTask.index counts
 * from 0), `line 7: …` (JSONL, CSV, TSV, TXT; lines count from 1), or `invalid JSON at byte
 * 1234: …` (bytes count from 0, after any byte order mark). Errors can come after some tasks
 * were yielded, so a caller must treat an import as all-or-nothing (one transaction).
 * Keys `__proto__`, `constructor` and `prototype` are refused anywhere (see FORBIDDEN_KEYS).
 */
import { readDelimitedTasks } from './csv-task-reader.js';
import { readJsonTaskBatches } from './json-task-reader.js';
import { readJsonlTasks, readTxtTasks } from './line-task-reader.js';
import { type RawTask, type ReadContext, importError, isForbiddenKey } from './task-shape.js';

export type { RawTask } from './task-shape.js';
export { FORBIDDEN_KEYS } from './task-shape.js';

/** The formats readTasks parses into tasks. */
export type TaskFileFormat = 'json' | 'jsonl' | 'csv' | 'tsv' | 'txt';

/** What detectFormat answers: a task file format, or `media` (one task per file). */
export type ImportFileFormat = TaskFileFormat | 'media';

/** Options for readTasks. */
export interface ReadTasksOptions {
  /** More tasks than this is an error (the server passes IMPORT_MAX_TASKS). */
  maxTasks: number;
  /** A task whose source text is larger than this many bytes is an error. */
  maxTaskBytes: number;
  /** The data key for TXT lines; `text` when unset. */
  textKey?: string;
  /** The key errors are reported under: the uploaded file's name, or `tasks` when unset. */
  errorKey?: string;
  /** Deepest nesting of objects/arrays in one task (the server passes JSON_MAX_DEPTH; 64 when unset). */
  maxDepth?: number;
}

const TASK_EXTENSIONS: Readonly<Record<string, TaskFileFormat>> = {
  json: 'json',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  csv: 'csv',
  tsv: 'tsv',
  txt: 'txt',
};

/**
 * Media extensions imported as one task per file: those listed in Label Studio's "Get data into
 * Label Studio" guide (audio, HyperText, images, video; the union of its versions), plus `jpeg`
 * (the same format as `jpg`) and `pdf` (Label Studio's PDF templates).
 */
export const MEDIA_EXTENSIONS: ReadonlySet<string> = new Set([
  ...['aiff', 'au', 'flac', 'm4a', 'mp3', 'ogg', 'wav'],
  ...['html', 'htm', 'xml'],
  ...['bmp', 'gif', 'jpg', 'jpeg', 'png', 'svg', 'tiff', 'webp'],
  ...['mp4', 'webm', 'avi'],
  'pdf',
]);

const TASK_CONTENT_TYPES: Readonly<Record<string, TaskFileFormat>> = {
  'application/json': 'json',
  'application/jsonl': 'jsonl',
  'application/x-ndjson': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'text/csv': 'csv',
  'text/tab-separated-values': 'tsv',
  'text/plain': 'txt',
};

const MEDIA_CONTENT_TYPE = /^(image|audio|video)\/[\w.+-]+$|^(text\/html|text\/xml|application\/xml|application\/xhtml\+xml|application\/pdf)$/;

function extensionOf(filename: string): string | undefined {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot === -1 || dot === base.length - 1 ? undefined : base.slice(dot + 1).toLowerCase();
}

function formatOfContentType(contentType: string): ImportFileFormat | null {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return TASK_CONTENT_TYPES[type] ?? (MEDIA_CONTENT_TYPE.test(type) ? 'media' : null);
}

/**
 * The format of an uploaded file, from its extension (case-insensitive); the content type is
 * consulted only when the name has no extension, since clients often send
 * `application/octet-stream`. An unknown extension is `null` whatever the content type says.
 */
export function detectFormat(filename: string, contentType?: string): ImportFileFormat | null {
  const ext = extensionOf(filename);
  if (ext !== undefined) return TASK_EXTENSIONS[ext] ?? (MEDIA_EXTENSIONS.has(ext) ? 'media' : null);
  return contentType ? formatOfContentType(contentType) : null;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The source as non-empty Buffers, without a leading UTF-8 byte order mark. */
async function* bytesOf(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0); // the first bytes, until the BOM question is settled
  for await (const chunk of source) {
    let bytes = toBuffer(chunk);
    if (head !== undefined) {
      head = Buffer.concat([head, bytes]);
      if (head.length < BOM.length && BOM.subarray(0, head.length).equals(head)) continue;
      bytes = head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
      head = undefined;
    }
    if (bytes.length > 0) yield bytes;
  }
  if (head !== undefined && head.length > 0) yield head;
}

function contextOf(opts: ReadTasksOptions): ReadContext {
  for (const name of ['maxTasks', 'maxTaskBytes'] as const) {
    if (!Number.isSafeInteger(opts[name]) || opts[name] < 1) throw new TypeError(`readTasks: ${name} must be a positive integer`);
  }
  return { maxTasks: opts.maxTasks, maxTaskBytes: opts.maxTaskBytes, errorKey: opts.errorKey ?? 'tasks', ...(opts.maxDepth !== undefined && { maxDepth: opts.maxDepth }) };
}

/**
 * The tasks of a per-task reader (JSONL, CSV, TSV, TXT) as batches of one: collecting more would
 * read ahead of the consumer, and those readers' limits and laziness are per task.
 */
async function* single(tasks: AsyncIterable<RawTask>): AsyncGenerator<RawTask[]> {
  for await (const t of tasks) yield [t];
}

/**
 * Reads tasks from a byte stream (a Node stream or any async iterable of Buffers or strings) and
 * yields them in batches (in order, never an empty one), normalised to RawTask; nothing is read
 * before the first pull, and stopping early stops reading. Memory stays flat: a batch holds the
 * tasks completed by one chunk of input (JSON), or one task (the other formats). Throws a 400 for
 * bad input (see the module comment).
 */
export async function* readTaskBatches(
  source: AsyncIterable<Buffer | string> | NodeJS.ReadableStream,
  format: TaskFileFormat,
  opts: ReadTasksOptions,
): AsyncGenerator<RawTask[]> {
  const ctx = contextOf(opts);
  const bytes = bytesOf(source as AsyncIterable<Buffer | Uint8Array | string>);
  switch (format) {
    case 'json':
      return yield* readJsonTaskBatches(bytes, ctx);
    case 'jsonl':
      return yield* single(readJsonlTasks(bytes, ctx));
    case 'csv':
      return yield* single(readDelimitedTasks(bytes, ',', ctx));
    case 'tsv':
      return yield* single(readDelimitedTasks(bytes, '\t', ctx));
    case 'txt': {
      const textKey = opts.textKey ?? 'text';
      if (isForbiddenKey(textKey)) throw importError(ctx, `the data key "${textKey}" is not allowed`);
      return yield* single(readTxtTasks(bytes, ctx, textKey));
    }
    default: {
      const unknown: never = format;
      throw new TypeError(`readTasks: unknown format ${String(unknown)}`);
    }
  }
}

/**
 * Reads tasks from a byte stream like readTaskBatches, yielding them one at a time. Throws a 400
 * for bad input (see the module comment).
 */
export async function* readTasks(
  source: AsyncIterable<Buffer | string> | NodeJS.ReadableStream,
  format: TaskFileFormat,
  opts: ReadTasksOptions,
): AsyncGenerator<RawTask> {
  for await (const batch of readTaskBatches(source, format, opts)) yield* batch;
}
