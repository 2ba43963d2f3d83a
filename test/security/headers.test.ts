/**
 * Security headers on every kind of response (API JSON, HTML page, 401, 404, 405, 400), only the
 * declared verbs per route, the JSON depth limit and the per-IP rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CSP } from '../../src/http/security-headers.js';
import { jsonTooDeep } from '../../src/http/limits.js';
import { call, startServer, type Res, type TestServer } from '../harness.js';
import { makeTeam } from '../factories.js';

const expectHardened = (r: Res, what: string) => {
  const h = (n: string) => r.headers.get(n);
  expect(h('x-content-type-options'), what).toBe('nosniff');
  expect(h('x-frame-options'), what).toBe('DENY');
  expect(h('referrer-policy'), what).toBe('same-origin');
  expect(h('cross-origin-opener-policy'), what).toBe('same-origin');
  expect(h('permissions-policy'), what).toMatch(/camera=\(\), microphone=\(\), geolocation=\(\)/);
  expect(h('content-security-policy'), what).toMatch(/default-src '(self|none)'/);
  expect(h('content-security-policy'), what).toContain('frame-ancestors');
  expect(h('access-control-allow-origin'), what).toBeNull();
};

describe('security headers', () => {
  let s: TestServer;
  let team: Awaited<ReturnType<typeof makeTeam>>;
  beforeAll(async () => {
    s = await startServer('sqlite');
    team = await makeTeam(s.deps);
  });
  afterAll(async () => s?.close());

  it('puts the strict app CSP and the other headers on API responses, errors included', async () => {
    const ok = await call(s, 'GET', '/api/projects', { token: team.manager.token });
    expect(ok.status).toBe(200);
    expectHardened(ok, 'GET /api/projects');
    expect(ok.headers.get('content-security-policy')).toBe(APP_CSP);
    for (const [method, path, status] of [
      ['GET', '/api/projects', 401],
      ['GET', '/api/no-such-thing', 404],
      ['PUT', '/api/version', 405],
    ] as const) {
      const r = await call(s, method, path);
      expect(r.status, `${method} ${path}`).toBe(status);
      expectHardened(r, `${method} ${path}`);
    }
  });

  it('has no unsafe-eval, no inline script and no wildcard source in the app CSP', () => {
    const directives = Object.fromEntries(APP_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['base-uri']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(APP_CSP).not.toMatch(/unsafe-eval|\*|https?:/);
  });

  it('puts the headers on the HTML setup page, which keeps its own stricter CSP', async () => {
    const r = await call(s, 'GET', '/user/setup');
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expectHardened(r, 'GET /user/setup');
    expect(r.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });

  it('puts the app CSP and the other headers on the web app page (served or "not built")', async () => {
    const r = await call(s, 'GET', '/projects');
    expect([200, 503]).toContain(r.status);
    expectHardened(r, 'GET /projects');
    expect(r.headers.get('content-security-policy')).toBe(APP_CSP);
    if (r.status === 200) expect(String(r.body)).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script for the CSP to block
  });

  it('sends no HSTS over plain HTTP', async () => {
    expect((await call(s, 'GET', '/api/version')).headers.get('strict-transport-security')).toBeNull();
  });

  it('answers 405 with Allow for verbs a route does not declare', async () => {
    const r = await call(s, 'DELETE', '/api/projects', { token: team.manager.token });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toContain('GET');
    expect(r.headers.get('allow')).toContain('POST');
    expect(r.headers.get('allow')).not.toContain('DELETE');
    const options = await call(s, 'OPTIONS', '/api/version');
    expect(options.status).toBe(405);
  });
});

describe('JSON depth limit', () => {
  let s: TestServer;
  let team: Awaited<ReturnType<typeof makeTeam>>;
  beforeAll(async () => {
    s = await startServer('sqlite', { JSON_MAX_DEPTH: '10' });
    team = await makeTeam(s.deps);
  });
  afterAll(async () => s?.close());

  it('counts nesting outside strings only', () => {
    expect(jsonTooDeep('[[[1]]]', 3)).toBe(false);
    expect(jsonTooDeep('[[[[1]]]]', 3)).toBe(true);
    expect(jsonTooDeep('{"a":"[[[[[[\\"[[[["}', 2)).toBe(false);
  });

  it('refuses a body nested deeper than JSON_MAX_DEPTH with 400, and accepts one within it', async () => {
    const nest = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const deep = await fetch(`${s.url}/api/projects`, { method: 'POST', headers: { authorization: `Token ${team.manager.token}`, 'content-type': 'application/json' }, body: `{"title":"deep","workspace":${team.workspaceId},"x":${nest(50_000)}}` });
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { code: string }).code).toBe('JSON_TOO_DEEP');
    const shallow = await call(s, 'POST', '/api/projects', { token: team.manager.token, body: { title: 'fine', workspace: team.workspaceId } });
    expect(shallow.status).toBe(201);
  });

  it('refuses an imported task nested deeper than JSON_MAX_DEPTH with 400 naming it (not a 500)', async () => {
    const project = await call(s, 'POST', '/api/projects', { token: team.manager.token, body: { title: 'import', workspace: team.workspaceId } });
    const nest = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const post = (body: string) => fetch(`${s.url}/api/projects/${project.body.id}/import`, { method: 'POST', headers: { authorization: `Token ${team.manager.token}`, 'content-type': 'application/json' }, body });
    const deep = await post(`[{"text":"t","x":${nest(5000)}}]`);
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { validation_errors: Record<string, string[]> }).validation_errors.tasks![0]).toMatch(/task 1: nests .* deeper than 10 levels/);
    expect((await post(`[{"text":"t","x":${nest(5)}}]`)).status).toBe(201);
  });
});

describe('rate limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer('sqlite', { API_RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => s?.close());

  it('answers 429 with Retry-After past the per-IP limit, and never limits /health', async () => {
    for (let i = 0; i < 5; i++) expect((await call(s, 'GET', '/api/version')).status).toBe(200);
    const limited = await call(s, 'GET', '/api/version');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expectHardened(limited, '429');
    expect((await call(s, 'GET', '/health')).status).toBe(200);
  });
});

describe('rate limit default', () => {
  it('is off under NODE_ENV=test unless set, 1200 per minute otherwise', async () => {
    const { loadConfig } = await import('../../src/config/config.js');
    expect(loadConfig({ NODE_ENV: 'test' }).limits.ratePerMinute).toBe(0);
    expect(loadConfig({}).limits.ratePerMinute).toBe(1200);
    expect(loadConfig({ API_RATE_LIMIT_PER_MINUTE: '0' }).limits.ratePerMinute).toBe(0);
  });
});
