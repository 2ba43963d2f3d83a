/**
 * The one-time setup page the server prints a link to on first start (no user yet): a plain
 * HTML form, no script, that creates the Owner with the printed token. It stops working once
 * the Owner exists.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { AppError } from '../../http/errors.js';
import { auditSourceOf } from '../../http/register.js';
import { defineRoute } from '../../http/route.js';
import { completeSetup } from './bootstrap.service.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(reply: FastifyReply, status: number, body: string) {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Labelvault setup</title></head><body><h1>Labelvault setup</h1>${body}</body></html>`);
}

const form = (token: string, error?: string) =>
  `${error ? `<p role="alert"><strong>${escapeHtml(error)}</strong></p>` : '<p>Create the Owner account of this Labelvault instance.</p>'}
<form method="post" action="/user/setup">
<input type="hidden" name="setup_token" value="${escapeHtml(token)}">
<p><label>Email <input type="email" name="email" required maxlength="254" autocomplete="username"></label></p>
<p><label>Password (at least 8 characters, not a common one) <input type="password" name="password" required minlength="8" maxlength="128" autocomplete="new-password"></label></p>
<p><button type="submit">Create the Owner</button></p>
</form>`;

const Html = Type.String({ description: 'An HTML page' });

export const setupPageRoutes = [
  defineRoute({
    method: 'GET',
    url: '/user/setup',
    summary: 'The first-run setup page (a form; the token comes from the server console)',
    tags: ['Auth'],
    access: { public: 'no user exists yet; the page only shows a form, the token it carries is checked on submit' },
    schema: { querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }), response: { 200: Html } },
    audit: null,
    handler: async ({ query, reply }) => page(reply, 200, form(query.token ?? '')),
  }),
  defineRoute({
    method: 'POST',
    url: '/user/setup',
    summary: 'Submit the first-run setup form',
    tags: ['Auth'],
    access: { public: 'no user exists yet; the one-time setup token in the form is the credential' },
    htmlForm: 'a forged cross-site post cannot know the one-time setup token, so it can create nothing',
    schema: {
      body: Type.Object({ setup_token: Type.String({ maxLength: 200 }), email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }),
      response: { 201: Html, 400: Html, 403: Html },
    },
    audit: ['user.create'],
    handler: async ({ deps, body, req, reply }) => {
      try {
        const owner = await completeSetup(deps, auditSourceOf(req, null), body);
        return page(reply, 201, `<p>The Owner account <strong>${escapeHtml(owner.email)}</strong> is ready. Sign in with <code>POST /api/auth/login</code> (the web app arrives in a later release).</p>`);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const detail = err.validationErrors ? Object.values(err.validationErrors).flat().join(' ') : err.message;
        return page(reply, err.status === 403 ? 403 : 400, err.status === 403 ? `<p role="alert">${escapeHtml(err.message)}</p>` : form(body.setup_token, detail));
      }
    },
  }),
];
