/** Projects (Label Studio's /api/projects) and labeling-config validation. */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, IdParams, NoContent, PagingQuery, Paginated, pageEnvelope } from '../../http/common-schemas.js';
import { invalid } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { parseLabelConfig } from '../label-config/label-config.parser.js';
import { ProjectBody, ProjectResponse } from './projects.schemas.js';
import { configChangeProblems, createProject, deleteProject, getProjectRow, listProjects, projectResponse, updateProject } from './projects.service.js';

const ConfigBody = Type.Object({ label_config: Type.String({ maxLength: 10 * 1024 * 1024 }) }, { additionalProperties: false });
const ListQuery = Type.Object(
  {
    ...PagingQuery,
    ids: Type.Optional(Type.String({ maxLength: 10_000 })),
    ordering: Type.Optional(Type.String({ maxLength: 50 })),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    search: Type.Optional(Type.String({ maxLength: 200 })),
    filter: Type.Optional(Type.Union([Type.Literal('pinned_only'), Type.Literal('exclude_pinned'), Type.Literal('all')])),
    include: Type.Optional(Type.String({ maxLength: 2000 })),
    members_limit: Type.Optional(Type.Integer({ minimum: 0 })),
    workspaces: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

export const projectsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/projects',
    summary: 'Projects of your organization (paged; a page past the end is 404)',
    tags: ['Projects'],
    access: 'project.view',
    scope: 'organization',
    schema: { querystring: ListQuery, response: { 200: Paginated(Type.Partial(ProjectResponse)), 400: ErrorResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, query, req }) => {
      const { total, window, items } = await listProjects(deps.db, actor, query);
      const keys = query.include?.split(',').map((k) => k.trim()).filter(Boolean);
      const results = keys?.length ? items.map((p) => Object.fromEntries(keys.filter((k) => k in p).map((k) => [k, p[k as keyof typeof p]]))) : items;
      return pageEnvelope(req.url, window, total, results);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/projects',
    summary: 'Create a project (an empty body gives Label Studio defaults)',
    tags: ['Projects'],
    access: 'project.create',
    scope: 'organization',
    schema: { body: ProjectBody, response: { 201: ProjectResponse, 400: ErrorResponse } },
    audit: ['project.create'],
    handler: async ({ deps, actor, audit, body, reply }) => reply.code(201).send(await createProject(deps, actor, audit, body ?? {})),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/projects/validate',
    summary: 'Validate a labeling config alone (204 when valid, 400 naming the problem)',
    tags: ['Projects'],
    access: 'project.view',
    scope: 'organization',
    schema: { body: ConfigBody, response: { 204: NoContent, 400: ErrorResponse } },
    audit: null,
    changesNothing: 'validates the posted config and stores nothing',
    handler: async ({ body, reply }) => {
      parseLabelConfig(body.label_config);
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id',
    summary: 'One project with its counters and parsed labeling config',
    tags: ['Projects'],
    access: 'project.view',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, response: { 200: ProjectResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => projectResponse(deps.db, await getProjectRow(deps.db, actor, params.id)),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/projects/:id',
    summary: 'Change a project; a config dropping labels in use is refused',
    tags: ['Projects'],
    access: 'project.change',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, body: ProjectBody, response: { 200: ProjectResponse, 400: ErrorResponse, 404: ErrorResponse } },
    audit: ['project.update', 'project.config_change'],
    handler: async ({ deps, actor, audit, params, body }) => updateProject(deps, actor, audit, params.id, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/projects/:id',
    summary: 'Delete a project and everything in it',
    tags: ['Projects'],
    access: 'project.delete',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 404: ErrorResponse } },
    audit: ['project.delete'],
    handler: async ({ deps, actor, audit, params, reply }) => {
      await deleteProject(deps, actor, audit, params.id);
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/validate',
    summary: "Check a new labeling config against the project's annotations",
    tags: ['Projects'],
    access: 'project.change',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, body: ConfigBody, response: { 200: ConfigBody, 400: ErrorResponse, 404: ErrorResponse } },
    audit: null,
    changesNothing: 'checks the posted config against existing annotations and stores nothing',
    handler: async ({ deps, actor, params, body }) => {
      const p = await getProjectRow(deps.db, actor, params.id);
      const problems = await configChangeProblems(deps.db, p, body.label_config);
      if (problems.length > 0) throw invalid({ label_config: problems });
      return { label_config: body.label_config };
    },
  }),
];
