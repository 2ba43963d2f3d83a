/** First start: the one-time setup token, and bootstrap credentials checked by variable name. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { openDeps } from '../../src/deps.js';
import { bootstrapInstance } from '../../src/modules/auth/bootstrap.service.js';
import { baseEnv, call, DIALECTS, startServer, type TestServer } from '../harness.js';

describe.each(DIALECTS)('first-run setup on %s', (dialect) => {
  let s: TestServer;
  let setupToken: string;
  beforeAll(async () => {
    s = await startServer(dialect);
    setupToken = (await bootstrapInstance(s.deps)).setupToken!;
  });
  afterAll(async () => s?.close());

  it('creates the Owner once with the printed token, then refuses the token', async () => {
    expect(setupToken).toMatch(/^[\w-]{20,}$/);
    const wrong = await call(s, 'POST', '/api/auth/setup', { body: { setup_token: 'x'.repeat(32), email: 'boss@example.test', password: 'Sturdy-Passphrase-1' } });
    expect(wrong.status).toBe(403);
    const weak = await call(s, 'POST', '/api/auth/setup', { body: { setup_token: setupToken, email: 'boss@example.test', password: 'letmein1' } });
    expect(weak.status).toBe(400);
    expect(weak.body.validation_errors).toHaveProperty('password');
    const race = await Promise.all(
      ['boss@example.test', 'rival@example.test'].map((email) => call(s, 'POST', '/api/auth/setup', { body: { setup_token: setupToken, email, password: 'Sturdy-Passphrase-1' } })),
    );
    expect(race.map((r) => r.status).sort()).toEqual([201, 403]);
    const owner = race.find((r) => r.status === 201)!.body;
    expect(owner).toMatchObject({ is_superuser: true, organization_membership: { role: 'OW' } });
    expect((await call(s, 'POST', '/api/auth/setup', { body: { setup_token: setupToken, email: 'late@example.test', password: 'Sturdy-Passphrase-1' } })).status).toBe(403);
  });
});

describe('first-run setup page', () => {
  let s: TestServer;
  let setupToken: string;
  beforeAll(async () => {
    s = await startServer('sqlite');
    setupToken = (await bootstrapInstance(s.deps)).setupToken!;
  });
  afterAll(async () => s?.close());

  const post = (fields: Record<string, string>) =>
    fetch(`${s.url}/user/setup`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

  it('shows a script-free form and creates the Owner from it once', async () => {
    const get = await fetch(`${s.url}/user/setup?token=${setupToken}`);
    expect(get.headers.get('content-type')).toMatch(/text\/html/);
    expect(get.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await get.text();
    expect(html).toContain(`value="${setupToken}"`);
    expect(html).not.toMatch(/<script/i);
    const xss = await (await fetch(`${s.url}/user/setup?token=${encodeURIComponent('"><script>alert(1)</script>')}`)).text();
    expect(xss).not.toContain('<script>alert(1)</script>');

    const weak = await post({ setup_token: setupToken, email: 'boss@example.test', password: 'password1' });
    expect(weak.status).toBe(400);
    expect(await weak.text()).toMatch(/too common/);
    const ok = await post({ setup_token: setupToken, email: 'boss@example.test', password: 'Sturdy-Passphrase-1' });
    expect(ok.status).toBe(201);
    expect(await ok.text()).toContain('boss@example.test');
    expect((await post({ setup_token: setupToken, email: 'late@example.test', password: 'Sturdy-Passphrase-1' })).status).toBe(403);
    expect((await call(s, 'POST', '/api/auth/login', { body: { email: 'boss@example.test', password: 'Sturdy-Passphrase-1' } })).status).toBe(200);
  });
});

describe('bootstrap credentials', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('names LABEL_STUDIO_PASSWORD when the bootstrap password is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-boot-'));
    dirs.push(dir);
    const deps = await openDeps(loadConfig({ ...baseEnv(dir), LABEL_STUDIO_USERNAME: 'admin@example.test', LABEL_STUDIO_PASSWORD: 'password123' }));
    try {
      const err = await bootstrapInstance(deps).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/LABEL_STUDIO_PASSWORD: .*too common/);
    } finally {
      await deps.close();
    }
  });
});
