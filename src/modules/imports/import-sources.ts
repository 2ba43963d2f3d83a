/**
 * Where imported tasks come from: a JSON body, uploaded files (task files or media), or a URL
 * fetched through the outbound module. Everything is first spooled — a body or download to a
 * temporary file under the data folder, an uploaded file straight into the file store as an
 * upload — so memory stays flat and the database is not held while a client uploads; then it is
 * read back as a stream of tasks.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { AppError, invalid } from '../../http/errors.js';
import { outboundStream } from '../../outbound/outbound.js';
import type { LabelConfig } from '../label-config/label-config.parser.js';
import { detectFormat, readTaskBatches, type ImportFileFormat, type RawTask, type TaskFileFormat } from './task-readers.js';
import { isForbiddenKey } from './task-shape.js';
import type { FileUploadsTable } from '../../db/schema.js';
import { newSpoolFile } from './spool-files.js';
import { keepFileAsUpload, readUpload, removeUploads, saveUpload, uploadUrl } from './uploads.service.js';

/** An uploaded file in the file store: its stored name, the uploader's name, size and claimed type. */
type StoredUpload = { name: string; original: string; size: number; contentType: string };

/**
 * One spooled input: a task file to parse, or a media file that becomes one task. `file` is a
 * temporary file in the data folder's `tmp/` (a body or download) to read and remove; null: the
 * input is read from its upload in the file store.
 */
export type Spooled =
  | { kind: 'tasks'; format: TaskFileFormat; file: string | null; label: string; upload?: StoredUpload; source?: { original: string; contentType: string } }
  | { kind: 'media'; file: null; label: string; upload: StoredUpload };

function byteLimit(max: number, label: string) {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) cb(new AppError(413, 'IMPORT_TOO_LARGE', `${label} is larger than ${max} bytes.`));
      else cb(null, chunk);
    },
  });
}

/** Writes a stream to a new temporary file; on failure the file is removed and the error rethrown. */
async function spoolStream(deps: AppDeps, stream: NodeJS.ReadableStream, label: string): Promise<string> {
  const file = newSpoolFile(deps.config.dataDir);
  try {
    await pipeline(stream, byteLimit(deps.config.imports.maxFileBytes, label), fs.createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  return file;
}

function formatOrRefuse(name: string, contentType: string | undefined): ImportFileFormat {
  const f = detectFormat(name, contentType);
  if (!f) throw invalid({ file: [`${name}: unsupported file type (JSON, JSONL, CSV, TSV, TXT, images, audio, video, HTML, PDF).`] });
  return f;
}

/** Spools each part of a multipart upload into `out` as it arrives. */
async function spoolParts(deps: AppDeps, req: FastifyRequest, projectId: number, out: Spooled[]): Promise<void> {
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      const format = formatOrRefuse(part.filename, part.mimetype);
      const saved = await saveUpload(deps, projectId, part.filename, part.file, req.log);
      const upload = { name: saved.name, original: part.filename, size: saved.size, contentType: part.mimetype };
      out.push(format === 'media' ? { kind: 'media', file: null, label: part.filename, upload } : { kind: 'tasks', format, file: null, label: part.filename, upload });
    } else if (part.fieldname === 'url' && typeof part.value === 'string') out.push(await spoolUrl(deps, part.value));
  }
  if (out.length === 0) throw invalid({ file: ['No files or url in the upload.'] });
}

/** Spools a request that is not multipart: a streamed JSON body, or a parsed body with a `url`. */
async function spoolBody(deps: AppDeps, req: FastifyRequest): Promise<Spooled> {
  const body = req.body as unknown;
  if (body && typeof body === 'object' && 'pipe' in body) return { kind: 'tasks', format: 'json', file: await spoolStream(deps, body as NodeJS.ReadableStream, 'The request body'), label: 'tasks' };
  if (body && typeof body === 'object' && typeof (body as { url?: unknown }).url === 'string') return spoolUrl(deps, (body as { url: string }).url);
  throw invalid({ tasks: ['Send a JSON list of tasks, files (multipart), or a url field.'] });
}

/**
 * The same error, asking the client to close the connection: the rest of the request body was
 * left unread, so the socket cannot carry another request (the client would wait on it forever).
 */
function closingConnection(err: unknown): unknown {
  if (!(err instanceof AppError)) return err;
  return new AppError(err.status, err.code, err.message, err.validationErrors, { ...err.headers, connection: 'close' });
}

/**
 * Spools the request's import inputs (JSON body, multipart files, or a `url` field). All or
 * nothing: when any input fails, every file already written for this request is removed.
 */
export async function spoolImport(deps: AppDeps, req: FastifyRequest, projectId: number): Promise<Spooled[]> {
  const out: Spooled[] = [];
  try {
    if (req.isMultipart()) await spoolParts(deps, req, projectId, out);
    else out.push(await spoolBody(deps, req));
    return out;
  } catch (err) {
    await cleanSpool(deps, projectId, out, false, req.log);
    throw req.raw.complete ? err : closingConnection(err);
  }
}

/** Streams a URL's body straight to a spool file (never whole in memory). */
async function spoolUrl(deps: AppDeps, url: string): Promise<Spooled> {
  const res = await outboundStream(url, { config: deps.config, field: 'url', maxBytes: deps.config.imports.maxFileBytes });
  try {
    if (res.status !== 200) throw invalid({ url: [`The URL answered HTTP ${res.status}.`] });
    const name = new URL(res.url).pathname.split('/').pop() || 'download.json';
    const format = formatOrRefuse(name, String(res.headers['content-type'] ?? ''));
    if (format === 'media') throw invalid({ url: ['A URL to a media file is imported as task data instead: {"image": "<url>"}.'] });
    const contentType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim() || 'application/octet-stream';
    return { kind: 'tasks', format, file: await spoolStream(deps, res.body, url), label: url, source: { original: name, contentType } };
  } finally {
    res.body.destroy();
  }
}

const MEDIA_TAGS: Record<string, string[]> = {
  image: ['Image'],
  audio: ['Audio', 'AudioPlus'],
  video: ['Video'],
  text: ['HyperText', 'Text'],
  application: ['HyperText', 'Pdf'],
};

/** The data key a media file's URL goes under: the config's object tag for that kind of media. */
export function mediaDataKey(config: LabelConfig, contentType: string): string {
  const tags = MEDIA_TAGS[contentType.split('/')[0] ?? ''] ?? [];
  const object = config.objects.find((o) => tags.includes(o.type)) ?? config.objects[0];
  return object?.dataKey ?? 'image';
}

/** A task of an import, with the upload it came from (null for a request body or a URL). */
export type SourcedTask = RawTask & { fileUploadId: number | null };

/** Bytes read from a spooled file at a time (the JSON reader hands over a chunk's tasks together). */
const READ_CHUNK = 256 * 1024;

/** A task file's bytes: its temporary file, else its upload in the file store. */
async function openInput(deps: AppDeps, projectId: number, s: Spooled): Promise<Readable> {
  if (s.file !== null) return fs.createReadStream(s.file, { highWaterMark: READ_CHUNK });
  if (s.upload === undefined) throw new Error(`Spooled input ${s.label} has neither a file nor an upload.`);
  return readUpload(deps, projectId, s.upload.name);
}

/**
 * The tasks of all spooled inputs, in batches (in order, never empty), indexed across files. The
 * readers' task objects are completed in place rather than copied.
 */
export async function* tasksOf(deps: AppDeps, config: LabelConfig, projectId: number, spooled: Spooled[], uploadIds: Map<string, number>): AsyncGenerator<SourcedTask[]> {
  let index = 0;
  // A TXT line goes under the config's one data key when it reads exactly one.
  const textKey = config.dataKeys.length === 1 ? config.dataKeys[0]! : 'text';
  for (const s of spooled) {
    const fileUploadId = s.upload ? (uploadIds.get(s.upload.name) ?? null) : null;
    if (s.kind === 'media') {
      yield [{ index: index++, data: { [mediaDataKey(config, s.upload.contentType)]: uploadUrl(projectId, s.upload.name) }, annotations: [], predictions: [], meta: {}, fileUploadId }];
      continue;
    }
    const reader = readTaskBatches(await openInput(deps, projectId, s), s.format, { maxTasks: deps.config.imports.maxTasks, maxTaskBytes: deps.config.imports.maxTaskBytes, maxDepth: deps.config.limits.jsonMaxDepth, errorKey: s.label, textKey });
    for await (const batch of reader) {
      const sourced = batch as SourcedTask[];
      for (const t of sourced) {
        t.index = index++;
        t.fileUploadId = fileUploadId;
      }
      yield sourced;
    }
  }
}

/**
 * Removes spooled temporary files and, unless `keepUploads`, the uploads stored for them (an
 * upload the file store fails to remove is logged with `log` and left: no row points at it).
 */
export async function cleanSpool(deps: AppDeps, projectId: number, spooled: Spooled[], keepUploads: boolean, log?: FastifyBaseLogger): Promise<void> {
  for (const s of spooled) if (s.file !== null) fs.rmSync(s.file, { force: true });
  if (!keepUploads) await removeUploads(deps, projectId, spooled.flatMap((s) => (s.upload ? [s.upload.name] : [])), log);
}

/** Formats Label Studio may read either as a list of tasks or as one file per task. */
const LIST_FORMATS: ReadonlySet<string> = new Set(['csv', 'tsv', 'txt']);

/** Whether any input could be a list of tasks or one task per file (Label Studio's `could_be_tasks_list`). */
export const couldBeTasksList = (spooled: Spooled[]) => spooled.some((s) => s.kind === 'tasks' && LIST_FORMATS.has(s.format));

/**
 * Keeps a URL's download as an upload too (Label Studio stores it as one), so every input but a
 * JSON body can be committed later by reimport. Updates `spooled` in place, one input at a time,
 * so a failure part-way leaves every upload stored so far for `cleanSpool` to remove; the
 * downloads stay the temporary files read by this import.
 */
export async function keepDownloadsAsUploads(deps: AppDeps, projectId: number, spooled: Spooled[], log?: FastifyBaseLogger): Promise<void> {
  for (const [i, s] of spooled.entries()) {
    if (s.kind !== 'tasks' || s.upload || !s.source || s.file === null) continue;
    const saved = await keepFileAsUpload(deps, projectId, s.file, s.source.original, log);
    spooled[i] = { ...s, upload: { name: saved.name, original: s.source.original, size: saved.size, contentType: s.source.contentType } };
  }
}

type UploadRow = Pick<FileUploadsTable, 'file' | 'original_name' | 'size' | 'content_type'>;

/**
 * Stored uploads as inputs to import again: task files are read from the file store, media files
 * become one task each. With `filesAsTasksList` false, CSV, TSV and TXT files also become one
 * task each.
 */
export function spooledFromUploads(rows: UploadRow[], filesAsTasksList: boolean): Spooled[] {
  return rows.map((r) => {
    const upload = { name: r.file, original: r.original_name, size: Number(r.size), contentType: r.content_type };
    const format = formatOrRefuse(r.original_name, r.content_type);
    if (format === 'media' || (!filesAsTasksList && LIST_FORMATS.has(format))) return { kind: 'media', file: null, label: r.original_name, upload };
    return { kind: 'tasks', format, file: null, label: r.original_name, upload };
  });
}

/** Result value keys that differ from the control's lower-cased tag, and controls whose value is one scalar. */
const VALUE_KEY: Record<string, string> = { textarea: 'text' };
const SCALAR_TYPES: ReadonlySet<string> = new Set(['rating', 'number', 'datetime']);

function preannotationProblem(field: string, why: string) {
  return invalid({ preannotated_from_fields: [`${field}: ${why}`] });
}

/**
 * One field's value as a prediction result, as Label Studio's `reformat_predictions` builds it: a
 * list of result objects is used as is; any other value goes to the control named like the field,
 * else to the config's only control (`{choices: [value]}`, `{rating: value}`, or an object value
 * as the whole `value`). The result is validated later like any imported prediction.
 */
function resultFromField(config: LabelConfig, field: string, value: unknown): unknown[] {
  if (Array.isArray(value) && value.length > 0 && value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) return value;
  const control = config.controls.find((c) => c.name === field) ?? (config.controls.length === 1 ? config.controls[0] : undefined);
  if (!control) throw preannotationProblem(field, `the labeling config has ${config.controls.length} controls and none is named "${field}"; send a list of results instead.`);
  const type = control.type.toLowerCase();
  const key = VALUE_KEY[type] ?? type;
  const v = value !== null && typeof value === 'object' && !Array.isArray(value) ? value : SCALAR_TYPES.has(type) ? { [key]: value } : { [key]: Array.isArray(value) ? value : [value] };
  return [{ from_name: control.name, to_name: control.toName[0] ?? '', type, value: v }];
}

/**
 * Adds a prediction to each task for every listed data field (Label Studio's
 * `?preannotated_from_fields=`). The fields stay in the task data, as in Label Studio; a task
 * without one of them is refused, a null value adds no prediction.
 */
export async function* withPreannotations<T extends RawTask>(config: LabelConfig, fields: string[], batches: AsyncIterable<T[]>): AsyncGenerator<T[]> {
  for await (const batch of batches) {
    yield batch.map((t) => {
      const predictions = [...t.predictions];
      for (const field of fields) {
        if (!Object.hasOwn(t.data, field)) throw preannotationProblem(field, `task ${t.index + 1} has no such data field.`);
        const value = t.data[field];
        if (value === null || value === undefined) continue;
        predictions.push({ result: resultFromField(config, field, value), score: 1, model_version: 'preannotated' });
      }
      return { ...t, predictions };
    });
  }
}

/** The field names of a `preannotated_from_fields` query value (comma-separated, as Label Studio reads it). */
export function preannotatedFields(value: string | undefined): string[] {
  const fields = (value ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  const bad = fields.find((f) => isForbiddenKey(f) || f.length > 200);
  if (bad) throw preannotationProblem(bad.slice(0, 50), 'not a usable field name.');
  return [...new Set(fields)];
}
