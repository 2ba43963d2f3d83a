/**
 * Storage media for the browser: Label Studio's `/tasks/{id}/resolve/?fileuri=` (and its older
 * alias `/presign/`), and the same under `/projects/{id}/`. See media.service.ts for the rules.
 */
import { Type } from '@sinclair/typebox';
import { assertTaskVisible } from '../../authz/data-filters.js';
import { ErrorResponse, IdParams } from '../../http/common-schemas.js';
import { defineRoute, type AnyRoute } from '../../http/route.js';
import { visibleProjectIds } from '../../authz/scope.js';
import { resolveProjectMedia, resolveTaskMedia, serveLocalFile } from './media.service.js';

const Query = Type.Object({ fileuri: Type.String({ minLength: 1, maxLength: 8192, description: "url-safe base64 of the storage URI (s3://bucket/key)" }) }, { additionalProperties: false });
const Answers = { 200: Type.Any({ description: 'The bytes (presign off)' }), 206: Type.Any({ description: 'A byte range' }), 303: Type.Null({ description: 'To a pre-signed URL' }), 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 416: ErrorResponse };

function taskRoute(url: string): AnyRoute {
  const route = defineRoute({
    method: 'GET',
    url,
    summary: "A storage object the task's data references: 303 to a pre-signed URL, or the bytes",
    tags: ['Storage'],
    access: 'project.view',
    scope: { task: { param: 'id' } },
    schema: { params: IdParams, querystring: Query, response: Answers },
    audit: null,
    handler: async ({ deps, actor, scope, params, query, req, reply }) => {
      await assertTaskVisible(deps.db, actor, params.id);
      return resolveTaskMedia(deps, scope.project!, params.id, query.fileuri, reply, req.headers.range);
    },
  });
  return route as AnyRoute;
}

function projectRoute(url: string): AnyRoute {
  const route = defineRoute({
    method: 'GET',
    url,
    summary: "An object of a storage connected to the project (Managers and above): 303 to a pre-signed URL, or the bytes",
    tags: ['Storage'],
    access: 'storage.manage',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, querystring: Query, response: Answers },
    audit: null,
    handler: async ({ deps, scope, query, req, reply }) => resolveProjectMedia(deps, scope.project!, query.fileuri, reply, req.headers.range),
  });
  return route as AnyRoute;
}

const localFilesRoute = defineRoute({
  method: 'GET',
  url: '/data/local-files',
  summary: 'A file of a local-files storage of a project the caller works in (Range supported); 403 when local files serving is disabled',
  tags: ['Storage'],
  access: 'project.view',
  scope: 'organization',
  schema: { querystring: Type.Object({ d: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }), response: { 200: Type.Any(), 206: Type.Any(), 403: ErrorResponse, 404: ErrorResponse } },
  audit: null,
  handler: async ({ deps, actor, query, req, reply }) => {
    const projects = (await visibleProjectIds(deps.db, actor).execute()).map((r) => r.id);
    return serveLocalFile(deps, projects, query.d, reply, req.headers.range);
  },
});

export const mediaRoutes: AnyRoute[] = [taskRoute('/tasks/:id/resolve'), taskRoute('/tasks/:id/presign'), projectRoute('/projects/:id/resolve'), projectRoute('/projects/:id/presign'), localFilesRoute as AnyRoute];
