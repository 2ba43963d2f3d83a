/** Import (Label Studio's POST /api/projects/{id}/import and its aliases) and uploaded files. */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { Actor } from '../../http/actor.js';
import { ErrorResponse, IdParams } from '../../http/common-schemas.js';
import { invalid } from '../../http/errors.js';
import { defineRoute, type AuditFn } from '../../http/route.js';
import { configOf, getProjectRow } from '../projects/projects.service.js';
import { TaskResponse } from '../tasks/tasks.schemas.js';
import { getTaskDetail } from '../tasks/tasks.service.js';
import { cleanSpool, spoolImport, tasksOf } from './import-sources.js';
import { importTasks, type ImportSummary } from './import.service.js';
import { openUpload, recordUpload } from './uploads.service.js';

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
const Refused = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 413: ErrorResponse };

interface RunOptions {
  return_task_ids?: boolean | undefined;
  commit_to_project?: boolean | undefined;
  preannotated_from_fields?: string | undefined;
  /** Refuse, before anything commits, unless the input holds exactly one task. */
  exactlyOne?: boolean;
}

/**
 * Spools the request's inputs, then imports them all or nothing. Spooling cleans up after itself
 * when it fails; spooled temporary files go after the import, uploads too when it failed.
 */
async function runImport(deps: AppDeps, actor: Actor, audit: AuditFn, req: FastifyRequest, projectId: number, q: RunOptions): Promise<ImportSummary> {
  if (q.commit_to_project === false) throw invalid({ commit_to_project: ['Uploading without committing (and reimport) is not supported yet; import directly.'] });
  if (q.preannotated_from_fields) throw invalid({ preannotated_from_fields: ['Not supported yet: import predictions in Label Studio’s task format instead.'] });
  const project = await getProjectRow(deps.db, actor, projectId);
  const config = configOf(project);
  const spooled = await spoolImport(deps, req, projectId);
  const uploads = spooled.flatMap((s) => (s.upload ? [s.upload] : []));
  const uploadIds = new Map<string, number>();
  let ok = false;
  try {
    const summary = await importTasks(deps, actor, audit, project, () => tasksOf(deps, config, projectId, spooled, uploadIds), {
      returnTaskIds: q.return_task_ids === true,
      exactlyOne: q.exactlyOne === true,
      beforeInsert: async (trx) => {
        for (const u of uploads) uploadIds.set(u.name, await recordUpload(trx, { projectId, userId: actor.userId, name: u.name, original: u.original, size: u.size, contentType: u.contentType }));
        return [...uploadIds.values()];
      },
    });
    ok = true;
    return { ...summary, found_formats: [...new Set(spooled.map((s) => (s.kind === 'media' ? s.upload.contentType : s.format)))] };
  } finally {
    cleanSpool(deps, projectId, spooled, ok);
  }
}

const importRoute = defineRoute({
  method: 'POST',
  url: '/api/projects/:id/import',
  summary: 'Import tasks: a JSON list or object, files (JSON, JSONL, CSV, TSV, TXT, media) or a url; all or nothing',
  tags: ['Import'],
  access: 'task.import',
  streamedBody: 'bodies of any size are spooled to disk and parsed as a stream by the import readers',
  schema: { params: IdParams, querystring: ImportQuery, response: { 201: ImportResponse, ...Refused } },
  audit: ['task.import'],
  handler: async ({ deps, actor, audit, params, query, req, reply }) => reply.code(201).send(await runImport(deps, actor, audit, req, params.id, query)),
});

export const importRoutes = [
  importRoute,
  { ...importRoute, url: '/api/projects/:id/tasks/bulk', summary: 'Import tasks (alias of /import)' },
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/tasks',
    summary: 'Create one task in a project',
    tags: ['Import'],
    access: 'task.import',
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
    summary: 'An uploaded file, to members of its project’s organization only',
    tags: ['Import'],
    access: 'project.view',
    schema: {
      params: Type.Object({ project: Type.Integer({ minimum: 1 }), file: Type.String({ maxLength: 200, pattern: '^[\\w.-]+$' }) }, { additionalProperties: false }),
      response: { 200: Type.Any({ description: 'The file' }), 404: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, params, reply }) => {
      const { stream, row, attachment } = await openUpload(deps, actor, params.project, params.file);
      void reply
        .header('content-type', row.content_type || 'application/octet-stream')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'")
        .header('cache-control', 'private, max-age=3600');
      if (attachment) void reply.header('content-disposition', `attachment; filename="${row.file}"`);
      return reply.send(stream);
    },
  }),
];
