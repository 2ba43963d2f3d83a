/**
 * buildApp(deps) → a Fastify instance with every plugin and route. main.ts listens with it;
 * tests build it too and drive it over HTTP.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import type { AppDeps } from './app-deps.js';
import { registerRequestLog, type RequestLogWriter } from './audit/request-log.js';
import { handleError } from './http/error-handler.js';
import { registerUsage, type UsageCollector } from './modules/usage/usage-collector.js';
import { AppError } from './http/errors.js';
import { loggerOptions } from './http/logging.js';
import { registerCors } from './http/cors.js';
import { jsonTooDeep, jsonTooDeepError, registerRateLimit } from './http/limits.js';
import { registerRoutes, type AuditWriter } from './http/register.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { allRoutes } from './routes.js';
import { registerWebApp } from './modules/web/web-app.plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    requestLog: RequestLogWriter;
    /** Null when COLLECT_ANALYTICS=false: nothing is counted. */
    usage: UsageCollector | null;
  }
}

export interface BuildOptions {
  /** Pino logger options override (tests pass `false` or a silent level). */
  logger?: boolean | object;
  /**
   * Replaces the audit recorder of the routes' own events. Only `bench/audit-http.bench.ts`
   * passes one (a no-op, to measure what auditing costs over HTTP); no setting reaches it.
   */
  recordAudit?: AuditWriter;
}

/** Reads a request body up to a limit (413 past it). */
async function readLimited(stream: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) throw new AppError(413, 'BODY_TOO_LARGE', `Request body is larger than ${limit} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A hop count becomes "trust the nearest N hops"; addresses pass through; false trusts nobody. */
function trustProxyOption(t: boolean | number | string[]) {
  return typeof t === 'number' ? (_addr: string, hop: number) => hop < t : t;
}

/** Builds the HTTP application. Does not listen. */
export async function buildApp(deps: AppDeps, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const tls = deps.config.tls;
  // With TLS files the server speaks HTTPS itself (main.ts adds the optional redirect listener).
  const https = tls && { key: fs.readFileSync(tls.keyFile), cert: fs.readFileSync(tls.certFile), minVersion: 'TLSv1.2' as const };
  const app = Fastify({
    ...(https && { https }),
    logger: opts.logger ?? loggerOptions(deps.config.logLevel),
    trustProxy: trustProxyOption(deps.config.server.trustProxy),
    bodyLimit: deps.config.server.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true, useDefaults: true } },
  }) as unknown as FastifyInstance;

  app.decorateRequest('actor', null);
  app.decorateRequest('scope', null);
  app.decorateRequest('auditRange', null);
  app.decorateRequest('sessionTokenHash', null);
  app.addHook('onSend', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    void reply.header('cache-control', reply.getHeader('cache-control') ?? 'no-store');
  });
  registerSecurityHeaders(app);
  registerCors(app, deps.config.cors.allowedOrigins);
  registerRateLimit(app, deps.config.limits.ratePerMinute, deps.redis && { redis: deps.redis, prefix: deps.config.redisKeyPrefix });
  deps.metrics?.instrument(app);

  // JSON bodies: prototype-poisoning safe; an empty body is an empty object (Label Studio's
  // clients POST with no body, e.g. to create a project with defaults). Routes that stream their
  // body (imports) get the raw stream and parse it themselves.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (req, payload, done) => {
    if ((req.routeOptions.config as { streamBody?: boolean } | undefined)?.streamBody) return done(null, payload);
    readLimited(payload, deps.config.server.bodyLimit)
      .then((text) => {
        if (text.trim() === '') return done(null, {});
        if (jsonTooDeep(text, deps.config.limits.jsonMaxDepth)) return done(jsonTooDeepError(deps.config.limits.jsonMaxDepth), undefined);
        try {
          done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
        } catch {
          done(new AppError(400, 'INVALID_JSON', 'Request body is not valid JSON.'), undefined);
        }
      })
      .catch((err: unknown) => done(err as Error, undefined));
  });
  await app.register(fastifyMultipart, {
    limits: { fileSize: deps.config.imports.maxFileBytes, files: 100, fields: 20, fieldSize: 64 * 1024, parts: 200, headerPairs: 200 },
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Labelvault API', version: deps.version, description: "Label Studio compatible API of Labelvault." },
      components: {
        securitySchemes: {
          Token: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Token <key> (also X-Api-Key: <key>)' },
          Bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          Session: { type: 'apiKey', in: 'cookie', name: 'lv_session' },
        },
      },
    },
  });

  app.decorate('requestLog', registerRequestLog(app, deps.db));
  app.decorate('usage', registerUsage(app, deps.db, deps.config.usage.collect));
  app.setErrorHandler(handleError);
  const matcher = registerRoutes(app, deps, allRoutes, opts.recordAudit);
  // The web app's pages and files: static serving outside the API (see web-app.plugin.ts).
  registerWebApp(app);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const allowed = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => matcher.find(m as 'GET', path) !== null);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({ status_code: 405, detail: `Method "${req.method}" not allowed.`, code: 'METHOD_NOT_ALLOWED' });
    }
    return reply.code(404).send({ status_code: 404, detail: 'Not found.', code: 'NOT_FOUND' });
  });
  return app;
}
