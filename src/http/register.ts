/**
 * Registers route declarations on Fastify and enforces them: authentication, the permission
 * from the one table, CSRF for cookie-authenticated changes, and the declared audit actions.
 * Registration refuses a declaration missing its access rule, schemas or audit declaration.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import type { AppDeps } from '../app-deps.js';
import { recordAuditEvent, type AuditSource } from '../audit/recorder.js';
import { can, PERMISSIONS } from '../authz/permissions.js';
import { locate, objectRule, resolveObjectScope, type ResolvedScope } from '../authz/scope.js';
import { CSRF_HEADER } from '../modules/auth/sessions.service.js';
import { safeEqual } from '../security/secret-key.js';
import type { Actor } from './actor.js';
import { authenticate } from './authenticate.js';
import { AppError, forbidden, invalid, notFound, unauthenticated } from './errors.js';
import type { AnyRoute, AuditFn } from './route.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    scope: ResolvedScope | null;
    /** The ids of the first and last audit events this request recorded (null: none yet). */
    auditRange: { first: number; last: number } | null;
    /** The stored token hash of the browser session that authenticated this request (null: none). */
    sessionTokenHash: string | null;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Why a declaration is unacceptable, or null. Used at start-up and by the route meta-test. */
export function routeDeclarationProblem(r: AnyRoute): string | null {
  const name = `${r.method} ${r.url}`;
  if (!r.access) return `${name}: no access rule`;
  if (typeof r.access === 'string' && !(PERMISSIONS as readonly string[]).includes(r.access)) return `${name}: unknown permission ${r.access}`;
  if (typeof r.access === 'object' && !(typeof r.access.public === 'string' && r.access.public.length > 10)) return `${name}: public routes need a reason`;
  if (typeof r.access === 'string') {
    if (r.scope === undefined) return `${name}: no scope rule (how it finds its organization, workspace and project)`;
    try {
      const rule = objectRule(r.scope);
      if (rule && 'param' in rule.locator && !r.url.includes(`:${rule.locator.param}`)) return `${name}: scope reads a path parameter the path lacks (${rule.locator.param})`;
      if (rule && 'body' in rule.locator && r.streamedBody) return `${name}: a streamed body cannot locate the scope`;
    } catch (e) {
      return `${name}: ${(e as Error).message}`;
    }
  }
  if (!r.schema?.response || Object.keys(r.schema.response).length === 0) return `${name}: no response schema`;
  if (r.audit === undefined) return `${name}: no audit declaration`;
  if (UNSAFE.has(r.method) && !r.changesNothing && (r.audit === null || r.audit.length === 0)) return `${name}: changes must declare their audit actions`;
  if (UNSAFE.has(r.method) && !r.schema.body && r.method !== 'DELETE' && !r.bodyless && !r.streamedBody) return `${name}: no body schema`;
  return null;
}

/** Where the request came from, for audit events. */
export function auditSourceOf(req: FastifyRequest, actor: Actor | null): AuditSource {
  return {
    organizationId: actor?.organizationId ?? null,
    actorUserId: actor?.userId ?? null,
    actorEmail: actor?.email ?? 'anonymous',
    authMethod: actor?.authMethod ?? 'anonymous',
    ip: req.ip,
    userAgent: String(req.headers['user-agent'] ?? ''),
    requestId: String(req.id),
    onRecorded: (id) => {
      const r = req.auditRange;
      req.auditRange = r ? { first: Math.min(r.first, id), last: Math.max(r.last, id) } : { first: id, last: id };
    },
  };
}

/**
 * Public changes (login, signup, setup, token refresh) carry no CSRF token: they accept JSON only
 * (a cross-site HTML form cannot send it without a CORS preflight) and refuse requests the browser
 * marks as cross-site, so no other site can log a victim into an attacker's account.
 */
function refuseCrossSiteForm(req: FastifyRequest, formAllowed: boolean): void {
  if (req.headers['sec-fetch-site'] === 'cross-site') throw new AppError(403, 'CROSS_SITE', 'Cross-site requests are refused.');
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (formAllowed && type === 'application/x-www-form-urlencoded') return;
  if (type !== 'application/json') throw new AppError(415, 'JSON_ONLY', 'Send this request as application/json.');
}

/**
 * A multipart/form-data body as plain fields (Label Studio's clients may post forms, e.g. to
 * create a project); the schema then validates and coerces them. Files are refused here: only
 * the import routes take files.
 */
async function multipartFields(req: FastifyRequest): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  for await (const part of req.parts()) {
    if (part.type === 'file') throw new AppError(400, 'FILES_NOT_ACCEPTED', `This endpoint takes no files (got "${part.fieldname}").`);
    if (['__proto__', 'constructor', 'prototype'].includes(part.fieldname)) throw new AppError(400, 'FIELD_REFUSED', `The field "${part.fieldname}" is not allowed.`);
    fields[part.fieldname] = part.value;
  }
  return fields;
}

type SchemaNode = { type?: string; anyOf?: SchemaNode[]; properties?: Record<string, SchemaNode> };

/** The query parameters a schema declares as booleans. */
function booleanKeys(schema: unknown): string[] {
  const props = (schema as SchemaNode | undefined)?.properties ?? {};
  return Object.entries(props)
    .filter(([, p]) => p.type === 'boolean' || p.anyOf?.some((x) => x.type === 'boolean'))
    .map(([k]) => k);
}

const BOOLEAN_WORDS: Record<string, string> = { true: 'true', false: 'false', '1': 'true', '0': 'false', yes: 'true', no: 'false' };

/** Rewrites True/False/1/0 (any case) to the true/false the schema validator accepts. */
function normaliseQueryBooleans(query: Record<string, unknown> | undefined, keys: string[]): void {
  if (!query) return;
  for (const k of keys) {
    const v = query[k];
    if (typeof v === 'string' && BOOLEAN_WORDS[v.toLowerCase()]) query[k] = BOOLEAN_WORDS[v.toLowerCase()];
  }
}

function checkCsrf(deps: AppDeps, req: FastifyRequest, sessionTokenHash: string): void {
  const given = req.headers[CSRF_HEADER];
  const expected = deps.secrets.mac('csrf', sessionTokenHash);
  if (typeof given !== 'string' || !safeEqual(given, expected)) {
    throw new AppError(403, 'CSRF_FAILED', 'CSRF Failed: CSRF token missing or incorrect.');
  }
}

/**
 * Resolves the route's scope (404 for objects the actor may not see, recorded when they exist)
 * and then checks its permission (403 naming it). Stores the scope on the request.
 */
async function authorize(deps: AppDeps, def: AnyRoute, req: FastifyRequest, actor: Actor): Promise<void> {
  const rule = objectRule(def.scope);
  let scope: ResolvedScope = { organizationId: actor.organizationId, workspaceId: null, project: null };
  if (rule) {
    const id = locate(rule.locator, req);
    const key = 'param' in rule.locator ? rule.locator.param : 'query' in rule.locator ? rule.locator.query : rule.locator.body;
    if (id === undefined && !rule.optional) throw invalid({ [key]: ['This field is required.'] });
    if (Number.isNaN(id)) throw invalid({ [key]: ['A valid id (an integer from 1 to 2147483647) is required.'] });
    const outcome = await resolveObjectScope(deps.db, actor, rule.kind, id);
    if ('hidden' in outcome) {
      if (outcome.exists) {
        await recordAuditEvent(deps.db, deps.secrets, auditSourceOf(req, actor), {
          action: 'permission.denied',
          objectType: rule.kind,
          objectId: String(id),
          changes: { route: `${def.method} ${def.url}`, reason: 'not visible to the caller', role: actor.role },
        });
      }
      throw notFound(outcome.hidden);
    }
    scope = outcome.ok;
  }
  if (!can(actor, def.access)) {
    await recordAuditEvent(deps.db, deps.secrets, auditSourceOf(req, actor), {
      action: 'permission.denied',
      objectType: rule?.kind ?? 'route',
      objectId: rule ? String(locate(rule.locator, req) ?? '') || null : `${def.method} ${def.url}`,
      projectId: scope.project?.id ?? null,
      changes: { route: `${def.method} ${def.url}`, permission: def.access, role: actor.role },
    });
    throw forbidden(`You do not have permission to perform this action (it needs "${def.access}").`);
  }
  req.scope = scope;
}

/** Registers the routes and returns a matcher of all their paths (for 405 answers). */
/** The recorder the routes' events go to: recordAuditEvent, or a benchmark's stand-in (see BuildOptions). */
export type AuditWriter = typeof recordAuditEvent;

export function registerRoutes(app: FastifyInstance, deps: AppDeps, routes: readonly AnyRoute[], writeAudit: AuditWriter = recordAuditEvent): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
  const matcher = FindMyWay({ ignoreTrailingSlash: true });
  const problems = routes.map(routeDeclarationProblem).filter((p): p is string => p !== null);
  if (problems.length > 0) throw new Error(`Refusing to start with bad route declarations:\n${problems.join('\n')}`);

  for (const def of routes) {
    matcher.on(def.method, def.url, () => undefined);
    if (def.method === 'GET') matcher.on('HEAD', def.url, () => undefined);
    const isPublic = typeof def.access === 'object';
    const boolKeys = booleanKeys(def.schema.querystring);
    const rule = isPublic ? null : objectRule(def.scope);
    const bodyScoped = rule !== null && 'body' in rule.locator;
    app.route({
      method: def.method,
      url: def.url,
      config: { streamBody: def.streamedBody !== undefined },
      schema: {
        summary: def.summary,
        tags: def.tags,
        ...(def.schema.params && { params: def.schema.params }),
        ...(def.schema.querystring && { querystring: def.schema.querystring }),
        ...(def.schema.body && { body: def.schema.body }),
        response: def.schema.response,
        ...(!isPublic && { security: [{ Token: [] }, { Bearer: [] }, { Session: [] }] }),
      },
      // Label Studio's clients POST some bodies empty and without a content type: that is `{}`;
      // Python clients write query booleans as True/False or 1/0.
      preValidation: async (req) => {
        if (req.body === undefined && def.schema.body) req.body = req.isMultipart() ? await multipartFields(req) : {};
        normaliseQueryBooleans(req.query as Record<string, unknown>, boolKeys);
      },
      // Who is calling is settled before the body is even read: an anonymous or unauthorised
      // request is refused without its body being parsed or validated.
      onRequest: async (req, reply) => {
        if (isPublic) {
          if (UNSAFE.has(def.method)) refuseCrossSiteForm(req, def.htmlForm !== undefined);
          req.actor = (await authenticate(deps, req, reply).catch(() => null))?.actor ?? null;
          return;
        }
        const auth = await authenticate(deps, req, reply);
        if (!auth) throw unauthenticated();
        if (auth.sessionTokenHash !== undefined && UNSAFE.has(def.method) && !def.csrfExempt) checkCsrf(deps, req, auth.sessionTokenHash);
        req.actor = auth.actor;
        req.sessionTokenHash = auth.sessionTokenHash ?? null;
        // Scopes found in the path or query are settled before the body is read; a scope named
        // in the body waits for the body to be validated (preHandler).
        if (!bodyScoped) await authorize(deps, def, req, auth.actor);
      },
      preHandler: async (req) => {
        if (bodyScoped) await authorize(deps, def, req, req.actor!);
      },
      handler: async (req, reply) => {
        const audit: AuditFn = (db, details) => {
          if (!def.audit?.includes(details.action)) throw new Error(`${def.method} ${def.url} did not declare audit action ${details.action}`);
          return writeAudit(db, deps.secrets, auditSourceOf(req, req.actor), details);
        };
        const result = await def.handler({ params: req.params, query: req.query, body: req.body, actor: req.actor, scope: req.scope ?? null, deps, audit, req, reply });
        if (reply.sent) return reply;
        return result;
      },
    });
  }
  return matcher;
}
