/** Bulk annotation and prediction endpoints, model versions, and a project's file uploads. */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, Id, IdParams, Ids, Measure, NoContent } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { removeUploads } from '../imports/uploads.service.js';
import { getProjectRow } from '../projects/projects.service.js';
import { bulkAnnotate, importPredictions, modelVersions } from './bulk.service.js';

const Result = Type.Array(Type.Unknown(), { maxItems: 10_000 });
const Refused = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export const bulkRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/import/predictions',
    summary: 'Import predictions for existing tasks (all or nothing)',
    tags: ['Predictions'],
    access: 'task.import',
    scope: { project: { param: 'id' } },
    schema: {
      params: IdParams,
      body: Type.Array(
        Type.Object(
          { task: Id(), result: Result, score: Type.Optional(Type.Union([Measure(), Type.Null()])), model_version: Type.Optional(Type.String({ maxLength: 255 })) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 100_000 },
      ),
      response: { 201: Type.Object({ created: Type.Integer() }, { additionalProperties: false }), ...Refused },
    },
    audit: ['prediction.bulk_create'],
    handler: async ({ deps, actor, audit, params, body, reply }) => reply.code(201).send(await importPredictions(deps, actor, audit, params.id, body)),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/annotations/bulk',
    summary: 'Create your annotation with one result on many tasks',
    tags: ['Annotations'],
    access: 'annotation.create',
    scope: { project: { body: 'project' }, optional: true },
    schema: {
      body: Type.Object(
        {
          project: Type.Optional(Id()),
          tasks: Type.Optional(Ids()),
          selected_items: Type.Optional(Type.Object({ all: Type.Boolean(), included: Type.Optional(Ids()), excluded: Type.Optional(Ids()) }, { additionalProperties: false })),
          result: Result,
          lead_time: Type.Optional(Type.Union([Measure({ minimum: 0 }), Type.Null()])),
          was_cancelled: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Array(Type.Object({ id: Type.Integer() }, { additionalProperties: false })), ...Refused },
    },
    audit: ['annotation.bulk_create'],
    handler: async ({ deps, actor, audit, body, reply }) => reply.code(201).send(await bulkAnnotate(deps, actor, audit, body)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/model-versions',
    summary: 'Model versions of the project’s predictions with their counts, newest first',
    tags: ['Predictions'],
    access: 'project.view',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, response: { 200: Type.Record(Type.String(), Type.Integer()), 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => modelVersions(deps, actor, params.id),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/file-uploads',
    summary: 'Files uploaded to the project',
    tags: ['Import'],
    access: 'task.import',
    scope: { project: { param: 'id' } },
    schema: {
      params: IdParams,
      querystring: Type.Object({ ids: Type.Optional(Type.String({ maxLength: 10_000 })), all: Type.Optional(Type.Boolean()), ordering: Type.Optional(Type.String({ maxLength: 50 })) }, { additionalProperties: false }),
      response: { 200: Type.Array(Type.Object({ id: Type.Integer(), file: Type.String(), size: Type.Integer() }, { additionalProperties: false })), 404: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, params, query }) => {
      await getProjectRow(deps.db, actor, params.id);
      let q = deps.db.selectFrom('file_uploads').select(['id', 'file', 'size']).where('project_id', '=', params.id);
      const ids = query.ids?.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
      if (ids?.length) q = q.where('id', 'in', ids);
      return (await q.orderBy('id').limit(100_000).execute()).map((r) => ({ ...r, size: Number(r.size) }));
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/projects/:id/file-uploads',
    summary: 'Delete the project’s uploaded files that no task uses any more',
    tags: ['Import'],
    access: 'task.import',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 404: ErrorResponse } },
    audit: ['upload.delete'],
    handler: async ({ deps, actor, audit, params, req, reply }) => {
      await getProjectRow(deps.db, actor, params.id);
      const unused = await deps.db
        .selectFrom('file_uploads as f')
        .select(['f.id', 'f.file'])
        .where('f.project_id', '=', params.id)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('tasks as t').select('t.id').whereRef('t.file_upload_id', '=', 'f.id'))))
        .execute();
      if (unused.length > 0) {
        await deps.db.transaction().execute(async (trx) => {
          await trx.deleteFrom('file_uploads').where('id', 'in', unused.map((u) => u.id)).execute();
          await audit(trx, { action: 'upload.delete', objectType: 'file_upload', objectId: null, projectId: params.id, changes: { deleted_uploads: unused.length } });
        });
        await removeUploads(deps, params.id, unused.map((u) => u.file), req.log);
      }
      return reply.code(204).send();
    },
  }),
];
