/** Workspaces (Label Studio Enterprise's /api/workspaces): the spaces, their members and their projects. */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, IdParams, NoContent } from '../../http/common-schemas.js';
import { invalid } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { ProjectResponse } from '../projects/projects.schemas.js';
import {
  MemberAddBody,
  MemberRemoveBody,
  removedUserOf,
  WorkspaceCreateBody,
  WorkspaceListQuery,
  WorkspaceMember,
  WorkspaceMemberCreated,
  WorkspacePatchBody,
  WorkspaceProjectsAdded,
  WorkspaceProjectsBody,
  WorkspaceResponse,
} from './workspaces.schemas.js';
import {
  addWorkspaceMember,
  addWorkspaceProjects,
  createWorkspace,
  deleteWorkspace,
  getWorkspace,
  listWorkspaceMembers,
  listWorkspaceProjects,
  listWorkspaces,
  projectIdsOf,
  removeWorkspaceMember,
  removeWorkspaceProjects,
  updateWorkspace,
} from './workspaces.service.js';

const tags = ['Workspaces'];
const byId = { workspace: { param: 'id' } } as const;

export const workspacesRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/workspaces',
    summary: 'Workspaces you are a member of (all shared ones with workspace.view_all) and your own sandbox',
    tags,
    access: 'workspace.view',
    scope: 'organization',
    schema: { querystring: WorkspaceListQuery, response: { 200: Type.Array(WorkspaceResponse), 400: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, query }) => listWorkspaces(deps, actor, query),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/workspaces',
    summary: 'Create a shared workspace; you become its first member',
    tags,
    access: 'workspace.create',
    scope: 'organization',
    schema: { body: WorkspaceCreateBody, response: { 201: WorkspaceResponse, 400: ErrorResponse } },
    audit: ['workspace.create'],
    handler: async ({ deps, actor, audit, body, reply }) => reply.code(201).send(await createWorkspace(deps, actor, audit, body)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/workspaces/:id',
    summary: 'One workspace you see (another user’s sandbox is not found, whoever asks)',
    tags,
    access: 'workspace.view',
    scope: byId,
    schema: { params: IdParams, response: { 200: WorkspaceResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, params }) => getWorkspace(deps, params.id),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/workspaces/:id',
    summary: 'Rename, describe, recolour or archive a workspace',
    tags,
    access: 'workspace.change',
    scope: byId,
    schema: { params: IdParams, body: WorkspacePatchBody, response: { 200: WorkspaceResponse, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['workspace.update'],
    handler: async ({ deps, audit, params, body }) => updateWorkspace(deps, audit, params.id, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/workspaces/:id',
    summary: 'Delete an empty shared workspace (409 while it holds projects, or for a sandbox)',
    tags,
    access: 'workspace.delete',
    scope: byId,
    schema: { params: IdParams, response: { 204: NoContent, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse } },
    audit: ['workspace.delete'],
    handler: async ({ deps, audit, params, reply }) => {
      await deleteWorkspace(deps, audit, params.id);
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/workspaces/:id/memberships',
    summary: "A workspace's members",
    tags,
    access: 'workspace.view',
    scope: byId,
    schema: { params: IdParams, response: { 200: Type.Array(WorkspaceMember), 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, params }) => listWorkspaceMembers(deps, params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/workspaces/:id/memberships',
    summary: 'Add an active member of your organization to a workspace',
    tags,
    access: 'workspace.change',
    scope: byId,
    schema: { params: IdParams, body: MemberAddBody, response: { 200: WorkspaceMemberCreated, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse } },
    audit: ['workspace.member_add'],
    handler: async ({ deps, actor, audit, params, body }) => {
      if (body.workspace !== undefined && body.workspace !== params.id) throw invalid({ workspace: ['Must match the workspace in the path.'] });
      return addWorkspaceMember(deps, actor, audit, { workspaceId: params.id, userId: body.user });
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/workspaces/:id/memberships',
    summary: 'Remove a member from a workspace (body {"user_id": id} or {"user": id})',
    tags,
    access: 'workspace.change',
    scope: byId,
    schema: { params: IdParams, body: MemberRemoveBody, response: { 204: NoContent, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse } },
    audit: ['workspace.member_remove'],
    handler: async ({ deps, audit, params, body, reply }) => {
      await removeWorkspaceMember(deps, audit, { workspaceId: params.id, ...removedUserOf(body) });
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/workspaces/:id/projects',
    summary: 'The projects of a workspace that you work in',
    tags,
    access: 'workspace.view',
    scope: byId,
    schema: { params: IdParams, response: { 200: Type.Array(ProjectResponse), 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => listWorkspaceProjects(deps, actor, params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/workspaces/:id/projects',
    summary: 'Move projects you see into a workspace ({"project": id} or {"projects": [ids]})',
    tags,
    access: 'workspace.change',
    scope: byId,
    schema: { params: IdParams, body: WorkspaceProjectsBody, response: { 201: WorkspaceProjectsAdded, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['workspace.project_add'],
    handler: async ({ deps, actor, audit, params, body, reply }) =>
      reply.code(201).send(await addWorkspaceProjects(deps, actor, audit, { workspaceId: params.id, ...projectIdsOf(body) })),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/workspaces/:id/projects',
    summary: 'Take projects out of a workspace (they move to your sandbox)',
    tags,
    access: 'workspace.change',
    scope: byId,
    schema: { params: IdParams, body: WorkspaceProjectsBody, response: { 204: NoContent, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse } },
    audit: ['workspace.project_remove'],
    handler: async ({ deps, actor, audit, params, body, reply }) => {
      await removeWorkspaceProjects(deps, actor, audit, { workspaceId: params.id, ...projectIdsOf(body) });
      return reply.code(204).send();
    },
  }),
];
