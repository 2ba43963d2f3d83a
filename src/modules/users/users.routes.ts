/** The current user, users of the organization, and the legacy API token. */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, IdParams } from '../../http/common-schemas.js';
import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { findUserById } from './users.repository.js';
import { permissionsOf, UserCreateBody, UserPatchBody, UserResponse, WhoAmIResponse } from './users.schemas.js';
import { createUser, getOwnToken, getVisibleUser, listUsers, resetOwnToken, updateUser, userResponse } from './users.service.js';

const TokenResponse = Type.Object({ token: Type.String() }, { additionalProperties: false });

const me = defineRoute({
  method: 'GET',
  url: '/api/current-user/whoami',
  summary: 'The account this request is authenticated as',
  tags: ['Users'],
  access: 'account.self',
  scope: 'account',
  schema: { response: { 200: WhoAmIResponse } },
  audit: null,
  handler: async ({ deps, actor }) => {
    const user = await findUserById(deps.db, actor.userId);
    if (!user) throw notFound();
    const org = await deps.db
      .selectFrom('organizations as o')
      .leftJoin('users as c', 'c.id', 'o.created_by_id')
      .select(['o.title', 'c.email'])
      .where('o.id', '=', actor.organizationId)
      .executeTakeFirstOrThrow();
    return {
      ...(await userResponse(deps.db, user)),
      permissions: permissionsOf(actor.role),
      active_organization_meta: { title: org.title, email: org.email ?? '' },
      pause: null,
    };
  },
});

export const usersRoutes = [
  me,
  { ...me, url: '/api/current-user', summary: 'The current user (Label Studio Enterprise path)' },
  defineRoute({
    method: 'PATCH',
    url: '/api/current-user',
    summary: 'Update your own profile',
    tags: ['Users'],
    access: 'account.self',
    scope: 'account',
    schema: { body: UserPatchBody, response: { 200: UserResponse, 400: ErrorResponse } },
    audit: ['user.update'],
    handler: async ({ deps, actor, audit, body }) => updateUser(deps, actor, audit, actor.userId, body),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/current-user/token',
    summary: 'Your API token, shown to you only',
    tags: ['Users'],
    access: 'account.self',
    scope: 'account',
    schema: { response: { 200: TokenResponse, 404: ErrorResponse } },
    audit: ['token.read'],
    handler: async ({ deps, actor, audit }) => {
      const token = await getOwnToken(deps, actor);
      await audit(deps.db, { action: 'token.read', objectType: 'user', objectId: actor.userId });
      return { token };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/current-user/reset-token',
    summary: 'Issue a new API token; the old one stops working at once',
    tags: ['Users'],
    access: 'account.self',
    scope: 'account',
    bodyless: 'resets the caller’s own token',
    schema: { response: { 201: TokenResponse } },
    audit: ['token.reset'],
    handler: async ({ deps, actor, audit, reply }) => reply.code(201).send({ token: await resetOwnToken(deps, actor, audit) }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/users',
    summary: 'Users of your organization',
    tags: ['Users'],
    access: 'members.view',
    scope: 'organization',
    schema: { querystring: Type.Object({ ordering: Type.Optional(Type.String({ maxLength: 50 })) }, { additionalProperties: false }), response: { 200: Type.Array(UserResponse) } },
    audit: null,
    handler: async ({ deps, actor }) => listUsers(deps.db, actor),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/users',
    summary: 'Add a user to your organization (as Annotator)',
    tags: ['Users'],
    access: 'users.create',
    scope: 'organization',
    schema: { body: UserCreateBody, response: { 201: UserResponse, 400: ErrorResponse } },
    audit: ['user.create'],
    handler: async ({ deps, actor, audit, body, reply }) => reply.code(201).send(await createUser(deps, actor, audit, body)),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/users/:id',
    summary: 'One user: yourself, or a member of your organization',
    tags: ['Users'],
    access: 'account.self',
    scope: 'organization',
    schema: { params: IdParams, response: { 200: UserResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => userResponse(deps.db, await getVisibleUser(deps.db, actor, params.id)),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/users/:id',
    summary: "Update a profile: your own, or (Administrators) a member's",
    tags: ['Users'],
    access: 'account.self',
    scope: 'organization',
    schema: { params: IdParams, body: UserPatchBody, response: { 200: UserResponse, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
    audit: ['user.update'],
    handler: async ({ deps, actor, audit, params, body }) => updateUser(deps, actor, audit, params.id, body),
  }),
];
