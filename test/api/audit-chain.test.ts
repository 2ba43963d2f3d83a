/**
 * Tamper evidence of the audit chain, on a real SQLite file and a real PostgreSQL database:
 * edits, deletions and reordering are reported; writers in several processes never fork it;
 * retention pruning leaves a signed checkpoint the remaining chain verifies from. On PostgreSQL
 * events are chained by the sealer after commit, so each check first seals what is committed
 * (as `labelvault audit verify` does).
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHAIN_LOCK, GENESIS_HASH, verifyAuditChain } from '../../src/audit/chain.js';
import { recordAuditEvent, SYSTEM_SOURCE } from '../../src/audit/recorder.js';
import { sealAuditEvents, sealPending } from '../../src/audit/sealer.js';
import { auditPruneJob, pruneAuditLog } from '../../src/audit/retention.js';
import { loadConfig } from '../../src/config/config.js';
import { openDeps } from '../../src/deps.js';
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
  const record = (n: number | string) => recordAuditEvent(s.deps.db, s.deps.secrets, SYSTEM_SOURCE, { action: 'user.update', objectType: 'user', objectId: n });
  /** Seals what is committed (PostgreSQL; nothing to do on SQLite), then walks the chain. */
  const verify = async () => {
    await sealPending(s.deps.db, s.deps.secrets);
    return verifyAuditChain(s.deps.db, s.deps.secrets);
  };
  /** Prunes everything but the newest event, as if 31 days had passed with a 30-day retention. */
  const pruneAllButNewest = async () => {
    await sealPending(s.deps.db, s.deps.secrets);
    return pruneAuditLog(s.deps, { retentionDays: 30, now: new Date(Date.now() + 31 * 86_400_000) });
  };

  it('verifies an untouched chain', async () => {
    expect(await verify()).toMatchObject({ ok: true, checked: 6 });
  });

  it('chains concurrent writers without forks', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordAuditEvent(s.deps.db, s.deps.secrets, SYSTEM_SOURCE, { action: 'user.update', objectType: 'user', objectId: 100 + i })));
    expect(await verify()).toMatchObject({ ok: true, checked: 26 });
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

  it('keeps one chain when another process writes between this one’s events, and after a rollback', async () => {
    const other = await openDeps(loadConfig(s.env));
    try {
      for (let i = 0; i < 3; i++) {
        await record(`here-${i}`);
        await recordAuditEvent(other.db, other.secrets, SYSTEM_SOURCE, { action: 'user.update', objectType: 'user', objectId: `there-${i}` });
      }
      await s.deps.db
        .transaction()
        .execute(async (trx) => {
          await recordAuditEvent(trx, s.deps.secrets, SYSTEM_SOURCE, { action: 'user.update', objectType: 'user', objectId: 'rolled-back' });
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await record('after-rollback');
    } finally {
      await other.close();
    }
    expect(await verify()).toMatchObject({ ok: true, checked: 13 });
  });

  // SQLite takes one writer at a time (processes interleaving is the test above); on PostgreSQL they write at once.
  it.skipIf(dialect === 'sqlite')('chains the events of two processes writing at the same time into one chain', async () => {
    const other = await openDeps(loadConfig(s.env));
    try {
      await Promise.all([
        ...Array.from({ length: 40 }, (_, i) => record(`here-${i}`)),
        ...Array.from({ length: 40 }, (_, i) => recordAuditEvent(other.db, other.secrets, SYSTEM_SOURCE, { action: 'user.update', objectType: 'user', objectId: `there-${i}` })),
      ]);
    } finally {
      await other.close();
    }
    expect(await verify()).toMatchObject({ ok: true, checked: 86 });
  });

  it('detects events removed from the end against a head kept elsewhere', async () => {
    const first = await verify();
    expect(first.head).toEqual({ position: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await record('later-1');
    await record('later-2');
    const expectHead = first.head!;
    expect(await verify()).toMatchObject({ ok: true, head: { position: expectHead.position + 2 } });
    expect(await verifyAuditChain(s.deps.db, s.deps.secrets, { expectHead })).toMatchObject({ ok: true });
    expect(await verifyAuditChain(s.deps.db, s.deps.secrets, { expectHead: { ...expectHead, hash: '0'.repeat(64) } })).toMatchObject({ ok: false, reason: expect.stringMatching(/another hash/) });
    // Truncate the chain from the kept head on (a superuser on PostgreSQL, where the trigger refuses it).
    const cut = sql`delete from audit_events where ${sql.ref(dialect === 'sqlite' ? 'id' : 'seq')} >= ${expectHead.position}`;
    if (dialect === 'sqlite') await cut.execute(s.deps.db);
    else
      await s.deps.db.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await cut.execute(trx);
      });
    expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: true }); // without the anchor, a shorter chain verifies
    expect(await verifyAuditChain(s.deps.db, s.deps.secrets, { expectHead })).toMatchObject({ ok: false, reason: expect.stringMatching(/events at the end were removed/) });
  });

  it('prunes old events behind a signed checkpoint, and the rest still verifies', async () => {
    expect(await pruneAuditLog(s.deps, { retentionDays: 0 })).toMatchObject({ pruned: 0, checkpoint: null });
    expect(await pruneAuditLog(s.deps, { retentionDays: 30 })).toMatchObject({ pruned: 0, checkpoint: null }); // nothing is 30 days old
    const [first, , , , , newest] = await ids();
    const r = await pruneAllButNewest();
    expect(r).toMatchObject({ pruned: 5, checkpoint: { lastEventId: newest! - 1 } });
    expect(await ids()).toEqual([newest, newest! + 1]); // the newest event and the audit.prune event
    const pruneEvent = await s.deps.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.prune').executeTakeFirstOrThrow();
    expect(JSON.parse(pruneEvent.changes)).toMatchObject({ retention_days: 30, pruned: 5, checkpoint: r.checkpoint!.id, last_pruned_event: newest! - 1 });
    expect(first).toBeLessThan(newest!);
    await record('after-prune');
    expect(await verify()).toMatchObject({ ok: true, checked: 3, checkpoint: r.checkpoint });
    // A second pruning: the newest checkpoint is the one verified from.
    const again = await pruneAllButNewest();
    expect(again.pruned).toBe(2);
    expect(await verify()).toMatchObject({ ok: true, checked: 2, checkpoint: again.checkpoint });
  });

  it('runs the daily prune job as a no-op while the retention is 0', async () => {
    await auditPruneJob.handler(s.deps).run({ id: 'j', name: auditPruneJob.name, payload: {}, attempt: 1, maxAttempts: 1, signal: new AbortController().signal, reportProgress: async () => undefined });
    expect(await ids()).toHaveLength(6);
    expect(await s.deps.db.selectFrom('audit_checkpoints').select('id').execute()).toEqual([]);
  });

  it('reports a tampered or deleted checkpoint and events slipped in before it', async () => {
    const { checkpoint } = await pruneAllButNewest();
    // On PostgreSQL the checkpoint table refuses edits; a superuser who switches triggers off is still caught.
    const tamper = async (q: ReturnType<typeof sql>) => {
      if (dialect === 'sqlite') return q.execute(s.deps.db);
      await expect(q.execute(s.deps.db)).rejects.toThrow(/append-only/);
      return s.deps.db.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await q.execute(trx);
      });
    };
    const cp = await s.deps.db.selectFrom('audit_checkpoints').selectAll().executeTakeFirstOrThrow();
    await tamper(sql`update audit_checkpoints set last_event_id = last_event_id - 1 where id = ${cp.id}`);
    expect(await verify()).toMatchObject({ ok: false, checkpoint: { id: checkpoint!.id }, reason: expect.stringMatching(/checkpoint edited/) });
    await tamper(sql`update audit_checkpoints set last_event_id = ${cp.last_event_id}, last_event_hash = ${'0'.repeat(64)} where id = ${cp.id}`);
    expect(await verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/checkpoint edited/) });
    await tamper(sql`update audit_checkpoints set last_event_hash = ${cp.last_event_hash} where id = ${cp.id}`);
    expect(await verify()).toMatchObject({ ok: true });
    await tamper(sql`delete from audit_checkpoints`);
    const [remaining] = await ids();
    expect(await verify()).toMatchObject({ ok: false, brokenAtId: remaining, reason: expect.stringMatching(/deleted or reordered/) });
  });

  if (dialect === 'sqlite') {
    it('skips, in the database, an insert that does not link to the last event', async () => {
      const last = await s.deps.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      const { id: _id, ...row } = last;
      const forked = await s.deps.db.insertInto('audit_events').values({ ...row, prev_hash: GENESIS_HASH, object_id: 'fork' }).executeTakeFirst();
      expect(forked.numInsertedOrUpdatedRows).toBe(0n);
      expect(await s.deps.db.selectFrom('audit_events').select('id').where('object_id', '=', 'fork').execute()).toEqual([]);
      expect(await verify()).toMatchObject({ ok: true, checked: 6 });
    });

    it('reports an event inserted at or before the pruning checkpoint', async () => {
      const { checkpoint } = await pruneAllButNewest();
      const newest = await s.deps.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      await sql`drop trigger audit_events_link`.execute(s.deps.db);
      await sql`insert into audit_events (id, created_at, organization_id, actor_user_id, actor_email, auth_method, ip, user_agent, request_id, action, object_type, object_id, project_id, changes, prev_hash, hash)
        values (${checkpoint!.lastEventId}, ${newest.created_at}, null, null, 'x', 'system', '', '', '', 'user.update', 'user', 'forged', null, '{}', ${GENESIS_HASH}, 'h')`.execute(s.deps.db);
      expect(await verify()).toMatchObject({ ok: false, brokenAtId: checkpoint!.lastEventId, reason: expect.stringMatching(/before the pruning checkpoint/) });
    });

    it('reports an edited, a deleted and a reordered event', async () => {
      const [, second, third, fourth] = await ids();
      await s.deps.db.updateTable('audit_events').set({ changes: '{"n":99}' }).where('id', '=', third!).execute();
      expect(await verify()).toMatchObject({ ok: false, brokenAtId: third, reason: expect.stringMatching(/edited/) });

      await s.deps.db.deleteFrom('audit_events').where('id', '=', third!).execute();
      expect(await verify()).toMatchObject({ ok: false, brokenAtId: fourth, reason: expect.stringMatching(/deleted or reordered/) });

      // Swap two events' ids: the order changes, each row's content is intact.
      await sql`update audit_events set id = -1 where id = ${second!}`.execute(s.deps.db);
      await sql`update audit_events set id = ${second!} where id = ${fourth!}`.execute(s.deps.db);
      await sql`update audit_events set id = ${fourth!} where id = -1`.execute(s.deps.db);
      expect((await verify()).ok).toBe(false);
    });
  } else {
    /** Runs a statement with triggers off, as a superuser could (the append-only trigger refuses it otherwise). */
    const asSuperuser = (q: ReturnType<typeof sql>) =>
      s.deps.db.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await q.execute(trx);
      });

    /** Runs `fn` while a connection of our own holds the chain's lock, so the background sealer leaves new events unsealed. */
    const withSealerHeld = (fn: () => Promise<void>) =>
      s.deps.db.connection().execute(async (holder) => {
        await sql`select pg_advisory_lock(${CHAIN_LOCK})`.execute(holder);
        try {
          await fn();
        } finally {
          await sql`select pg_advisory_unlock(${CHAIN_LOCK})`.execute(holder);
        }
      });

    it('writes events unsealed and seals them in commit order with one chain', async () => {
      await withSealerHeld(async () => {
        await record('fresh');
        const fresh = await s.deps.db.selectFrom('audit_events').selectAll().where('object_id', '=', 'fresh').executeTakeFirstOrThrow();
        expect(fresh).toMatchObject({ seq: null, prev_hash: null, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
        expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: true, unsealed: expect.any(Number) });
        expect(await sealAuditEvents(s.deps.db, s.deps.secrets)).toMatchObject({ busy: true, sealed: 0 });
      });
      expect(await sealPending(s.deps.db, s.deps.secrets)).toMatchObject({ busy: false, refused: [] });
      const rows = await s.deps.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      expect(rows.slice(1).every((r, i) => r.prev_hash === rows[i]!.hash)).toBe(true);
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: true, checked: 7 });
    });

    it('refuses to seal, and reports, an unsealed event edited or written outside the recorder', async () => {
      await sealPending(s.deps.db, s.deps.secrets);
      const last = await s.deps.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      const { id: _id, seq: _seq, ...row } = last;
      const forged = await s.deps.db.insertInto('audit_events').values({ ...row, prev_hash: null, hash: 'f'.repeat(64), object_id: 'forged', nonce: 'forged-nonce' }).returning('id').executeTakeFirstOrThrow();
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: false, brokenAtId: forged.id, reason: expect.stringMatching(/unsealed event/) });
      expect(await sealPending(s.deps.db, s.deps.secrets)).toMatchObject({ sealed: 0, refused: [forged.id] });
      await asSuperuser(sql`delete from audit_events where id = ${forged.id}`);
      await record('edited-before-sealing');
      const edited = await s.deps.db.selectFrom('audit_events').select('id').where('object_id', '=', 'edited-before-sealing').executeTakeFirstOrThrow();
      await asSuperuser(sql`update audit_events set changes = '{"n":99}' where id = ${edited.id}`);
      expect(await sealPending(s.deps.db, s.deps.secrets)).toMatchObject({ refused: [edited.id] });
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: false, brokenAtId: edited.id });
    });

    it('refuses a copy of an event (its nonce is unique), a pre-chained insert, and a place in the chain below 1', async () => {
      let unsealed: Awaited<ReturnType<typeof selectUnsealed>> | undefined;
      const selectUnsealed = () => s.deps.db.selectFrom('audit_events').selectAll().where('object_id', '=', 'original').executeTakeFirstOrThrow();
      await withSealerHeld(async () => {
        await record('original');
        unsealed = await selectUnsealed(); // as a replica would show it before its seal
      });
      await sealPending(s.deps.db, s.deps.secrets);
      const { id: _id, seq: _seq, ...copy } = unsealed!;
      expect(copy.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
      await expect(s.deps.db.insertInto('audit_events').values(copy).execute()).rejects.toThrow(/audit_events_nonce_idx/);
      // With another nonce the copy goes in, but its content HMAC no longer matches: never sealed.
      const other = await s.deps.db.insertInto('audit_events').values({ ...copy, nonce: 'another' }).returning('id').executeTakeFirstOrThrow();
      expect(await sealPending(s.deps.db, s.deps.secrets)).toMatchObject({ sealed: 0, refused: [other.id] });
      await asSuperuser(sql`delete from audit_events where id = ${other.id}`);
      // Only the sealer chains: an insert that arrives chained (an older Labelvault mid-upgrade) is refused.
      await expect(s.deps.db.insertInto('audit_events').values({ ...copy, nonce: 'x', prev_hash: 'p' }).execute()).rejects.toThrow(/inserted unsealed/);
      await expect(s.deps.db.insertInto('audit_events').values({ ...copy, nonce: 'y', seq: 9999 }).execute()).rejects.toThrow(/inserted unsealed/);
      await withSealerHeld(async () => {
        await record('below-one');
        await expect(
          s.deps.db.transaction().execute(async (trx) => {
            await sql`set local labelvault.audit_seal = 'on'`.execute(trx);
            await sql`update audit_events set seq = -1, prev_hash = 'x' where object_id = 'below-one'`.execute(trx);
          }),
        ).rejects.toThrow(/audit_events_seq_positive/);
      });
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('reports an edited, a deleted and a reordered sealed event', async () => {
      await sealPending(s.deps.db, s.deps.secrets);
      const [, second, third, fourth] = await ids();
      await asSuperuser(sql`update audit_events set changes = '{"n":99}' where id = ${third!}`);
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: false, brokenAtId: third, reason: expect.stringMatching(/edited/) });
      await asSuperuser(sql`delete from audit_events where id = ${third!}`);
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: false, brokenAtId: fourth, reason: expect.stringMatching(/deleted or reordered/) });
      // Swap two events' places in the chain: each row's content is intact.
      const seqOf = async (id: number) => (await s.deps.db.selectFrom('audit_events').select('seq').where('id', '=', id).executeTakeFirstOrThrow()).seq;
      const [a, b] = [await seqOf(second!), await seqOf(fourth!)];
      await asSuperuser(sql`update audit_events set seq = 999999999 where id = ${second!}`);
      await asSuperuser(sql`update audit_events set seq = ${a} where id = ${fourth!}`);
      await asSuperuser(sql`update audit_events set seq = ${b} where id = ${second!}`);
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: false, reason: expect.stringMatching(/deleted or reordered/) });
    });

    it('lets the sealing UPDATE through only for an unsealed event whose content stays the same', async () => {
      await sealPending(s.deps.db, s.deps.secrets);
      await withSealerHeld(async () => {
        await record('unsealed');
        const sealing = (q: ReturnType<typeof sql>) =>
          s.deps.db.transaction().execute(async (trx) => {
            await sql`set local labelvault.audit_seal = 'on'`.execute(trx);
            return q.execute(trx);
          });
        // A sealed event cannot be sealed again; an unsealed one cannot change its content while being sealed, nor be sealed without the setting.
        await expect(sealing(sql`update audit_events set seq = 1000, prev_hash = 'x' where seq = 1`)).rejects.toThrow(/append-only/);
        await expect(sealing(sql`update audit_events set seq = 1000, prev_hash = 'x', action = 'x' where object_id = 'unsealed'`)).rejects.toThrow(/append-only/);
        await expect(sql`update audit_events set seq = 1000, prev_hash = 'x' where object_id = 'unsealed'`.execute(s.deps.db)).rejects.toThrow(/append-only/);
        // The sealer's own update shape passes (and a wrong hash is then what verify reports).
        await expect(sealing(sql`update audit_events set seq = 1000, prev_hash = 'x' where object_id = 'unsealed'`)).resolves.toMatchObject({ numAffectedRows: 1n });
        expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: false, reason: expect.stringMatching(/deleted or reordered/) });
      });
    });

    it('refuses UPDATE and DELETE on the audit table', async () => {
      await expect(sql`update audit_events set action = 'x'`.execute(s.deps.db)).rejects.toThrow(/append-only/);
      await expect(sql`delete from audit_events`.execute(s.deps.db)).rejects.toThrow(/append-only/);
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('still refuses DELETE outside a pruning transaction after pruning, and UPDATE even inside one', async () => {
      await pruneAllButNewest();
      await expect(sql`delete from audit_events`.execute(s.deps.db)).rejects.toThrow(/append-only/);
      // The setting is transaction-local: the pruner's transaction did not leave it on.
      await expect(sql`select current_setting('labelvault.audit_prune', true) as v`.execute(s.deps.db)).resolves.toMatchObject({ rows: [{ v: expect.not.stringMatching(/^on$/) }] });
      await expect(
        s.deps.db.transaction().execute(async (trx) => {
          await sql`set local labelvault.audit_prune = 'on'`.execute(trx);
          await sql`update audit_events set action = 'x'`.execute(trx);
        }),
      ).rejects.toThrow(/append-only/);
      expect(await verify()).toMatchObject({ ok: true, checked: 2 });
    });
  }
});
