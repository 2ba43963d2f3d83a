/** Import (Label Studio's POST /api/projects/{id}/import and its aliases) and uploaded files. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { Actor } from '../../http/actor.js';
import { ErrorResponse, Id, IdParams, NoContent } from '../../http/common-schemas.js';
import { defineRoute, type AuditFn } from '../../http/route.js';
import { userContentHeaders } from '../../http/user-content.js';
import { configOf, getProjectRow } from '../projects/projects.service.js';
import { TaskResponse } from '../tasks/tasks.schemas.js';
import { getTaskDetail } from '../tasks/tasks.service.js';
import { cleanSpool, couldBeTasksList, keepDownloadsAsUploads, preannotatedFields, spooledFromUploads, spoolImport, tasksOf, withPreannotations } from './import-sources.js';
import { importTasks, keepUploadsOnly, type ImportSummary } from './import.service.js';
import type { RawTask } from './task-readers.js';
import { findUploads, openUpload, recordUpload } from './uploads.service.js';

const ImportQuery = Type.Object(
  {
    return_task_ids: Type.Optional(Type.Boolean()),
    commit_to_project: Type.Optional(Type.Boolean()),
    preannotated_from_fields: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const ImportResponse = Type.Object(
  {
    task_count: Type.Integer(),
    annotation_count: Type.Integer(),
    prediction_count: Type.Integer(),
    duration: Type.Number(),
    file_upload_ids: Type.Array(Type.Integer()),
    could_be_tasks_list: Type.Boolean(),
    found_formats: Type.Array(Type.String()),
    data_columns: Type.Array(Type.String()),
    task_ids: Type.Optional(Type.Array(Type.Integer())),
  },
  { additionalProperties: false },
);
const Refused = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 413: ErrorResponse, 503: ErrorResponse };

interface RunOptions {
  return_task_ids?: boolean | undefined;
  commit_to_project?: boolean | undefined;
  preannotated_from_fields?: string | undefined;
  /** Refuse, before anything commits, unless the input holds exactly one task. */
  exactlyOne?: boolean;
}

/** Reads every task of the inputs without storing any: the count and data columns found. */
async function surveyTasks(batches: AsyncIterable<RawTask[]>): Promise<{ taskCount: number; dataColumns: string[] }> {
  const columns = new Set<string>();
  let taskCount = 0;
  for await (const batch of batches) {
    for (const t of batch) {
      taskCount++;
      for (const k of Object.keys(t.data)) columns.add(k);
    }
  }
  return { taskCount, dataColumns: [...columns] };
}

/**
 * Spools the request's inputs, then imports them all or nothing — or, with
 * `commit_to_project=false`, only keeps the uploads (parsed, to report what they hold) for a later
 * reimport. Spooling cleans up after itself when it fails; spooled temporary files go afterwards,
 * uploads too when the request failed.
 */
async function runImport(deps: AppDeps, actor: Actor, audit: AuditFn, req: FastifyRequest, projectId: number, q: RunOptions): Promise<ImportSummary> {
  const started = Date.now();
  const project = await getProjectRow(deps.db, actor, projectId);
  const fields = preannotatedFields(q.preannotated_from_fields);
  const config = configOf(project);
  const spooled = await spoolImport(deps, req, projectId);
  const uploadIds = new Map<string, number>();
  const read = () => (fields.length ? withPreannotations(config, fields, tasksOf(deps, config, projectId, spooled, uploadIds)) : tasksOf(deps, config, projectId, spooled, uploadIds));
  const formats = () => ({ could_be_tasks_list: couldBeTasksList(spooled), found_formats: [...new Set(spooled.map((s) => (s.kind === 'media' ? s.upload.contentType : s.format)))] });
  let ok = false;
  try {
    if (q.commit_to_project === false) {
      await keepDownloadsAsUploads(deps, projectId, spooled, req.log);
      const found = await surveyTasks(read());
      const uploads = spooled.flatMap((s) => (s.upload ? [s.upload] : []));
      const summary = await keepUploadsOnly(deps, actor, audit, project, uploads, { ...found, started });
      ok = true;
      return { ...summary, ...formats() };
    }
    const uploads = spooled.flatMap((s) => (s.upload ? [s.upload] : []));
    const summary = await importTasks(deps, actor, audit, project, read, {
      returnTaskIds: q.return_task_ids === true,
      exactlyOne: q.exactlyOne === true,
      beforeInsert: async (trx) => {
        for (const u of uploads) uploadIds.set(u.name, await recordUpload(trx, { projectId, userId: actor.userId, name: u.name, original: u.original, size: u.size, contentType: u.contentType }));
        return [...uploadIds.values()];
      },
    });
    ok = true;
    return { ...summary, ...formats() };
  } finally {
    await cleanSpool(deps, projectId, spooled, ok, req.log);
  }
}

const ReimportBody = Type.Object(
  {
    file_upload_ids: Type.Array(Id(), { maxItems: 10_000, description: 'Uploads of this project, kept by an import with commit_to_project=false' }),
    files_as_tasks_list: Type.Optional(Type.Boolean({ description: 'CSV, TSV and TXT files as lists of tasks (default) or one task per file' })),
  },
  { additionalProperties: false },
);

/**
 * Imports stored uploads again (Label Studio's reimport): the tasks made earlier from them are
 * replaced, all or nothing. No ids: 204, as Label Studio answers.
 */
async function runReimport(deps: AppDeps, actor: Actor, audit: AuditFn, projectId: number, body: Static<typeof ReimportBody>): Promise<ImportSummary | null> {
  const project = await getProjectRow(deps.db, actor, projectId);
  if (body.file_upload_ids.length === 0) return null;
  const config = configOf(project);
  const rows = await findUploads(deps, projectId, body.file_upload_ids);
  const spooled = spooledFromUploads(rows, body.files_as_tasks_list !== false);
  const uploadIds = new Map(rows.map((r) => [r.file, Number(r.id)]));
  const summary = await importTasks(deps, actor, audit, project, () => tasksOf(deps, config, projectId, spooled, uploadIds), { replaceTasksOfUploads: rows.map((r) => Number(r.id)) });
  return { ...summary, could_be_tasks_list: couldBeTasksList(spooled), found_formats: [...new Set(rows.map((r) => r.content_type))] };
}

const importRoute = defineRoute({
  method: 'POST',
  url: '/api/projects/:id/import',
  summary: 'Import tasks: a JSON list or object, files (JSON, JSONL, CSV, TSV, TXT, media) or a url; all or nothing',
  tags: ['Import'],
  access: 'task.import',
  scope: { project: { param: 'id' } },
  streamedBody: 'bodies of any size are spooled to disk and parsed as a stream by the import readers',
  schema: { params: IdParams, querystring: ImportQuery, response: { 201: ImportResponse, ...Refused } },
  audit: ['task.import'],
  handler: async ({ deps, actor, audit, params, query, req, reply }) => reply.code(201).send(await runImport(deps, actor, audit, req, params.id, query)),
});

export const importRoutes = [
  importRoute,
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/reimport',
    summary: 'Import uploads kept by an import with commit_to_project=false, replacing tasks made from them before; all or nothing',
    tags: ['Import'],
    access: 'task.import',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, body: ReimportBody, response: { 201: ImportResponse, 204: NoContent, ...Refused } },
    audit: ['task.import'],
    handler: async ({ deps, actor, audit, params, body, reply }) => {
      const summary = await runReimport(deps, actor, audit, params.id, body);
      return summary ? reply.code(201).send(summary) : reply.code(204).send();
    },
  }),
  { ...importRoute, url: '/api/projects/:id/tasks/bulk', summary: 'Import tasks (alias of /import)' },
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/tasks',
    summary: 'Create one task in a project',
    tags: ['Import'],
    access: 'task.import',
    scope: { project: { param: 'id' } },
    streamedBody: 'one task in Label Studio’s format or flat data, read by the import readers',
    schema: { params: IdParams, response: { 201: TaskResponse, ...Refused } },
    audit: ['task.import'],
    handler: async ({ deps, actor, audit, params, req, reply }) => {
      const summary = await runImport(deps, actor, audit, req, params.id, { return_task_ids: true, exactlyOne: true });
      return reply.code(201).send(await getTaskDetail(deps.db, actor, summary.task_ids![0]!));
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/data/upload/:project/:file',
    summary: 'An uploaded file, to those who work in its project (Annotators: only the files of tasks they may open)',
    tags: ['Import'],
    access: 'project.view',
    scope: { project: { param: 'project' } },
    schema: {
      params: Type.Object({ project: Type.Integer({ minimum: 1 }), file: Type.String({ maxLength: 200, pattern: '^[\\w.-]+$' }) }, { additionalProperties: false }),
      response: { 200: Type.Any({ description: 'The file' }), 404: ErrorResponse, 503: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, params, req, reply }) => {
      const { stream, size, row } = await openUpload(deps, actor, params.project, params.file, req.log);
      // Type from the extension allowlist (never the uploader's claim); active types download only.
      void reply.headers(userContentHeaders(row.file)).header('cache-control', 'private, max-age=3600');
      if (size !== undefined) void reply.header('content-length', size);
      return reply.send(stream);
    },
  }),
];
