import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { roleTable } from '../authz/role-table.js';
import { envSchema, loadConfig } from './config.js';
import { configProblems } from '../../test/config-problems.js';

const problemsOf = (env: Record<string, string>) => configProblems(env);

describe('config', () => {
  it('defaults to the embedded, loopback-only setup', () => {
    const c = loadConfig({});
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.server.port).toBe(8080);
    expect(c.database.kind).toBe('sqlite');
    expect(c.signup.requireInviteLink).toBe(true);
    expect(c.server.trustProxy).toBe(false);
    expect(Object.isFrozen(c.session)).toBe(true);
  });

  it('picks PostgreSQL from DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@127.0.0.1/db' }).database).toMatchObject({ kind: 'postgres', url: 'postgres://u@127.0.0.1/db', sslMode: 'disable' });
  });

  it('accepts Label Studio style booleans in any case', () => {
    expect(loadConfig({ LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: 'False' }).signup.requireInviteLink).toBe(false);
    expect(loadConfig({ LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: '0' }).signup.requireInviteLink).toBe(false);
    expect(loadConfig({ SESSION_COOKIE_SECURE: 'YES' }).session.cookieSecure).toBe(true);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({ PORT: 'eighty', SESSION_COOKIE_SECURE: 'maybe', DATABASE_URL: 'mysql://x', SECRET_KEY: 'short' });
    const text = problems.join('\n');
    expect(text).toMatch(/PORT/);
    expect(text).toMatch(/SESSION_COOKIE_SECURE/);
    expect(problemsOf({ DATABASE_URL: 'mysql://x' }).join()).toMatch(/DATABASE_URL/);
    expect(problemsOf({ SECRET_KEY: 'short' }).join()).toMatch(/SECRET_KEY/);
  });

  it('refuses half-configured bootstrap credentials and a blanket TRUST_PROXY', () => {
    expect(problemsOf({ LABEL_STUDIO_PASSWORD: 'x' }).join()).toMatch(/LABEL_STUDIO_USERNAME/);
    expect(problemsOf({ TRUST_PROXY: 'true' }).join()).toMatch(/TRUST_PROXY/);
    expect(loadConfig({ TRUST_PROXY: '1' }).server.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.0.0.2' }).server.trustProxy).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('keeps the generated role tables in the README and docs/security.md in step with the permission table', () => {
    for (const file of ['../../docs/security.md', '../../README.md']) {
      const doc = fs.readFileSync(new URL(file, import.meta.url), 'utf8');
      expect(doc, `${file}: run npm run docs`).toContain(roleTable());
    }
  });

  it('documents every variable in .env.example and the README', () => {
    const example = fs.readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(envSchema.shape)) {
      expect(example, `.env.example lacks ${name}`).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
      expect(readme, `README lacks ${name}`).toContain(`\`${name}\``);
    }
  });
});
