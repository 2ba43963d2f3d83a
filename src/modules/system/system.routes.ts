/** Health (alive), readiness (dependencies), Prometheus metrics, version and the OpenAPI document. */
import { Type } from '@sinclair/typebox';
import { AppError, notFound } from '../../http/errors.js';
import { bearerMatches } from '../../http/metrics.js';
import { defineRoute } from '../../http/route.js';
import { readiness } from './readiness.service.js';

/** The readiness check, also served by a worker's probe listener (processes.ts). */
export { readiness };

const Health = Type.Object({ status: Type.String() }, { additionalProperties: false });
const Ready = Type.Object(
  {
    status: Type.Union([Type.Literal('READY'), Type.Literal('NOT_READY')]),
    checks: Type.Object(
      {
        database: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('migrations_pending')]),
        redis: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('not_configured')]),
        data_dir: Type.Union([Type.Literal('up'), Type.Literal('down')], { description: 'The data folder (uploads, import spool) accepts a write' }),
        file_storage: Type.Union([Type.Literal('up'), Type.Literal('down')], { description: 'The export snapshot file store (FILE_STORAGE) accepts a write; project storages are never checked' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const systemRoutes = [
  defineRoute({
    method: 'GET',
    url: '/health',
    summary: 'Liveness: 200 {"status": "UP"} while the process runs and its event loop answers; never checks the database, Redis or storage (GET /ready does)',
    tags: ['System'],
    access: { public: 'load balancers, orchestrators and the Label Studio SDK check_connection() call it unauthenticated' },
    schema: { response: { 200: Health } },
    audit: null,
    // Liveness only: an orchestrator restarts a process that fails it, and restarting every pod
    // because the database or Redis is down would cure nothing. Answering at all shows the event
    // loop is not blocked (the probe's timeout catches one that is).
    handler: async () => ({ status: 'UP' }),
  }),
  defineRoute({
    method: 'GET',
    url: '/ready',
    summary: 'Readiness: 200 once the database answers with every migration applied, Redis (when REDIS_URL is set) answers, and the data folder and the export file store accept a write; else 503',
    tags: ['System'],
    access: { public: 'load balancers and orchestrators probe it unauthenticated; it tells only which dependency is down' },
    schema: { response: { 200: Ready, 503: Ready } },
    audit: null,
    handler: async ({ deps, reply }) => {
      const r = await readiness(deps);
      return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'READY' : 'NOT_READY', checks: r.checks });
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics (request latency by route, job queue depth and durations, tasks imported and exported, storage objects synced); 404 unless METRICS_ENABLED',
    tags: ['System'],
    access: {
      public: 'scrapers hold no user account: the handler itself requires METRICS_TOKEN as a bearer token (401 without it), and the route answers 404 while metrics are off',
    },
    schema: { response: { 200: Type.String({ description: 'Prometheus text exposition format' }), 401: Type.Object({}, { additionalProperties: true }), 404: Type.Object({}, { additionalProperties: true }) } },
    audit: null,
    handler: async ({ deps, req, reply }) => {
      if (!deps.metrics || deps.config.metrics === null) throw notFound();
      if (!bearerMatches(req.headers.authorization, deps.config.metrics.token)) {
        void reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new AppError(401, 'METRICS_TOKEN_INVALID', 'Send METRICS_TOKEN as Authorization: Bearer <token>.');
      }
      const { contentType, body } = await deps.metrics.render();
      return reply.header('content-type', contentType).send(body);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/version',
    summary: 'Server version (Label Studio clients read edition and release)',
    tags: ['System'],
    access: { public: 'Label Studio SDK clients call it before authenticating' },
    schema: {
      response: {
        200: Type.Object(
          { release: Type.String(), edition: Type.String(), product: Type.String(), 'label-studio-os-package': Type.Object({ version: Type.String() }, { additionalProperties: false }) },
          { additionalProperties: false },
        ),
      },
    },
    audit: null,
    handler: async ({ deps }) => ({
      release: deps.version,
      // Not "Enterprise": Label Studio's SDK then uses the community export path, which we serve.
      edition: 'Community',
      product: 'labelvault',
      'label-studio-os-package': { version: deps.version },
    }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/schema',
    summary: 'OpenAPI 3.1 document generated from the route schemas',
    tags: ['System'],
    access: { public: 'the API description holds no data; clients generate code from it' },
    schema: { response: { 200: Type.Object({}, { additionalProperties: true }) } },
    audit: null,
    handler: async ({ req }) => {
      const doc = (req.server as unknown as { swagger?: () => object }).swagger?.();
      if (!doc) throw new AppError(503, 'SCHEMA_UNAVAILABLE', 'The API description is not ready.');
      return doc;
    },
  }),
];
