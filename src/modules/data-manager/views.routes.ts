/**
 * Data-manager views (Label Studio's `/api/dm/views/`). Reading needs `project.view` (every
 * member); creating, changing and deleting views needs `task.change` (Managers and above).
 */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, Id, IdParams, NoContent } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { ProjectQuery, ViewBody, ViewResponse } from './data-manager.schemas.js';
import { createView, deleteView, getView, listViews, resetViews, updateView } from './views.service.js';

const Refused = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
// Label Studio's UI repeats the project (and what triggered the change) in the query string.
const ChangeQuery = Type.Object(
  { project: Type.Optional(Id()), interaction: Type.Optional(Type.String({ maxLength: 50 })) },
  { additionalProperties: false },
);

export const viewsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/dm/views',
    summary: "A project's data-manager views (tabs), in order",
    tags: ['Data Manager'],
    access: 'project.view',
    scope: { project: { query: 'project' }, optional: true },
    schema: {
      querystring: Type.Object({ project: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })) }, { additionalProperties: false }),
      response: { 200: Type.Array(ViewResponse), 404: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, query }) => listViews(deps.db, actor, query.project),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/dm/views',
    summary: 'Create a view: {project, data: {title, filters, ordering, hiddenColumns}}',
    tags: ['Data Manager'],
    access: 'task.change',
    scope: { project: { body: 'project' } },
    schema: { body: ViewBody, response: { 201: ViewResponse, ...Refused } },
    audit: ['view.create'],
    handler: async ({ deps, actor, audit, body, reply }) => reply.code(201).send(await createView(deps, actor, audit, body)),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/dm/views/reset',
    summary: 'Delete every view of a project',
    tags: ['Data Manager'],
    access: 'task.change',
    scope: { project: { query: 'project' } },
    schema: { querystring: ProjectQuery, response: { 204: NoContent, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['view.delete'],
    handler: async ({ deps, actor, audit, query, reply }) => {
      await resetViews(deps, actor, audit, query.project);
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/dm/views/:id',
    summary: 'One view',
    tags: ['Data Manager'],
    access: 'project.view',
    scope: { view: { param: 'id' } },
    schema: { params: IdParams, response: { 200: ViewResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => getView(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/dm/views/:id',
    summary: 'Change a view (the keys of data sent replace those stored)',
    tags: ['Data Manager'],
    access: 'task.change',
    scope: { view: { param: 'id' } },
    schema: { params: IdParams, querystring: ChangeQuery, body: ViewBody, response: { 200: ViewResponse, ...Refused } },
    audit: ['view.update'],
    handler: async ({ deps, actor, audit, params, body }) => updateView(deps, actor, audit, params.id, body, 'merge'),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/dm/views/:id',
    summary: 'Replace a view (data sent replaces data stored)',
    tags: ['Data Manager'],
    access: 'task.change',
    scope: { view: { param: 'id' } },
    schema: { params: IdParams, querystring: ChangeQuery, body: ViewBody, response: { 200: ViewResponse, ...Refused } },
    audit: ['view.update'],
    handler: async ({ deps, actor, audit, params, body }) => updateView(deps, actor, audit, params.id, body, 'replace'),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/dm/views/:id',
    summary: 'Delete a view',
    tags: ['Data Manager'],
    access: 'task.change',
    scope: { view: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['view.delete'],
    handler: async ({ deps, actor, audit, params, reply }) => {
      await deleteView(deps, actor, audit, params.id);
      return reply.code(204).send();
    },
  }),
];
