/** A project's direct members (Label Studio Enterprise's /api/projects/{id}/members). */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, Id, IdParams, NoContent } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { UserResponse } from '../users/users.schemas.js';
import { addProjectMember, listProjectMembers, removeProjectMember } from './project-members.service.js';
import { MemberRemoveBody, ProjectMemberCreated, ProjectMembersQuery, removedUserOf } from './workspaces.schemas.js';

const tags = ['Projects'];
const byId = { project: { param: 'id' } } as const;

export const projectMembersRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/members',
    summary: "A project's direct members (people added to it outside its workspace)",
    tags,
    access: 'project.members',
    scope: byId,
    schema: { params: IdParams, querystring: ProjectMembersQuery, response: { 200: Type.Array(UserResponse), 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, params, query }) => listProjectMembers(deps, params.id, query.user_ids),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/members',
    summary: 'Add an active member of your organization to a project',
    tags,
    access: 'project.members',
    scope: byId,
    schema: { params: IdParams, body: Type.Object({ user: Id() }, { additionalProperties: false }), response: { 201: ProjectMemberCreated, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['project.member_add'],
    handler: async ({ deps, actor, audit, params, body, reply }) => reply.code(201).send(await addProjectMember(deps, actor, audit, { projectId: params.id, userId: body.user })),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/projects/:id/members',
    summary: 'Remove a direct member from a project (body {"user": id} or {"user_id": id})',
    tags,
    access: 'project.members',
    scope: byId,
    schema: { params: IdParams, body: MemberRemoveBody, response: { 204: NoContent, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['project.member_remove'],
    handler: async ({ deps, audit, params, body, reply }) => {
      await removeProjectMember(deps, audit, { projectId: params.id, ...removedUserOf(body) });
      return reply.code(204).send();
    },
  }),
];
