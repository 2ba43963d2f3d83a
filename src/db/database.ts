/**
 * Opens the database of record: a SQLite file (embedded default) or PostgreSQL, behind one
 * Kysely instance, and applies the migrations.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type DatabaseConnection,
  type Driver,
  type Migration,
  type MigrationProvider,
  type QueryResult,
  type Transaction,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import type { Config } from '../config/config.js';
import type { PostgresConfig } from '../config/connections.js';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';

export type Db = Kysely<Database>;
export type Dialect = 'sqlite' | 'postgres';

const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;

/** pg type parsers: timestamps come back as ISO strings (as SQLite stores them), counts as numbers. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) return (v: string) => new Date(v).toISOString();
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * The `ssl` option handed to pg for a PostgreSQL config, with libpq's meaning of each sslmode:
 * disable → no TLS; require → TLS without verification (verify-ca once a root certificate file
 * is given, as libpq does); verify-ca → the chain; verify-full → the chain and the host name.
 * The config's URL carries no TLS parameters (config strips them), so this object is the only
 * TLS instruction pg receives. Client certificate files are read here, once per pool.
 */
export function pgSslOptions(database: PostgresConfig): false | ConnectionOptions {
  if (database.sslMode === 'disable') return false;
  const client = database.sslCert !== undefined && database.sslKey !== undefined
    ? { cert: fs.readFileSync(database.sslCert, 'utf8'), key: fs.readFileSync(database.sslKey, 'utf8') }
    : {};
  const ca = database.ca === undefined ? {} : { ca: [...database.ca] };
  const skipHostCheck = { checkServerIdentity: () => undefined };
  if (database.sslMode === 'require' && database.sslRootCert === undefined) return { ...client, rejectUnauthorized: false };
  if (database.sslMode === 'verify-full') return { ...client, ...ca, rejectUnauthorized: true };
  return { ...client, ...ca, rejectUnauthorized: true, ...skipHostCheck };
}

/** Opens the configured database. The SQLite file is created owner-only (0600). */
export function openDatabase(database: Config['database']): { db: Db; dialect: Dialect } {
  if (database.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: database.url, ssl: pgSslOptions(database), types: pgTypes, max: 10 });
    // An idle connection that dies (server restart, failover) is dropped by the pool and replaced
    // on the next query; without a listener its error would crash the process.
    pool.on('error', () => undefined);
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
  }
  fs.mkdirSync(path.dirname(database.file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(database.file, 'a', 0o600));
  fs.chmodSync(database.file, 0o600);
  const sqlite = new SQLite(database.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // A second, read-only connection: in WAL mode it reads the last committed state while the
  // first one is inside a transaction, so reads outside transactions (GET /health, lists) do not
  // wait for a long import. Everything that writes, and every transaction, uses the first.
  const reader = new SQLite(database.file, { readonly: true });
  reader.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteWithReaderDialect(withStatementCache(sqlite), withStatementCache(reader)) });
  sqliteHandles.set(db, sqlite);
  sqliteByAdapter.set(db.getExecutor().adapter, sqlite);
  return { db, dialect: 'sqlite' };
}

/** The better-sqlite3 connection behind each SQLite Kysely instance opened here. */
const sqliteHandles = new WeakMap<Db, SQLite.Database>();

/**
 * The better-sqlite3 connection behind a SQLite database opened by openDatabase (undefined for
 * PostgreSQL or a Kysely instance made elsewhere), for bulk writes that bind values straight to
 * prepared statements. It is Kysely's ONLY connection: use it solely inside a transaction that
 * Kysely holds (`handle.inTransaction`), synchronously, and its statements are part of that
 * transaction; anywhere else they would slip between other requests' queries.
 */
export function sqliteHandleOf(db: Db): SQLite.Database | undefined {
  return sqliteHandles.get(db);
}

/** The same connections, keyed by the Kysely adapter a database and its transactions share. */
const sqliteByAdapter = new WeakMap<object, SQLite.Database>();

/**
 * For a hot path inside a transaction (the audit recorder): the better-sqlite3 connection behind
 * `trx` when `trx` is a Kysely transaction on a SQLite database opened here and that connection is
 * in it (Kysely holds the only writer connection for the whole transaction, so statements run on
 * it now, synchronously, are part of `trx`). Undefined otherwise (PostgreSQL, no transaction).
 */
export function sqliteOfTransaction(trx: Db | Transaction<Database>): SQLite.Database | undefined {
  if (!trx.isTransaction) return undefined;
  const handle = sqliteByAdapter.get(trx.getExecutor().adapter);
  return handle?.inTransaction ? handle : undefined;
}

type CachingDatabase = ReturnType<typeof withStatementCache>;

/** A mutual exclusion lock: one holder at a time (waiters retry in turn). */
class Mutex {
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;

  async lock(): Promise<void> {
    while (this.held) await this.held;
    this.held = new Promise((resolve) => (this.release = resolve));
  }

  unlock(): void {
    const release = this.release;
    this.held = undefined;
    this.release = undefined;
    release?.();
  }
}

/** Runs compiled queries on one better-sqlite3 connection (as Kysely's own SQLite connection does). */
class SqliteConnection implements DatabaseConnection {
  constructor(private readonly db: CachingDatabase) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.db.prepare(query.sql);
    if (stmt.reader) return Promise.resolve({ rows: stmt.all(query.parameters) as R[] });
    const { changes, lastInsertRowid } = stmt.run(query.parameters);
    return Promise.resolve({ numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] });
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.db.prepare(query.sql);
    for (const row of stmt.iterate(query.parameters)) yield { rows: [row as R] };
  }
}

/**
 * What Kysely acquires for a query or a transaction: it takes the writer (locked) for a
 * transaction or for any statement that is not read-only, else the reader (locked too: a
 * better-sqlite3 connection runs one statement at a time). Once it holds the writer, every
 * statement goes there, so a transaction reads its own writes.
 */
class RoutedConnection implements DatabaseConnection {
  private hasWriter = false;
  private hasReader = false;

  constructor(private readonly driver: SqliteWithReaderDriver) {}

  /** Takes the writer for the rest of this acquisition. */
  async takeWriter(): Promise<SqliteConnection> {
    if (!this.hasWriter) {
      await this.driver.writerLock.lock();
      this.hasWriter = true;
    }
    return this.driver.writer;
  }

  private async route(text: string): Promise<SqliteConnection> {
    if (this.hasWriter || !this.driver.isReadOnly(text)) return this.takeWriter();
    if (!this.hasReader) {
      await this.driver.readerLock.lock();
      this.hasReader = true;
    }
    return this.driver.reader;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return (await this.route(query.sql)).executeQuery<R>(query);
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield* (await this.route(query.sql)).streamQuery<R>(query);
  }

  /** Unlocks what this acquisition took. */
  release(): void {
    if (this.hasWriter) this.driver.writerLock.unlock();
    if (this.hasReader) this.driver.readerLock.unlock();
    this.hasWriter = false;
    this.hasReader = false;
  }
}

/** Kysely's SQLite driver, with a second, read-only connection for reads outside transactions. */
class SqliteWithReaderDriver implements Driver {
  readonly writerLock = new Mutex();
  readonly readerLock = new Mutex();
  readonly writer: SqliteConnection;
  readonly reader: SqliteConnection;

  constructor(
    private readonly writerDb: CachingDatabase,
    private readonly readerDb: CachingDatabase,
  ) {
    this.writer = new SqliteConnection(writerDb);
    this.reader = new SqliteConnection(readerDb);
  }

  /**
   * True for a statement SQLite itself calls read-only (prepared on the reader, which caches it);
   * anything it cannot prepare there (a table created in an open transaction) goes to the writer.
   */
  isReadOnly(text: string): boolean {
    try {
      return this.readerDb.prepare(text).readonly;
    } catch {
      return false;
    }
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RoutedConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    await (await (connection as RoutedConnection).takeWriter()).executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteName(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${quoteName(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${quoteName(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as RoutedConnection).release();
  }

  async destroy(): Promise<void> {
    this.readerDb.close();
    this.writerDb.close();
  }
}

/** A savepoint name as an SQL identifier. */
const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** SQLite through SqliteWithReaderDriver (Kysely's SQLite compiler, adapter and introspector otherwise). */
class SqliteWithReaderDialect extends SqliteDialect {
  constructor(
    private readonly writerDb: CachingDatabase,
    private readonly readerDb: CachingDatabase,
  ) {
    super({ database: writerDb });
  }

  override createDriver(): Driver {
    return new SqliteWithReaderDriver(this.writerDb, this.readerDb);
  }
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; on SQLite preparing costs as much as running a small query.
 * This keeps the most recent prepared statements by SQL text (a statement still iterating a
 * result is never handed out twice: a fresh one is prepared instead).
 */
function withStatementCache(sqlite: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string): SQLite.Statement {
      const hit = cache.get(text);
      if (hit && !hit.busy) {
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const stmt = sqlite.prepare(text);
      if (!hit) {
        cache.set(text, stmt);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
  };
}

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Applies every pending migration (Kysely's migrator takes a lock: one node at a time). */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when the database answers and every known migration is applied. */
export async function isDatabaseReady(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
    const all = await migrator.getMigrations();
    return all.every((m) => m.executedAt !== undefined);
  } catch {
    return false;
  }
}
