/** Organizations, memberships and the invite link (Label Studio's paths and shapes). */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, Id, IdParams, pageEnvelope, Paginated, PagingQuery } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { ROLES } from '../../authz/permissions.js';
import { UserResponse } from '../users/users.schemas.js';
import { userResponse } from '../users/users.service.js';
import {
  changeMemberRole,
  createOrganizationWithOwner,
  getInvite,
  getOrganization,
  listMembers,
  listOrganizationsOf,
  resetInvite,
  setActiveOrganization,
  transferOwnership,
} from './organizations.service.js';

const Organization = Type.Object(
  { id: Type.Integer(), title: Type.String(), contact_info: Type.Union([Type.String(), Type.Null()]), created_at: Type.String() },
  { additionalProperties: false },
);
const MemberUser = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    username: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    avatar: Type.Null(),
    last_activity: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
const Member = Type.Object({ id: Type.Integer(), organization: Type.Integer(), role: Type.String(), user: MemberUser }, { additionalProperties: false });
const OrganizationCreateBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 1000 }),
    /** An existing user, by id or email, who becomes the Owner. */
    owner: Type.Union([Id(), Type.String({ minLength: 1, maxLength: 254 })]),
  },
  { additionalProperties: false },
);
const OwnershipTransferred = Type.Object({ organization: Type.Integer(), owner: Type.Integer(), previous_owner: Type.Integer() }, { additionalProperties: false });
const Invite = Type.Object({ invite_url: Type.String(), token: Type.String() }, { additionalProperties: false });

export const organizationsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/organizations',
    summary: 'Organizations you belong to',
    tags: ['Organizations'],
    access: 'organization.view',
    scope: 'account',
    schema: { response: { 200: Type.Array(Organization) } },
    audit: null,
    handler: async ({ deps, actor }) => listOrganizationsOf(deps.db, actor.userId),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/organizations/:id',
    summary: 'One organization you belong to',
    tags: ['Organizations'],
    access: 'organization.view',
    scope: { organization: { param: 'id' } },
    schema: { params: IdParams, response: { 200: Organization, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => getOrganization(deps.db, actor, params.id),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/organizations/:id/memberships',
    summary: 'Members of your organization with their roles (paged)',
    tags: ['Organizations'],
    access: 'members.view',
    scope: { organization: { param: 'id' } },
    schema: {
      params: IdParams,
      querystring: Type.Object({ ...PagingQuery, search: Type.Optional(Type.String({ maxLength: 200 })), ordering: Type.Optional(Type.String({ maxLength: 50 })) }, { additionalProperties: false }),
      response: { 200: Paginated(Member), 404: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, params, query, req }) => {
      const { total, rows, window } = await listMembers(deps.db, actor, params.id, query);
      const results = rows.map((r) => ({
        id: r.id,
        organization: r.organization_id,
        role: r.role,
        user: { id: r.user_id, email: r.email, username: r.username, first_name: r.first_name, last_name: r.last_name, avatar: null, last_activity: r.last_activity },
      }));
      return pageEnvelope(req.url, window, total, results);
    },
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/organizations/:id/memberships',
    summary: "Set a member's role (Administrators and the Owner)",
    tags: ['Organizations'],
    access: 'members.change_role',
    scope: { organization: { param: 'id' } },
    schema: {
      params: IdParams,
      body: Type.Object({ user_id: Id(), role: Type.Union(ROLES.map((r) => Type.Literal(r))) }, { additionalProperties: false }),
      response: { 200: Member, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
    },
    audit: ['membership.role_change'],
    handler: async ({ deps, actor, audit, params, body }) => {
      const m = await changeMemberRole(deps, actor, audit, { orgId: params.id, userId: body.user_id, role: body.role });
      const u = await deps.db.selectFrom('users').select(['id', 'email', 'username', 'first_name', 'last_name', 'last_activity']).where('id', '=', m.user_id).executeTakeFirstOrThrow();
      return { id: m.id, organization: m.organization_id, role: m.role, user: { ...u, avatar: null } };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/organizations',
    summary: 'Create an organization owned by an existing user (the instance superuser only)',
    tags: ['Organizations'],
    access: 'organization.create',
    scope: 'account',
    schema: { body: OrganizationCreateBody, response: { 201: Organization, 400: ErrorResponse, 403: ErrorResponse } },
    audit: ['organization.create'],
    handler: async ({ deps, audit, body, reply }) => {
      const org = await createOrganizationWithOwner(deps, audit, body);
      return reply.code(201).send({ id: org.id, title: org.title, contact_info: org.contact_info, created_at: org.created_at });
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/organizations/:id/transfer-ownership',
    summary: 'Hand your organization to another active member; you become an Administrator (the Owner only)',
    tags: ['Organizations'],
    access: 'members.transfer_ownership',
    scope: { organization: { param: 'id' } },
    schema: { params: IdParams, body: Type.Object({ user: Id() }, { additionalProperties: false }), response: { 200: OwnershipTransferred, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['organization.ownership_transfer'],
    handler: async ({ deps, actor, audit, params, body }) => transferOwnership(deps, actor, audit, { orgId: params.id, userId: body.user }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/current-user/active-organization',
    summary: 'Choose which of your organizations your requests act in (per request: the X-Labelvault-Organization header)',
    tags: ['Organizations'],
    access: 'account.self',
    scope: 'account',
    schema: { body: Type.Object({ organization: Id() }, { additionalProperties: false }), response: { 200: UserResponse, 400: ErrorResponse } },
    audit: ['user.active_organization'],
    handler: async ({ deps, actor, audit, body }) => userResponse(deps.db, await setActiveOrganization(deps, actor, audit, body.organization)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/invite',
    summary: "Your organization's invite link",
    tags: ['Invites'],
    access: 'invite.manage',
    scope: 'organization',
    schema: { response: { 200: Invite } },
    audit: ['invite.read'],
    handler: async ({ deps, actor, audit }) => {
      const invite = await getInvite(deps, actor);
      await audit(deps.db, { action: 'invite.read', objectType: 'organization', objectId: actor.organizationId });
      return invite;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/invite/reset-token',
    summary: 'Replace the invite link; the old link stops working',
    tags: ['Invites'],
    access: 'invite.manage',
    scope: 'organization',
    bodyless: 'the new link is generated',
    schema: { response: { 200: Invite } },
    audit: ['invite.reset'],
    handler: async ({ deps, actor, audit }) => resetInvite(deps, actor, audit),
  }),
];
