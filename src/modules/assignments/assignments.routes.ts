/** Task assignment: Label Studio Enterprise's `/api/projects/{id}/tasks/assignees` paths and shapes. */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, IdParams, NoContent } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { BulkAssignBody, BulkAssignResult, TaskAssignBody, TaskAssigneesParams, TaskAssignmentResponse, TaskUnassignQuery } from './assignments.schemas.js';
import { assignTask, bulkAssign, listTaskAssignees, unassignTask } from './assignments.service.js';

const Refused = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export const assignmentsRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/tasks/assignees',
    summary: 'Assign users to the selected tasks (type AN: annotate; RE: review, which also needs task.assign_reviewers)',
    tags: ['Assignments'],
    access: 'task.assign',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, body: BulkAssignBody, response: { 201: BulkAssignResult, ...Refused } },
    audit: ['task.assign', 'permission.denied'],
    handler: async ({ deps, actor, audit, scope, body, reply }) => reply.code(201).send(await bulkAssign(deps, actor, audit, scope.project!, body)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/tasks/:task_pk/assignees',
    summary: "A task's assignees (without task.view_all: only your own assignments)",
    tags: ['Assignments'],
    access: 'project.view',
    scope: { task: { param: 'task_pk' } },
    schema: { params: TaskAssigneesParams, response: { 200: Type.Array(TaskAssignmentResponse), 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, scope, params }) => listTaskAssignees(deps.db, actor, scope.project, params.id, params.task_pk),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/tasks/:task_pk/assignees',
    summary: 'Assign users to one task',
    tags: ['Assignments'],
    access: 'task.assign',
    scope: { task: { param: 'task_pk' } },
    schema: { params: TaskAssigneesParams, body: TaskAssignBody, response: { 200: TaskAssignmentResponse, ...Refused } },
    audit: ['task.assign', 'permission.denied'],
    handler: async ({ deps, actor, audit, scope, params, body }) => assignTask(deps, actor, audit, { project: scope.project, projectId: params.id, taskId: params.task_pk, replace: false }, body),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/projects/:id/tasks/:task_pk/assignees',
    summary: "Make these users the task's assignees of the type (others of that type are removed)",
    tags: ['Assignments'],
    access: 'task.assign',
    scope: { task: { param: 'task_pk' } },
    schema: { params: TaskAssigneesParams, body: TaskAssignBody, response: { 200: TaskAssignmentResponse, ...Refused } },
    audit: ['task.assign', 'task.unassign', 'permission.denied'],
    handler: async ({ deps, actor, audit, scope, params, body }) => assignTask(deps, actor, audit, { project: scope.project, projectId: params.id, taskId: params.task_pk, replace: true }, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/projects/:id/tasks/:task_pk/assignees',
    summary: 'Remove assignees from a task (?type=AN|RE, ?users=3,4; without them: all)',
    tags: ['Assignments'],
    access: 'task.assign',
    scope: { task: { param: 'task_pk' } },
    schema: { params: TaskAssigneesParams, querystring: TaskUnassignQuery, response: { 204: NoContent, ...Refused } },
    audit: ['task.unassign', 'permission.denied'],
    handler: async ({ deps, actor, audit, scope, params, query, reply }) => {
      await unassignTask(deps, actor, audit, { project: scope.project, projectId: params.id, taskId: params.task_pk }, query);
      return reply.code(204).send();
    },
  }),
];
