/** Login, logout, signup, first-run setup and password change (JSON endpoints). */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { ErrorResponse, NoContent } from '../../http/common-schemas.js';
import { auditSourceOf } from '../../http/register.js';
import { defineRoute } from '../../http/route.js';
import { UserResponse } from '../users/users.schemas.js';
import { changeOwnPassword, userResponse } from '../users/users.service.js';
import { login, logout, signup, type LoginAccount } from './auth.service.js';
import { completeSetup } from './bootstrap.service.js';
import { CSRF_COOKIE, SESSION_COOKIE } from './sessions.service.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const Username = Type.String({ minLength: 1, maxLength: 150, pattern: '^[\\w.@+-]+$' });
const Name = Type.String({ maxLength: 256 });

const LoginResponse = Type.Object({ id: Type.Integer(), email: Type.String(), csrf_token: Type.String() }, { additionalProperties: false });

function cookieOptions(deps: AppDeps, req: FastifyRequest) {
  return {
    path: '/',
    sameSite: 'lax' as const,
    secure: deps.config.session.cookieSecure || req.protocol === 'https',
    maxAge: Math.floor(deps.config.session.maxAgeMs / 1000),
  };
}

function setSessionCookies(deps: AppDeps, req: FastifyRequest, reply: FastifyReply, session: string, csrf: string) {
  const opts = cookieOptions(deps, req);
  void reply.setCookie(SESSION_COOKIE, session, { ...opts, httpOnly: true });
  // Readable by the web app, which echoes it in X-CSRFToken; useless without the session cookie.
  void reply.setCookie(CSRF_COOKIE, csrf, { ...opts, httpOnly: false });
}

export const authRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/auth/login',
    summary: 'Log in with email and password; sets the session cookie',
    tags: ['Auth'],
    access: { public: 'this is how a user proves who they are' },
    schema: { body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Password }, { additionalProperties: false }), response: { 200: LoginResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse } },
    audit: ['auth.login', 'auth.login_failed'],
    handler: async ({ deps, body, req, reply, actor }) => {
      // The request log names the account tried (failed or not), not a session the browser had.
      const onAccount = (a: LoginAccount) => {
        req.logSubject = { organizationId: a.organizationId, userId: a.userId, email: a.email, authMethod: a.authenticated ? 'session' : 'anonymous' };
      };
      const result = await login(deps, auditSourceOf(req, null), { ...body, previousSessionId: actor?.sessionId, onAccount });
      setSessionCookies(deps, req, reply, result.sessionToken, result.csrfToken);
      return { id: result.userId, email: body.email.trim().toLowerCase(), csrf_token: result.csrfToken };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/auth/logout',
    summary: 'End the current session',
    tags: ['Auth'],
    access: 'account.self',
    scope: 'account',
    bodyless: 'logging out needs no input',
    schema: { response: { 204: NoContent } },
    audit: ['auth.logout'],
    handler: async ({ deps, actor, audit, reply }) => {
      await logout(deps, audit, actor.sessionId);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' }).clearCookie(CSRF_COOKIE, { path: '/' });
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/auth/signup',
    summary: "Sign up through an organization's invite link (token); the account waits for a role",
    tags: ['Auth'],
    access: { public: 'invitees have no account yet; the invite token is the credential' },
    schema: {
      body: Type.Object(
        { email: Email, password: Password, token: Type.Optional(Type.String({ maxLength: 200 })), username: Type.Optional(Username), first_name: Type.Optional(Name), last_name: Type.Optional(Name) },
        { additionalProperties: false },
      ),
      response: { 201: UserResponse, 400: ErrorResponse, 403: ErrorResponse },
    },
    audit: ['auth.signup'],
    handler: async ({ deps, body, audit, reply }) => {
      const user = await signup(deps, audit, body);
      return reply.code(201).send(user);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/auth/setup',
    summary: 'First-run setup: create the Owner with the one-time token the server printed',
    tags: ['Auth'],
    access: { public: 'no user exists yet; the printed one-time setup token is the credential' },
    schema: {
      body: Type.Object({ setup_token: Type.String({ minLength: 1, maxLength: 200 }), email: Email, password: Password, username: Type.Optional(Username) }, { additionalProperties: false }),
      response: { 201: UserResponse, 400: ErrorResponse, 403: ErrorResponse },
    },
    audit: ['user.create'],
    handler: async ({ deps, body, req, reply }) => {
      const user = await completeSetup(deps, auditSourceOf(req, null), body);
      return reply.code(201).send(await userResponse(deps.db, user));
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/current-user/change-password',
    summary: 'Change your password (ends your other sessions)',
    tags: ['Users'],
    access: 'account.self',
    scope: 'account',
    schema: { body: Type.Object({ old_password: Password, new_password: Password }, { additionalProperties: false }), response: { 204: NoContent, 400: ErrorResponse } },
    audit: ['auth.password_change', 'auth.password_change_failed'],
    handler: async ({ deps, actor, audit, body, req, reply }) => {
      await changeOwnPassword(deps, actor, audit, { ip: req.ip }, body);
      return reply.code(204).send();
    },
  }),
];
