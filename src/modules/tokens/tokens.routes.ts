/** Personal access tokens (JWT), as Label Studio's newer SDK uses them. */
import { Type } from '@sinclair/typebox';
import { ErrorResponse } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { createPersonalToken, listPersonalTokens, refreshAccessToken, revokePersonalToken } from './personal-token.service.js';

const TokenInfo = Type.Object({ jti: Type.String(), token: Type.String(), created_at: Type.String(), expires_at: Type.String() }, { additionalProperties: false });
const RevokeBody = Type.Union([
  Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }),
  Type.Object({ jti: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
]);
const RefreshBody = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });

export const tokensRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/token',
    summary: 'Your live personal access tokens (unsigned part only: they cannot be replayed)',
    tags: ['Tokens'],
    access: 'account.self',
    scope: 'account',
    schema: { response: { 200: Type.Array(TokenInfo) } },
    audit: null,
    handler: async ({ deps, actor }) => listPersonalTokens(deps.db, actor.userId),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/token',
    summary: 'Create a personal access token (shown once)',
    tags: ['Tokens'],
    access: 'account.self',
    scope: 'account',
    bodyless: 'the token is generated; nothing to choose',
    schema: { response: { 201: TokenInfo } },
    audit: ['token.pat_create'],
    handler: async ({ deps, actor, audit, reply }) => {
      const created = await deps.db.transaction().execute(async (trx) => {
        const t = await createPersonalToken(deps, trx, actor.userId);
        await audit(trx, { action: 'token.pat_create', objectType: 'personal_token', objectId: t.jti, changes: { expires_at: t.expires_at } });
        return t;
      });
      return reply.code(201).send(created);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/token/refresh',
    summary: 'Exchange a personal access token for a short-lived access token',
    tags: ['Tokens'],
    access: { public: 'the personal access token in the body is the credential' },
    schema: { body: RefreshBody, response: { 200: Type.Object({ access: Type.String() }, { additionalProperties: false }), 401: ErrorResponse } },
    audit: ['token.pat_refresh'],
    handler: async ({ deps, body, audit }) => {
      const { access, jti, userId } = await refreshAccessToken(deps, body.refresh);
      await audit(deps.db, { action: 'token.pat_refresh', objectType: 'personal_token', objectId: jti, changes: { user_id: userId } });
      return { access };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/token/blacklist',
    summary: 'Revoke one of your personal access tokens (by the token, or by the jti the list shows)',
    tags: ['Tokens'],
    access: 'account.self',
    scope: 'account',
    schema: { body: RevokeBody, response: { 204: Type.Null(), 404: ErrorResponse } },
    audit: ['token.pat_revoke'],
    handler: async ({ deps, actor, audit, body, reply }) => {
      await deps.db.transaction().execute(async (trx) => {
        const jti = await revokePersonalToken(deps, trx, body, actor.userId);
        await audit(trx, { action: 'token.pat_revoke', objectType: 'personal_token', objectId: jti });
      });
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/token/rotate',
    summary: 'Replace one of your personal access tokens with a new one',
    tags: ['Tokens'],
    access: 'account.self',
    scope: 'account',
    schema: { body: RefreshBody, response: { 200: Type.Object({ refresh: Type.String() }, { additionalProperties: false }), 400: ErrorResponse, 404: ErrorResponse } },
    audit: ['token.pat_rotate'],
    handler: async ({ deps, actor, audit, body }) =>
      deps.db.transaction().execute(async (trx) => {
        const old = await revokePersonalToken(deps, trx, { refresh: body.refresh }, actor.userId);
        const t = await createPersonalToken(deps, trx, actor.userId);
        await audit(trx, { action: 'token.pat_rotate', objectType: 'personal_token', objectId: t.jti, changes: { replaced: old } });
        return { refresh: t.token };
      }),
  }),
];
