/**
 * Unit: filters compile to SQL whose text never contains what the caller sent — values and data
 * field names travel as bound parameters — on both dialects' compilers (no database needed).
 */
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../db/schema.js';
import type { SqlDialect } from './filter-columns.js';
import { compileFilters, compileOrdering, parseFilters } from './filters.js';

const compilerFor = (d: SqlDialect) =>
  new Kysely<Database>({
    dialect:
      d === 'postgres'
        ? { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new PostgresIntrospector(db), createQueryCompiler: () => new PostgresQueryCompiler() }
        : { createAdapter: () => new SqliteAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new SqliteIntrospector(db), createQueryCompiler: () => new SqliteQueryCompiler() },
  });

const HOSTILE = "x'); drop table users; --";

describe.each(['sqlite', 'postgres'] as const)('filter compilation on %s', (d) => {
  const db = compilerFor(d);
  const compile = (items: object[], ordering: string[] = []) => {
    const filters = parseFilters({ conjunction: 'or', items });
    let q = db.selectFrom('tasks').select('id').where(compileFilters(filters, d)!);
    for (const term of compileOrdering(ordering, d)) q = q.orderBy(term);
    return q.compile();
  };

  it('binds every value and data field name as a parameter', () => {
    const c = compile(
      [
        { filter: 'filter:tasks:data.my field', operator: 'contains', type: 'String', value: HOSTILE },
        { filter: 'filter:tasks:data.score', operator: 'in', type: 'Number', value: { min: 1, max: 2.5 } },
        { filter: 'filter:tasks:annotations_results', operator: 'not_contains', type: 'String', value: HOSTILE },
        { filter: 'filter:tasks:predictions_model_versions', operator: 'in_list', type: 'String', value: [HOSTILE, 'v1'] },
      ],
      ['-tasks:data.my field'],
    );
    expect(c.sql).not.toContain('drop table');
    expect(c.sql).not.toContain('my field');
    expect(c.parameters).toContain(`%${HOSTILE}%`);
    expect(c.parameters).toContain(HOSTILE);
    expect(c.parameters.some((p) => String(p).includes('my field'))).toBe(true);
  });

  it('escapes LIKE wildcards in values', () => {
    const c = compile([{ filter: 'filter:tasks:data.t', operator: 'starts_with', type: 'String', value: '50%_off\\' }]);
    expect(c.parameters).toContain('50\\%\\_off\\\\%');
  });

  it('refuses names that could reach other tables or break out of the JSON path', () => {
    for (const filter of ['filter:tasks:annotations__completed_by__password', 'filter:tasks:data.a"b', 'filter:tasks:data.a\\b', 'filter:tasks:data.', 'filter:tasks:constructor', 'filter:tasks:__proto__']) {
      expect(() => compile([{ filter, operator: 'equal', type: 'String', value: 'x' }]), filter).toThrow(/Validation error/);
    }
  });
});
