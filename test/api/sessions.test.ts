/** Session lifetime and cookie flags: idle and absolute expiry, Secure behind a trusted proxy only. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cookiesFrom, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeMember, PASSWORD } from '../factories.js';

const sessionCookie = (setCookies: string[]) => setCookies.find((c) => c.startsWith('lv_session='))!;

describe.each(DIALECTS)('session lifetime on %s', (dialect) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(dialect, { SESSION_IDLE_TIMEOUT_MINUTES: '30', SESSION_MAX_AGE_HOURS: '8' });
  });
  afterAll(async () => s?.close());

  const login = async () => {
    const m = await makeMember(s.deps, 1, 'AN');
    const r = await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: PASSWORD } });
    const row = await s.deps.db.selectFrom('sessions').select('id').where('user_id', '=', m.id).executeTakeFirstOrThrow();
    return { cookie: cookiesFrom(r), sessionId: row.id };
  };

  it('ends a session idle for longer than the idle timeout', async () => {
    const { cookie, sessionId } = await login();
    expect((await call(s, 'GET', '/api/current-user/whoami', { cookie })).status).toBe(200);
    await s.deps.db.updateTable('sessions').set({ last_seen_at: new Date(Date.now() - 31 * 60_000).toISOString() }).where('id', '=', sessionId).execute();
    expect((await call(s, 'GET', '/api/current-user/whoami', { cookie })).status).toBe(401);
    expect(await s.deps.db.selectFrom('sessions').select('id').where('id', '=', sessionId).executeTakeFirst()).toBeUndefined();
  });

  it('ends an active session at its absolute expiry', async () => {
    const { cookie, sessionId } = await login();
    await s.deps.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', sessionId).execute();
    expect((await call(s, 'GET', '/api/current-user/whoami', { cookie })).status).toBe(401);
  });
});

describe('session cookie flags', () => {
  const servers: TestServer[] = [];
  afterAll(async () => Promise.all(servers.map((x) => x.close())));

  const cookieWith = async (env: Record<string, string>, headers: Record<string, string>) => {
    const s = await startServer('sqlite', env);
    servers.push(s);
    const m = await makeMember(s.deps, 1, 'AN');
    const r = await call(s, 'POST', '/api/auth/login', { headers, body: { email: m.email, password: PASSWORD } });
    expect(r.status).toBe(200);
    return sessionCookie(r.headers.getSetCookie());
  };

  it('ignores X-Forwarded-Proto unless TRUST_PROXY says the proxy is trusted', async () => {
    expect(await cookieWith({}, { 'x-forwarded-proto': 'https' })).not.toMatch(/Secure/i);
    const trusted = await cookieWith({ TRUST_PROXY: '1' }, { 'x-forwarded-proto': 'https' });
    expect(trusted).toMatch(/Secure/i);
    expect(trusted).toMatch(/HttpOnly/i);
  });

  it('marks cookies Secure always with SESSION_COOKIE_SECURE=true', async () => {
    expect(await cookieWith({ SESSION_COOKIE_SECURE: 'true' }, {})).toMatch(/Secure/i);
  });
});
