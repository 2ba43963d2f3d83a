/**
 * The foundation over HTTP, on a real SQLite file and on a real PostgreSQL database: the same
 * suite, once per dialect. Refused cases sit next to the allowed ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/chain.js';
import { sealPending } from '../../src/audit/sealer.js';
import { call, cookiesFrom, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeMember, makeOrganization, PASSWORD } from '../factories.js';

const OWNER_EMAIL = 'owner@example.test';
const OWNER_PASSWORD = 'Tr1cky-Owner-Passphrase';
const OWNER_TOKEN = 'bootstrap-token-0123456789abcdef';

describe.each(DIALECTS)('foundation API on %s', (dialect) => {
  let s: TestServer;
  beforeAll(async () => {
    // Every test logs in from 127.0.0.1: the per-IP limit is tested separately, with its own server.
    s = await startServer(dialect, { LABEL_STUDIO_USERNAME: OWNER_EMAIL, LABEL_STUDIO_PASSWORD: OWNER_PASSWORD, LABEL_STUDIO_USER_TOKEN: OWNER_TOKEN, LOGIN_MAX_FAILURES_PER_IP: '100000' });
  });
  afterAll(async () => s?.close());

  describe('transport', () => {
    it('answers health and version with and without a trailing slash, never redirecting', async () => {
      for (const p of ['/health', '/health/', '/api/version', '/api/version/']) {
        const r = await call(s, 'GET', p);
        expect(r.status, p).toBe(200);
      }
      expect((await call(s, 'GET', '/health')).body).toEqual({ status: 'UP' });
      const v = await call(s, 'GET', '/api/version/');
      expect(v.body).toMatchObject({ release: expect.any(String), edition: 'Community' });
      expect(v.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers unknown routes 404 and wrong verbs 405 in the JSON error shape', async () => {
      const nf = await call(s, 'GET', '/api/no-such-thing');
      expect(nf.status).toBe(404);
      expect(nf.body).toMatchObject({ status_code: 404, detail: expect.any(String) });
      const wrong = await call(s, 'DELETE', '/api/version');
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toContain('GET');
      expect(wrong.body.status_code).toBe(405);
    });

    it('serves an OpenAPI document generated from the route schemas', async () => {
      const r = await call(s, 'GET', '/api/schema');
      expect(r.status).toBe(200);
      expect(r.body.openapi).toMatch(/^3\./);
      expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(['/api/current-user/whoami', '/api/token/refresh', '/api/invite']));
    });

    it('refuses malformed JSON with a 400, not a 500', async () => {
      const res = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email": ' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/JSON/);
    });
  });

  describe('bootstrap owner and legacy API token', () => {
    it('authenticates whoami with LABEL_STUDIO_USER_TOKEN, via Authorization and X-Api-Key', async () => {
      const r = await call(s, 'GET', '/api/current-user/whoami', { token: OWNER_TOKEN });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ email: OWNER_EMAIL, is_superuser: true, organization_membership: { role: 'OW', active: true } });
      expect(r.body.permissions).toContain('invite.manage');
      expect(r.body).not.toHaveProperty('password_hash');
      const viaKey = await call(s, 'GET', '/api/current-user/whoami', { headers: { 'x-api-key': OWNER_TOKEN } });
      expect(viaKey.status).toBe(200);
    });

    it('refuses a missing, wrong or malformed credential with 401', async () => {
      expect((await call(s, 'GET', '/api/current-user/whoami')).status).toBe(401);
      expect((await call(s, 'GET', '/api/current-user/whoami', { token: 'x'.repeat(40) })).status).toBe(401);
      expect((await call(s, 'GET', '/api/current-user/whoami', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    });

    it('resets the token: the old one gets 401 at once, the new one works and is shown to its owner', async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      const reset = await call(s, 'POST', '/api/current-user/reset-token/', { token: m.token });
      expect(reset.status).toBe(201);
      const fresh = reset.body.token as string;
      expect(fresh).toMatch(/^[0-9a-f]{40}$/);
      expect((await call(s, 'GET', '/api/current-user/whoami', { token: m.token })).status).toBe(401);
      expect((await call(s, 'GET', '/api/current-user/whoami', { token: fresh })).status).toBe(200);
      const shown = await call(s, 'GET', '/api/current-user/token', { token: fresh });
      expect(shown.body).toEqual({ token: fresh });
    });

    it("refuses a deactivated user's token and personal access token", async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      expect((await call(s, 'GET', '/api/current-user/whoami', { token: m.token })).status).toBe(200);
      const pat = (await call(s, 'POST', '/api/token/', { token: m.token })).body.token as string;
      const off = await call(s, 'PATCH', '/api/organizations/1/memberships', { token: OWNER_TOKEN, body: { user_id: m.id, role: 'DI' } });
      expect(off.status).toBe(200);
      const r = await call(s, 'GET', '/api/current-user/whoami', { token: m.token });
      expect(r.status).toBe(401);
      expect((await call(s, 'POST', '/api/token/refresh/', { body: { refresh: pat } })).status).toBe(401);
    });
  });

  describe('sessions, CSRF and login throttling', () => {
    it('logs in with a new HttpOnly SameSite=Lax session, requires CSRF for changes, and logs out', async () => {
      const m = await makeMember(s.deps, 1, 'MA');
      const login = await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: PASSWORD } });
      expect(login.status).toBe(200);
      const setCookies = login.headers.getSetCookie();
      const session = setCookies.find((c) => c.startsWith('lv_session='))!;
      expect(session).toMatch(/HttpOnly/i);
      expect(session).toMatch(/SameSite=Lax/i);
      expect(session).not.toMatch(/Secure/i); // plain HTTP on loopback, no trusted proxy
      const cookie = cookiesFrom(login);
      const csrf = login.body.csrf_token as string;
      expect((await call(s, 'GET', '/api/current-user/whoami', { cookie })).body.email).toBe(m.email);

      const noCsrf = await call(s, 'PATCH', '/api/current-user', { cookie, body: { first_name: 'Ann' } });
      expect(noCsrf.status).toBe(403);
      const badCsrf = await call(s, 'PATCH', '/api/current-user', { cookie, csrf: 'x'.repeat(43), body: { first_name: 'Ann' } });
      expect(badCsrf.status).toBe(403);
      expect(badCsrf.body.detail).toMatch(/CSRF/);
      const ok = await call(s, 'PATCH', '/api/current-user', { cookie, csrf, body: { first_name: 'Ann' } });
      expect(ok.status).toBe(200);
      expect(ok.body.first_name).toBe('Ann');

      const relogin = await call(s, 'POST', '/api/auth/login', { cookie, body: { email: m.email, password: PASSWORD } });
      expect(cookiesFrom(relogin)).not.toBe(cookie);
      expect((await call(s, 'GET', '/api/current-user/whoami', { cookie })).status).toBe(401); // old session ended
      const cookie2 = cookiesFrom(relogin);
      expect((await call(s, 'POST', '/api/auth/logout', { cookie: cookie2, csrf: relogin.body.csrf_token })).status).toBe(204);
      expect((await call(s, 'GET', '/api/current-user/whoami', { cookie: cookie2 })).status).toBe(401);
    });

    it('gives one generic message for a wrong password and an unknown email', async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      const wrong = await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: 'not-the-password' } });
      const unknown = await call(s, 'POST', '/api/auth/login', { body: { email: 'nobody@example.test', password: 'not-the-password' } });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(unknown.body.detail).toBe(wrong.body.detail);
    });

    it('throttles a burst of failed logins per account, even for the right password afterwards', async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      for (let i = 0; i < 10; i++) {
        expect((await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: `wrong-${i}-password` } })).status).toBe(401);
      }
      const locked = await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: PASSWORD } });
      expect(locked.status).toBe(429);
      expect(locked.headers.get('retry-after')).toBeTruthy();
    });
  });

  describe('attacks on the public endpoints', () => {
    it('counts parallel guesses before checking them: a burst cannot exceed the limit', async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: `parallel-guess-${i}` } })));
      const checked = burst.filter((r) => r.status === 401).length;
      expect(checked).toBeLessThanOrEqual(10);
      expect(burst.filter((r) => r.status === 429).length).toBe(30 - checked);
    });

    it('refuses a cross-site form login (login CSRF) and a browser-marked cross-site request', async () => {
      const form = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=${encodeURIComponent(OWNER_EMAIL)}&password=${encodeURIComponent(OWNER_PASSWORD)}` });
      expect(form.status).toBe(415);
      expect(form.headers.getSetCookie()).toEqual([]);
      const cross = await call(s, 'POST', '/api/auth/login', { headers: { 'sec-fetch-site': 'cross-site' }, body: { email: OWNER_EMAIL, password: OWNER_PASSWORD } });
      expect(cross.status).toBe(403);
    });

    it('throttles and audits guesses of the current password through change-password', async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      const tries = [];
      for (let i = 0; i < 12; i++) tries.push((await call(s, 'POST', '/api/current-user/change-password', { token: m.token, body: { old_password: `guess-${i}`, new_password: 'Another-Passphrase-9' } })).status);
      expect(tries.slice(0, 10).every((st) => st === 400)).toBe(true);
      expect(tries.slice(10)).toEqual([429, 429]);
      const failed = await s.deps.db.selectFrom('audit_events').select('id').where('action', '=', 'auth.password_change_failed').where('object_id', '=', String(m.id)).execute();
      expect(failed).toHaveLength(10);
    });

    it('answers 400, never 500, when parallel requests race for the same username', async () => {
      const admin = await makeMember(s.deps, 1, 'AD');
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => call(s, 'POST', '/api/users', { token: admin.token, body: { email: `race${i}@example.test`, username: 'samename' } })));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 201)) {
        expect(r.status).toBe(400);
        expect(r.body.validation_errors).toHaveProperty('username');
      }
    });

    it('searches members literally and without regard to case', async () => {
      const manager = await makeMember(s.deps, 1, 'MA');
      const admin = await makeMember(s.deps, 1, 'AD');
      const made = await call(s, 'POST', '/api/users', { token: admin.token, body: { email: 'x_y@example.test', username: 'x_y', first_name: 'Zed' } });
      expect(made.status).toBe(201);
      const underscore = await call(s, 'GET', '/api/organizations/1/memberships?search=x_y', { token: manager.token });
      expect(underscore.body.results.map((r: { user: { email: string } }) => r.user.email)).toEqual(['x_y@example.test']);
      const upper = await call(s, 'GET', '/api/organizations/1/memberships?search=ZED', { token: manager.token });
      expect(upper.body.count).toBe(1);
      const literal = await call(s, 'GET', '/api/organizations/1/memberships?search=%25', { token: manager.token });
      expect(literal.body.count).toBe(0);
    });
  });

  describe('invite-only signup', () => {
    it('refuses signup without the link, accepts it with the link, refuses the old link after a reset', async () => {
      const none = await call(s, 'POST', '/api/auth/signup', { body: { email: 'a1@example.test', password: 'Sturdy-Passphrase-1' } });
      expect(none.status).toBe(403);

      const invite = await call(s, 'GET', '/api/invite', { token: OWNER_TOKEN });
      expect(invite.status).toBe(200);
      expect(invite.body.invite_url).toBe(`/user/signup/?token=${invite.body.token}`);
      const ok = await call(s, 'POST', '/api/auth/signup/', { body: { email: 'a1@example.test', password: 'Sturdy-Passphrase-1', token: invite.body.token } });
      expect(ok.status).toBe(201);
      expect(ok.body.organization_membership).toMatchObject({ role: 'NO', active: false });

      // Not activated: cannot log in until an Administrator gives a role.
      const waiting = await call(s, 'POST', '/api/auth/login', { body: { email: 'a1@example.test', password: 'Sturdy-Passphrase-1' } });
      expect(waiting.status).toBe(403);
      expect((await call(s, 'PATCH', '/api/organizations/1/memberships', { token: OWNER_TOKEN, body: { user_id: ok.body.id, role: 'AN' } })).status).toBe(200);
      expect((await call(s, 'POST', '/api/auth/login', { body: { email: 'a1@example.test', password: 'Sturdy-Passphrase-1' } })).status).toBe(200);

      const reset = await call(s, 'POST', '/api/invite/reset-token', { token: OWNER_TOKEN });
      expect(reset.status).toBe(200);
      expect(reset.body.token).not.toBe(invite.body.token);
      const old = await call(s, 'POST', '/api/auth/signup', { body: { email: 'a2@example.test', password: 'Sturdy-Passphrase-2', token: invite.body.token } });
      expect(old.status).toBe(403);
      const fresh = await call(s, 'POST', '/api/auth/signup', { body: { email: 'a2@example.test', password: 'Sturdy-Passphrase-2', token: reset.body.token } });
      expect(fresh.status).toBe(201);
    });

    it('refuses short, common and identity passwords with a field error', async () => {
      const { token } = (await call(s, 'GET', '/api/invite', { token: OWNER_TOKEN })).body;
      const cases = [
        { password: 'Abc-123', why: /at least 8/ },
        { password: 'password123', why: /too common/ },
        { password: 'sam.jones@example.test', why: /email or username/ },
        { password: 'x'.repeat(129), why: /at most 128/ },
      ];
      for (const c of cases) {
        const r = await call(s, 'POST', '/api/auth/signup', { body: { email: 'sam.jones@example.test', password: c.password, token } });
        expect(r.status, c.password).toBe(400);
        expect(r.body.validation_errors.password.join(' ')).toMatch(c.why);
      }
    });

    it('refuses unknown or privileged fields instead of assigning them', async () => {
      const { token } = (await call(s, 'GET', '/api/invite', { token: OWNER_TOKEN })).body;
      const r = await call(s, 'POST', '/api/auth/signup', { body: { email: 'm@example.test', password: 'Sturdy-Passphrase-3', token, role: 'OW' } });
      expect(r.status).toBe(400);
      expect(r.body.validation_errors).toHaveProperty('role');
    });

    it('lets only Administrators and the Owner read the invite link', async () => {
      const annotator = await makeMember(s.deps, 1, 'AN');
      const manager = await makeMember(s.deps, 1, 'MA');
      const admin = await makeMember(s.deps, 1, 'AD');
      expect((await call(s, 'GET', '/api/invite', { token: annotator.token })).status).toBe(403);
      expect((await call(s, 'GET', '/api/invite', { token: manager.token })).status).toBe(403);
      expect((await call(s, 'GET', '/api/invite', { token: admin.token })).status).toBe(200);
    });
  });

  describe('organizations, memberships and users', () => {
    it('lists members to Managers, refuses Annotators, and hides other organizations', async () => {
      const manager = await makeMember(s.deps, 1, 'MA');
      const annotator = await makeMember(s.deps, 1, 'AN');
      const other = await makeOrganization(s.deps);
      const list = await call(s, 'GET', '/api/organizations/1/memberships?page_size=2', { token: manager.token });
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ count: expect.any(Number), results: expect.any(Array) });
      expect(list.body.results).toHaveLength(2);
      expect(list.body.results[0].user).not.toHaveProperty('password_hash');
      expect(list.body.next).toContain('page=2');
      expect((await call(s, 'GET', '/api/organizations/1/memberships?page=999', { token: manager.token })).status).toBe(404);
      expect((await call(s, 'GET', '/api/organizations/1/memberships', { token: annotator.token })).status).toBe(403);
      expect((await call(s, 'GET', '/api/organizations/1/memberships', { token: other.owner.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/users/${manager.id}`, { token: other.owner.token })).status).toBe(404);
      const orgs = await call(s, 'GET', '/api/organizations', { token: other.owner.token });
      expect(orgs.body.map((o: { id: number }) => o.id)).toEqual([other.id]);
    });

    it('lets Administrators change roles but never assign Owner, and never by Managers', async () => {
      const admin = await makeMember(s.deps, 1, 'AD');
      const manager = await makeMember(s.deps, 1, 'MA');
      const target = await makeMember(s.deps, 1, 'AN');
      expect((await call(s, 'PATCH', '/api/organizations/1/memberships', { token: manager.token, body: { user_id: target.id, role: 'RE' } })).status).toBe(403);
      const owner = await call(s, 'PATCH', '/api/organizations/1/memberships', { token: admin.token, body: { user_id: target.id, role: 'OW' } });
      expect(owner.status).toBe(400);
      expect(owner.body.validation_errors).toHaveProperty('role');
      const bad = await call(s, 'PATCH', '/api/organizations/1/memberships', { token: admin.token, body: { user_id: target.id, role: 'XX' } });
      expect(bad.status).toBe(400);
      const ok = await call(s, 'PATCH', '/api/organizations/1/memberships', { token: admin.token, body: { user_id: target.id, role: 'RE' } });
      expect(ok.body).toMatchObject({ user: { id: target.id, email: target.email }, role: 'RE' });
    });

    it('creates users for Administrators only, with the email as a unique field', async () => {
      const admin = await makeMember(s.deps, 1, 'AD');
      const annotator = await makeMember(s.deps, 1, 'AN');
      expect((await call(s, 'POST', '/api/users', { token: annotator.token, body: { email: 'new1@example.test' } })).status).toBe(403);
      const made = await call(s, 'POST', '/api/users/', { token: admin.token, body: { email: 'New1@Example.test', first_name: 'New', active_organization: 1 } });
      expect((await call(s, 'POST', '/api/users/', { token: admin.token, body: { email: 'elsewhere@example.test', active_organization: 999 } })).status).toBe(400);
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ email: 'new1@example.test', first_name: 'New', organization_membership: { role: 'AN' } });
      const dup = await call(s, 'POST', '/api/users', { token: admin.token, body: { email: 'new1@example.test' } });
      expect(dup.status).toBe(400);
      expect(dup.body.validation_errors).toHaveProperty('email');
      const badEmail = await call(s, 'POST', '/api/users', { token: admin.token, body: { email: 'not-an-email' } });
      expect(badEmail.status).toBe(400);
      expect(badEmail.body.validation_errors).toHaveProperty('email');
      const list = await call(s, 'GET', '/api/users', { token: admin.token });
      expect(list.body.map((u: { email: string }) => u.email)).toContain('new1@example.test');
    });

    it("lets a user edit their own profile but not another's unless Administrator", async () => {
      const a = await makeMember(s.deps, 1, 'AN');
      const b = await makeMember(s.deps, 1, 'AN');
      const admin = await makeMember(s.deps, 1, 'AD');
      expect((await call(s, 'PATCH', `/api/users/${a.id}`, { token: a.token, body: { last_name: 'Self' } })).status).toBe(200);
      expect((await call(s, 'PATCH', `/api/users/${a.id}`, { token: b.token, body: { last_name: 'Other' } })).status).toBe(403);
      expect((await call(s, 'PATCH', `/api/users/${a.id}`, { token: admin.token, body: { last_name: 'Admin' } })).status).toBe(200);
      expect((await call(s, 'PATCH', `/api/users/${a.id}`, { token: a.token, body: { email: 'x@example.test' } })).status).toBe(405);
      expect((await call(s, 'PATCH', `/api/users/${admin.id}`, { token: (await makeMember(s.deps, 1, 'AD')).token, body: { last_name: 'Peer' } })).status).toBe(403);
      expect((await call(s, 'PATCH', '/api/users/1', { token: admin.token, body: { username: 'pwned' } })).status).toBe(403);
    });

    it('changes a password only with the current one', async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      const bad = await call(s, 'POST', '/api/current-user/change-password', { token: m.token, body: { old_password: 'wrong', new_password: 'Another-Passphrase-9' } });
      expect(bad.status).toBe(400);
      expect(bad.body.validation_errors).toHaveProperty('old_password');
      const weak = await call(s, 'POST', '/api/current-user/change-password', { token: m.token, body: { old_password: PASSWORD, new_password: 'qwertyuiop' } });
      expect(weak.body.validation_errors).toHaveProperty('new_password');
      const ok = await call(s, 'POST', '/api/current-user/change-password', { token: m.token, body: { old_password: PASSWORD, new_password: 'Another-Passphrase-9' } });
      expect(ok.status).toBe(204);
      expect((await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: 'Another-Passphrase-9' } })).status).toBe(200);
    });
  });

  describe('personal access tokens', () => {
    it('creates, refreshes, authenticates with Bearer, rotates and revokes', async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      const created = await call(s, 'POST', '/api/token/', { token: m.token });
      expect(created.status).toBe(201);
      const pat = created.body.token as string;
      expect(pat.split('.')).toHaveLength(3);
      const listed = await call(s, 'GET', '/api/token/', { token: m.token });
      expect(listed.body).toHaveLength(1);
      expect(listed.body[0].token).not.toBe(pat); // the signature is never shown again

      const refreshed = await call(s, 'POST', '/api/token/refresh/', { body: { refresh: pat } });
      expect(refreshed.status).toBe(200);
      const access = refreshed.body.access as string;
      expect((await call(s, 'GET', '/api/current-user/whoami', { bearer: access })).body.email).toBe(m.email);
      expect((await call(s, 'GET', '/api/current-user/whoami', { bearer: pat })).status).toBe(401); // a refresh token is not an access token

      const tampered = `${pat.slice(0, -3)}${pat.endsWith('AAA') ? 'BBB' : 'AAA'}`;
      expect((await call(s, 'POST', '/api/token/refresh/', { body: { refresh: tampered } })).status).toBe(401);

      const rotated = await call(s, 'POST', '/api/token/rotate/', { token: m.token, body: { refresh: pat } });
      expect(rotated.status).toBe(200);
      expect((await call(s, 'POST', '/api/token/refresh/', { body: { refresh: pat } })).status).toBe(401);
      expect((await call(s, 'GET', '/api/current-user/whoami', { bearer: access })).status).toBe(401); // its access tokens die with it

      const next = rotated.body.refresh as string;
      const third = (await call(s, 'POST', '/api/token/', { token: m.token })).body.token as string;
      const jti = (await call(s, 'GET', '/api/token/', { token: m.token })).body.find((t: { token: string }) => third.startsWith(t.token)).jti;
      expect((await call(s, 'POST', '/api/token/blacklist/', { token: m.token, body: { jti } })).status).toBe(204);
      expect((await call(s, 'POST', '/api/token/refresh/', { body: { refresh: third } })).status).toBe(401);
      const other = await makeMember(s.deps, 1, 'AN');
      expect((await call(s, 'POST', '/api/token/blacklist/', { token: other.token, body: { refresh: next } })).status).toBe(404);
      expect((await call(s, 'POST', '/api/token/blacklist/', { token: m.token, body: { refresh: next } })).status).toBe(204);
      expect((await call(s, 'POST', '/api/token/refresh/', { body: { refresh: next } })).status).toBe(401);
    });
  });

  describe('migration from Label Studio', () => {
    it('accepts a Django pbkdf2_sha256 hash at login and replaces it with scrypt', async () => {
      const m = await makeMember(s.deps, 1, 'AN');
      const django = 'pbkdf2_sha256$260000$q8Zr2LxPfw1Kd$VJlHMp4bNdFlzCYU61pUJGF61reJI3E4YF+ml9hJXZA=';
      await s.deps.db.updateTable('users').set({ password_hash: django }).where('id', '=', m.id).execute();
      expect((await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: 'Migrated-from-LS-2025' } })).status).toBe(401);
      expect((await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: 'Migrated-from-LS-2024' } })).status).toBe(200);
      const row = await s.deps.db.selectFrom('users').select('password_hash').where('id', '=', m.id).executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^scrypt\$/);
      expect((await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: 'Migrated-from-LS-2024' } })).status).toBe(200);
    });
  });

  describe('audit trail', () => {
    it('recorded the activity above in an intact chain, with secrets masked', async () => {
      await sealPending(s.deps.db, s.deps.secrets); // PostgreSQL chains committed events after the fact
      const events = await s.deps.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
      const actions = new Set(events.map((e) => e.action));
      for (const a of ['organization.create', 'user.create', 'auth.login', 'auth.login_failed', 'auth.logout', 'auth.signup', 'token.reset', 'invite.reset', 'membership.role_change', 'permission.denied', 'token.pat_create', 'token.pat_rotate', 'token.pat_revoke', 'auth.password_change']) {
        expect(actions, a).toContain(a);
      }
      const login = events.find((e) => e.action === 'auth.login')!;
      expect(login.actor_user_id).not.toBeNull();
      expect(login.request_id).not.toBe('');
      expect(login.ip).toBe('127.0.0.1');
      expect(JSON.stringify(events)).not.toContain(OWNER_PASSWORD);
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: true, checked: events.length });
    });
  });
});

describe.each(DIALECTS)('per-IP login limit on %s', (dialect) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(dialect, { LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' });
  });
  afterAll(async () => s?.close());

  it('refuses logins from an IP after its failures, for any account', async () => {
    const m = await makeMember(s.deps, 1, 'AN');
    for (let i = 0; i < 5; i++) {
      expect((await call(s, 'POST', '/api/auth/login', { body: { email: `nobody${i}@example.test`, password: 'wrong-password' } })).status).toBe(401);
    }
    expect((await call(s, 'POST', '/api/auth/login', { body: { email: m.email, password: PASSWORD } })).status).toBe(429);
  });
});
