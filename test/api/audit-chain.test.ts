/** Tamper evidence of the audit chain, on a real SQLite file and a real PostgreSQL database. */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordAuditEvent, SYSTEM_SOURCE, verifyAuditChain } from '../../src/audit/recorder.js';
import { DIALECTS, startServer, type TestServer } from '../harness.js';

describe.each(DIALECTS)('audit chain on %s', (dialect) => {
  let s: TestServer;
  beforeEach(async () => {
    s = await startServer(dialect);
    for (let i = 0; i < 5; i++) {
      await recordAuditEvent(s.deps.db, s.deps.secrets, SYSTEM_SOURCE, { action: 'user.update', objectType: 'user', objectId: i, changes: { n: i } });
    }
  });
  afterEach(async () => s?.close());

  const ids = async () => (await s.deps.db.selectFrom('audit_events').select('id').orderBy('id').execute()).map((r) => r.id);

  it('verifies an untouched chain', async () => {
    expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toEqual({ ok: true, checked: 6 });
  });

  it('chains concurrent writers without forks', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordAuditEvent(s.deps.db, s.deps.secrets, SYSTEM_SOURCE, { action: 'user.update', objectType: 'user', objectId: 100 + i })));
    expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toEqual({ ok: true, checked: 26 });
  });

  it('writes no event for a change that rolled back', async () => {
    await expect(
      s.deps.db.transaction().execute(async (trx) => {
        await recordAuditEvent(trx, s.deps.secrets, SYSTEM_SOURCE, { action: 'user.update', objectType: 'user', objectId: 'doomed' });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await s.deps.db.selectFrom('audit_events').select('id').where('object_id', '=', 'doomed').execute()).toEqual([]);
  });

  if (dialect === 'sqlite') {
    it('reports an edited, a deleted and a reordered event', async () => {
      const [, second, third, fourth] = await ids();
      await s.deps.db.updateTable('audit_events').set({ changes: '{"n":99}' }).where('id', '=', third!).execute();
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: false, brokenAtId: third, reason: expect.stringMatching(/edited/) });

      await s.deps.db.deleteFrom('audit_events').where('id', '=', third!).execute();
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: false, brokenAtId: fourth, reason: expect.stringMatching(/deleted or reordered/) });

      // Swap two events' ids: the order changes, each row's content is intact.
      await sql`update audit_events set id = -1 where id = ${second!}`.execute(s.deps.db);
      await sql`update audit_events set id = ${second!} where id = ${fourth!}`.execute(s.deps.db);
      await sql`update audit_events set id = ${fourth!} where id = -1`.execute(s.deps.db);
      expect((await verifyAuditChain(s.deps.db, s.deps.secrets)).ok).toBe(false);
    });
  } else {
    it('refuses UPDATE and DELETE on the audit table', async () => {
      await expect(sql`update audit_events set action = 'x'`.execute(s.deps.db)).rejects.toThrow(/append-only/);
      await expect(sql`delete from audit_events`.execute(s.deps.db)).rejects.toThrow(/append-only/);
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: true });
    });
  }
});
