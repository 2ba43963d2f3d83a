/** Tasks (Label Studio's /api/tasks and /api/projects/{id}/tasks). */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, Id, IdParams, NoContent, PagingQuery } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { TaskPatchBody, TaskResponse } from './tasks.schemas.js';
import { nextTask } from './label-stream.service.js';
import { createTask, deleteAllTasks } from './project-tasks.service.js';
import { deleteTask, getTaskDetail, listProjectTasks, listTasks, updateTask } from './tasks.service.js';

const TaskList = Type.Object(
  { tasks: Type.Array(TaskResponse), total: Type.Integer(), total_annotations: Type.Integer(), total_predictions: Type.Integer() },
  { additionalProperties: false },
);

export const tasksRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/tasks',
    summary:
      "A project's tasks, paged (a page past the end is 404); `view` and `query` filter and order them. Annotators: only their own work, and 403 unless the project sets show_data_manager_to_annotators",
    tags: ['Tasks'],
    access: 'project.view',
    scope: { project: { query: 'project' } },
    schema: {
      querystring: Type.Object(
        {
          ...PagingQuery,
          project: Id(),
          fields: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('task_only')])),
          view: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
          query: Type.Optional(Type.String({ maxLength: 100_000 })),
          resolve_uri: Type.Optional(Type.Boolean()),
          include: Type.Optional(Type.String({ maxLength: 2000 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: TaskList, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, query }) => listTasks(deps.db, actor, query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/tasks',
    summary: "A project's tasks as a plain array, newest first (annotators: as for GET /api/tasks)",
    tags: ['Tasks'],
    access: 'project.view',
    scope: { project: { param: 'id' } },
    schema: {
      params: IdParams,
      querystring: Type.Object({ ...PagingQuery, start: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })), ordering: Type.Optional(Type.String({ maxLength: 30 })) }, { additionalProperties: false }),
      response: { 200: Type.Array(TaskResponse), 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, params, query }) => listProjectTasks(deps.db, actor, params.id, query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/tasks/:id',
    summary: 'One task with the annotations you may see, its predictions and your drafts (annotators: only their own work or the task the label stream gave them)',
    tags: ['Tasks'],
    access: 'project.view',
    scope: { task: { param: 'id' } },
    schema: { params: IdParams, response: { 200: TaskResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => getTaskDetail(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/tasks/:id',
    summary: "Change a task's data or meta",
    tags: ['Tasks'],
    access: 'task.change',
    scope: { task: { param: 'id' } },
    schema: { params: IdParams, body: TaskPatchBody, response: { 200: TaskResponse, 400: ErrorResponse, 404: ErrorResponse } },
    audit: ['task.update'],
    handler: async ({ deps, actor, audit, params, body }) => updateTask(deps, actor, audit, params.id, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/tasks/:id',
    summary: 'Delete a task with its annotations and predictions',
    tags: ['Tasks'],
    access: 'task.change',
    scope: { task: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 404: ErrorResponse } },
    audit: ['task.delete'],
    handler: async ({ deps, actor, audit, params, reply }) => {
      await deleteTask(deps, actor, audit, params.id);
      return reply.code(204).send();
    },
  }),

  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/next',
    summary: 'The next task for you to label (reserved for you for a while); 404 when none is left',
    tags: ['Tasks'],
    access: 'annotation.create',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, response: { 200: TaskResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => nextTask(deps, actor, params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/tasks',
    summary: 'Create one task in a project (`{project, data, meta}`)',
    tags: ['Tasks'],
    access: 'task.import',
    scope: { project: { body: 'project' } },
    schema: {
      body: Type.Object({ project: Id(), data: Type.Record(Type.String(), Type.Unknown()), meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }),
      response: { 201: TaskResponse, 400: ErrorResponse, 403: ErrorResponse },
    },
    audit: ['task.import'],
    handler: async ({ deps, actor, audit, body, reply }) => reply.code(201).send(await createTask(deps, actor, audit, body)),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/projects/:id/tasks',
    summary: 'Delete all tasks of a project, with their annotations and predictions',
    tags: ['Tasks'],
    access: 'task.change',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, response: { 204: NoContent, 404: ErrorResponse } },
    audit: ['task.bulk_delete'],
    handler: async ({ deps, actor, audit, params, reply }) => {
      await deleteAllTasks(deps, actor, audit, params.id);
      return reply.code(204).send();
    },
  }),
];
