/**
 * Acceptance 4: after a session of activity, no password, API token, personal access token,
 * session id or invite token appears in the database — searched in the raw SQLite file (and its
 * WAL) and in every text column on PostgreSQL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';

const EMAIL = 'keeper@example.test';
const PASSWORD = 'Unique-Passphrase-Zebra-42';
const TOKEN = 'supplied-token-5b3c9f0e2d1a4b6c8e7f';

describe.each(DIALECTS)('secrets at rest on %s', (dialect) => {
  let s: TestServer;
  const secrets: Record<string, string> = { password: PASSWORD, suppliedToken: TOKEN };
  beforeAll(async () => {
    s = await startServer(dialect, { LABEL_STUDIO_USERNAME: EMAIL, LABEL_STUDIO_PASSWORD: PASSWORD, LABEL_STUDIO_USER_TOKEN: TOKEN });
    const login = await call(s, 'POST', '/api/auth/login', { body: { email: EMAIL, password: PASSWORD } });
    secrets.session = login.headers.getSetCookie().find((c) => c.startsWith('lv_session='))!.split(';')[0]!.split('=')[1]!;
    secrets.csrf = login.body.csrf_token;
    secrets.resetToken = (await call(s, 'POST', '/api/current-user/reset-token', { token: TOKEN })).body.token;
    const pat = (await call(s, 'POST', '/api/token', { token: secrets.resetToken })).body.token as string;
    secrets.patSignature = pat.split('.')[2]!;
    secrets.access = (await call(s, 'POST', '/api/token/refresh', { body: { refresh: pat } })).body.access;
    secrets.invite = (await call(s, 'GET', '/api/invite', { token: secrets.resetToken })).body.token;
    const newPassword = 'Another-Unique-Passphrase-77';
    await call(s, 'POST', '/api/current-user/change-password', { token: secrets.resetToken, body: { old_password: PASSWORD, new_password: newPassword } });
    secrets.newPassword = newPassword;
  });
  afterAll(async () => s?.close());

  it('stores none of them in plain text', async () => {
    let haystack: string;
    if (dialect === 'sqlite') {
      await sql`PRAGMA wal_checkpoint(FULL)`.execute(s.deps.db);
      const files = fs.readdirSync(s.dataDir).filter((f) => f.startsWith('labelvault.sqlite3'));
      haystack = files.map((f) => fs.readFileSync(path.join(s.dataDir, f)).toString('latin1')).join('\n');
    } else {
      const tables = ['organizations', 'users', 'memberships', 'sessions', 'login_failures', 'personal_tokens', 'instance_settings', 'audit_events'];
      const dumps = await Promise.all(tables.map((t) => sql<{ row: string }>`select t::text as row from ${sql.table(t)} t`.execute(s.deps.db)));
      haystack = dumps.flatMap((d) => d.rows.map((r) => r.row)).join('\n');
    }
    expect(haystack.length).toBeGreaterThan(1000);
    expect(haystack).toContain(EMAIL); // the search does see the data
    for (const [name, value] of Object.entries(secrets)) {
      expect(value, name).toBeTruthy();
      expect(haystack.includes(value), `${name} found in the database`).toBe(false);
    }
  });
});
