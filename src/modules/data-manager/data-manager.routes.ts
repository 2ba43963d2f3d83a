/**
 * The data manager: views, actions on selected tasks, the project as the data manager reads it,
 * and the project's data-column summary. Register `dataManagerRoutes` in src/routes.ts.
 */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, IdParams } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { TaskResponse } from '../tasks/tasks.schemas.js';
import { ACTION_AUDITS, listActions, runAction } from './actions.service.js';
import { ActionBody, ActionListItem, ActionQuery, ActionResult, DmProjectResponse, ProjectQuery, SummaryResponse } from './data-manager.schemas.js';
import { dmProject, projectSummary } from './project-info.service.js';
import { viewsRoutes } from './views.routes.js';

const NextTaskResponse = Type.Object({ ...TaskResponse.properties, queue: Type.String() }, { additionalProperties: false });

const actionsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/dm/actions',
    summary: 'The data-manager actions you may run in a project',
    tags: ['Data Manager'],
    access: 'project.view',
    scope: { project: { query: 'project' } },
    schema: { querystring: ProjectQuery, response: { 200: Type.Array(ActionListItem), 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, query }) => listActions(deps, actor, query.project),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/dm/actions',
    summary: 'Run an action (?id=delete_tasks|…) on selected tasks: {selectedItems, filters, ordering}',
    tags: ['Data Manager'],
    // Each action checks its own permission (task.change, annotation.change_any, annotation.create).
    access: 'project.view',
    scope: { project: { query: 'project' } },
    schema: {
      querystring: ActionQuery,
      body: ActionBody,
      response: { 200: Type.Union([ActionResult, NextTaskResponse]), 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
    },
    audit: ACTION_AUDITS,
    handler: async ({ deps, actor, audit, query, body }) => runAction(deps, actor, audit, query, body),
  }),
];

export const dataManagerRoutes = [
  ...viewsRoutes,
  ...actionsRoutes,
  defineRoute({
    method: 'GET',
    url: '/api/dm/project',
    summary: 'A project as the data manager reads it (counts, parsed config, your abilities)',
    tags: ['Data Manager'],
    access: 'project.view',
    scope: { project: { query: 'project' } },
    schema: { querystring: ProjectQuery, response: { 200: DmProjectResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, query }) => dmProject(deps.db, actor, query.project),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/summary',
    summary: "Which data columns a project's tasks have (column → task count; columns common to all)",
    tags: ['Projects'],
    access: 'project.view',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, response: { 200: SummaryResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => projectSummary(deps.db, actor, params.id),
  }),
];
