/**
 * CORS from a foreign origin: no Access-Control-Allow-Origin, preflight refused, by default and
 * when the origin is not listed; a listed origin gets its own origin echoed (never `*`) with
 * credentials, and its preflight answered. The allowlist refuses wildcards and paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { call, startServer, type TestServer } from '../harness.js';
import { makeTeam } from '../factories.js';

const LISTED = 'https://labeling.example.test';
const FOREIGN = 'https://evil.example.test';

const preflight = (s: TestServer, origin: string, method = 'PATCH') =>
  call(s, 'OPTIONS', '/api/projects', { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type, x-evil' } });

describe('CORS with no CORS_ALLOWED_ORIGINS (the default)', () => {
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    s = await startServer('sqlite');
    token = (await makeTeam(s.deps)).manager.token;
  });
  afterAll(async () => s?.close());

  it('gives a foreign origin no CORS headers and refuses its preflight', async () => {
    const r = await call(s, 'GET', '/api/projects', { token, headers: { origin: FOREIGN } });
    expect(r.status).toBe(200); // the server answers; the browser withholds it from the page
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    const p = await preflight(s, FOREIGN);
    expect(p.status).toBe(403);
    expect(p.headers.get('access-control-allow-origin')).toBeNull();
    expect(p.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('CORS with CORS_ALLOWED_ORIGINS', () => {
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    s = await startServer('sqlite', { CORS_ALLOWED_ORIGINS: `${LISTED}, http://localhost:5173` });
    token = (await makeTeam(s.deps)).manager.token;
  });
  afterAll(async () => s?.close());

  it('echoes a listed origin with credentials, never *', async () => {
    const r = await call(s, 'GET', '/api/projects', { token, headers: { origin: LISTED } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(r.headers.get('access-control-allow-credentials')).toBe('true');
    expect(r.headers.get('vary')).toMatch(/Origin/i);
  });

  it('answers a listed origin’s preflight with the allowed methods and only known headers', async () => {
    const p = await preflight(s, LISTED);
    expect(p.status).toBe(204);
    expect(p.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(p.headers.get('access-control-allow-credentials')).toBe('true');
    expect(p.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(p.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
  });

  it('gives an unlisted origin nothing, and refuses its preflight (also look-alike origins)', async () => {
    for (const origin of [FOREIGN, `${LISTED}.evil.test`, 'http://labeling.example.test', 'null', 'https://labeling.example.test:8443']) {
      const r = await call(s, 'GET', '/api/projects', { token, headers: { origin } });
      expect(r.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(r.headers.get('access-control-allow-credentials'), origin).toBeNull();
      const p = await preflight(s, origin);
      expect(p.status, origin).toBe(403);
      expect(p.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('keeps 405 for OPTIONS without a preflight, and CORS headers on errors of a listed origin', async () => {
    expect((await call(s, 'OPTIONS', '/api/projects')).status).toBe(405);
    const r = await call(s, 'GET', '/api/projects', { headers: { origin: LISTED } });
    expect(r.status).toBe(401);
    expect(r.headers.get('access-control-allow-origin')).toBe(LISTED);
  });
});

describe('CORS_ALLOWED_ORIGINS validation', () => {
  it('refuses a wildcard, a path, a trailing slash and a non-URL, naming the variable', () => {
    for (const bad of ['*', 'https://a.example/', 'https://a.example/app', 'a.example', 'https://*.example.com']) {
      expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: bad }), bad).toThrow(/CORS_ALLOWED_ORIGINS/);
    }
    expect(loadConfig({ CORS_ALLOWED_ORIGINS: 'https://A.example, http://localhost:5173' }).cors.allowedOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
  });
});
