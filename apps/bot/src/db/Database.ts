import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzleProxy } from 'drizzle-orm/pg-proxy';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { BotConfigError, DatabaseClosedError, DatabaseError, DatabaseLostError } from '../errors/errors.js';
import { causeMessages, migrationConfig, migrationLockKey } from './migrations.js';
import { defaultPgliteTemplate } from './pglite.js';
import type { PgliteStateChange } from './PgliteThread.js';
import { describePglite, PgliteThread } from './PgliteThread.js';
import { schema } from './schema.js';

/** The drizzle database the bot uses, whichever driver runs it. */
export type BotDrizzle = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Options of {@link openDatabase}. */
export interface DatabaseOptions {
  /**
   * A PostgreSQL connection string (`postgres://user:password@host:5432/db`): connect with `pg`.
   * Without one the bot runs an embedded PGlite.
   * @default undefined (PGlite)
   */
  url?: string;
  /**
   * PGlite's data directory (created when missing). Ignored with `url`.
   * @default undefined (in memory: everything is lost at exit)
   */
  dataDir?: string;
  /**
   * The PostgreSQL schema that holds the tables, created when missing (letters, digits and `_`,
   * lower case). Separate schemas let several bots, or test runs, share one database.
   * @default 'public'
   */
  schema?: string;
  /**
   * Most connections `pg` opens. Ignored with PGlite (one connection).
   * @default 4
   */
  maxConnections?: number;
  /**
   * How long `pg` may take to open a connection (TCP, TLS, authentication) before the query
   * waiting for it fails with `DatabaseError`; `openDatabase` itself fails after this long against
   * an unresponsive server. Ignored with PGlite (embedded).
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * The longest a statement may run. With `pg`, the server cancels it (`statement_timeout`), and
   * `pg` gives up waiting for its answer a second later (`query_timeout`, for a server that stopped
   * answering), failing it with `DatabaseError`. PGlite does not honour `statement_timeout`
   * (nothing interrupts a statement inside it), so the main thread times its thread's answers: a
   * statement that has not answered after this long fails with `DatabaseError` (`cause`: SQLSTATE
   * 57014, as the server's cancel), and the thread, hung, is terminated: restarted with `dataDir`,
   * lost in memory (see `restartMinMs`).
   * @default 30000
   */
  statementTimeoutMs?: number;
  /**
   * PGlite only, with `dataDir`: when its thread ends unasked (a crash, or terminated after a
   * statement outran `statementTimeoutMs`), a new thread reopens the data directory after this
   * long, doubling with every death or failed start in a row up to `restartMaxMs`; queries fail
   * with `DatabaseError` meanwhile. In memory there is nothing to reopen: the database is lost and
   * every query fails with `DatabaseLostError` (`ERR_DATABASE_LOST`). Ignored with `url`.
   * @default 100
   */
  restartMinMs?: number;
  /**
   * PGlite only, with `dataDir`: the longest wait before a new thread starts (see `restartMinMs`).
   * Ignored with `url`.
   * @default 5000
   */
  restartMaxMs?: number;
  /**
   * PGlite only: the longest its thread may take to open the database, create the schema and apply
   * the migrations, at the first start and at every restart. Past it the thread is terminated:
   * `openDatabase` fails with `DatabaseError` (`ERR_DATABASE`), and a restart counts as a failed
   * one (the next waits longer, see `restartMinMs`). Generous by default: a new database runs
   * `initdb` unless the template cache has it, which takes seconds on a busy machine. Ignored with `url`.
   * @default 120000
   */
  pgliteStartTimeoutMs?: number;
  /**
   * Where a pristine PGlite data directory is cached as a tarball, so that a new database skips
   * `initdb`; `false` turns the cache off. Ignored with `url`.
   * @default `${os.tmpdir()}/switchyard-bot-pglite-<version>.tar.gz`
   */
  pgliteTemplate?: string | false;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The innermost cause's message: drizzle wraps the driver's error ("Failed query: ...") around the reason. */
function rootMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `postgres ${parsed.host}${parsed.pathname}`;
  } catch {
    return 'postgres';
  }
}

/** What {@link BotDatabase.state} says. */
export type DatabaseState = 'ready' | 'restarting' | 'lost' | 'closed';

/**
 * The payload of {@link BotDatabase}'s `state` event, emitted when the embedded database's thread
 * ended (`restarting` or `lost`, with `error`), failed to start again (`restarting`), started again
 * (`ready`), or closed.
 */
export type DatabaseStateChange = PgliteStateChange;

/** Whether `error` or one of its causes has `code`. */
function hasCode(error: unknown, code: string): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++)
    if ((current as { code?: unknown }).code === code) return true;
  return false;
}

/**
 * The bot's PostgreSQL database: `pg` against a server, or an embedded PGlite. Its tables are
 * created and upgraded by {@link openDatabase}, which applies the migrations. Every query goes through {@link BotDatabase.run}, which refuses work
 * once the database is closed and lets `close()` wait for the queries in flight.
 */
export class BotDatabase extends EventEmitter<{ state: [DatabaseStateChange] }> {
  /** The drizzle database. Prefer {@link BotDatabase.run}, which `close()` waits for. */
  readonly db: BotDrizzle;
  /** Which driver runs the database. */
  readonly driver: 'pg' | 'pglite';
  /** The schema holding the tables. */
  readonly schema: string;
  /** Where the data lives, without credentials: `postgres 127.0.0.1:5432/test (schema public)`, `pglite (in memory, schema public)`. */
  readonly description: string;
  /**
   * The embedded database's thread (`driver` `pglite`): its `threadId`, its restarts, and
   * `terminate()`, which ends it as a crash would (for fault drills). Undefined with `pg`.
   */
  readonly pglite: PgliteThread | undefined;
  readonly #close: () => Promise<void>;
  readonly #inflight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  /** @internal Use {@link openDatabase}. */
  constructor(parts: {
    db: BotDrizzle;
    driver: 'pg' | 'pglite';
    schema: string;
    description: string;
    close: () => Promise<void>;
    pglite?: PgliteThread;
  }) {
    super();
    this.pglite = parts.pglite;
    this.pglite?.on('state', (change) => this.emit('state', change));
    this.db = parts.db;
    this.driver = parts.driver;
    this.schema = parts.schema;
    this.description = parts.description;
    this.#close = parts.close;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Whether queries can run: `ready`; `restarting` while the embedded database's thread is started
   * again after it ended; `lost` once an in-memory embedded database ended with its thread (for
   * good); `closed`. A server (`pg`) is `ready` until closed: its outages show as failed queries.
   */
  get state(): DatabaseState {
    if (this.#closing !== undefined) return 'closed';
    return this.pglite?.state ?? 'ready';
  }

  /**
   * Runs `query` on the database. Rejects with `DatabaseClosedError` once the database is closed,
   * `DatabaseLostError` once an in-memory embedded database is lost, and wraps the driver's other
   * errors in `DatabaseError` (`cause`: the driver's error).
   */
  run<T>(what: string, query: (db: BotDrizzle) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined)
      return Promise.reject(new DatabaseClosedError(`The database is closed; cannot ${what}.`));
    const running = (async () => {
      try {
        return await query(this.db);
      } catch (error) {
        if (hasCode(error, 'ERR_DATABASE_LOST'))
          throw new DatabaseLostError(`Could not ${what}: ${rootMessage(error)}`, { cause: error });
        throw new DatabaseError(`Could not ${what}: ${rootMessage(error)}`, { cause: error });
      }
    })();
    this.#inflight.add(running);
    void running.then(
      () => this.#inflight.delete(running),
      () => this.#inflight.delete(running),
    );
    return running;
  }

  /** Waits for the queries in flight, then closes the connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inflight]);
      await this.#close();
    })();
    return this.#closing;
  }

  /** Calls {@link BotDatabase.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Applies the migrations not applied yet, on one connection holding a session advisory lock for
 * the schema: bots starting at once on one server migrate one after the other (the second finds
 * nothing left to do). The lock wait is bounded by the statement timeout.
 */
async function migratePgPool(pool: pg.Pool, schemaName: string): Promise<void> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [migrationLockKey(schemaName)]);
    try {
      // Under the lock: CREATE SCHEMA IF NOT EXISTS races with itself on a unique index.
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schemaName}"`);
      await migratePg(drizzlePg({ client }), migrationConfig(schemaName));
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [migrationLockKey(schemaName)]).catch(() => {
        // The connection is gone, and its lock with it: the pool must not hand it out again.
        broken = true;
      });
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Opens the bot's database and applies the migrations it lacks (drizzle-kit's, in drizzle/; the
 * tables are created on a new database and upgraded on an older one, rows kept), under an advisory
 * lock: PostgreSQL through `pg` when `url` is given, else an embedded PGlite (in memory, or in
 * `dataDir`) run by a worker thread of its own, so that its WebAssembly never holds up this thread
 * (drizzle reaches it through `drizzle-orm/pg-proxy`).
 *
 * @example
 * ```ts
 * const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: process.env.BOT_DATA_DIR });
 * const store = new PostgresKvStore(database);
 * // ...
 * await database.close();
 * ```
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<BotDatabase> {
  if (options === null || typeof options !== 'object')
    throw new BotConfigError(`Expected the database options to be an object, got ${describeValue(options)}.`);
  const {
    url,
    dataDir,
    schema: schemaName = 'public',
    maxConnections = 4,
    pgliteTemplate = defaultPgliteTemplate(),
    connectTimeoutMs = 10_000,
    statementTimeoutMs = 30_000,
    restartMinMs = 100,
    restartMaxMs = 5000,
    pgliteStartTimeoutMs = 120_000,
  } = options;
  if (url !== undefined && (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url))) {
    throw new BotConfigError(
      `Expected \`url\` to be a postgres:// connection string, got ${typeof url === 'string' ? 'a string of another form' : describeValue(url)}.`,
    );
  }
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.length === 0)) {
    throw new BotConfigError(`Expected \`dataDir\` to be a non-empty path, got ${describeValue(dataDir)}.`);
  }
  if (typeof schemaName !== 'string' || !SCHEMA_NAME.test(schemaName)) {
    throw new BotConfigError(
      `Expected \`schema\` to be a lower-case identifier (letters, digits, _; at most 63), got ${describeValue(schemaName)}.`,
    );
  }
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
    throw new BotConfigError(
      `Expected \`maxConnections\` to be an integer >= 1, got ${describeValue(maxConnections)}.`,
    );
  }
  for (const [name, value] of [
    ['connectTimeoutMs', connectTimeoutMs],
    ['statementTimeoutMs', statementTimeoutMs],
    ['restartMinMs', restartMinMs],
    ['restartMaxMs', restartMaxMs],
    ['pgliteStartTimeoutMs', pgliteStartTimeoutMs],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new BotConfigError(`Expected \`${name}\` to be an integer >= 1 (ms), got ${describeValue(value)}.`);
  }
  if (restartMaxMs < restartMinMs) {
    throw new BotConfigError(
      `Expected \`restartMaxMs\` to be >= \`restartMinMs\` (${restartMinMs}), got ${describeValue(restartMaxMs)}.`,
    );
  }
  if (pgliteTemplate !== false && (typeof pgliteTemplate !== 'string' || pgliteTemplate.length === 0)) {
    throw new BotConfigError(
      `Expected \`pgliteTemplate\` to be a path or false, got ${describeValue(pgliteTemplate)}.`,
    );
  }

  if (url === undefined) {
    // PGlite in a thread of its own, which opens it and applies the migrations under the lock.
    const thread = await PgliteThread.start(
      { dataDir, template: pgliteTemplate, schema: schemaName },
      { statementTimeoutMs, restartMinMs, restartMaxMs, startTimeoutMs: pgliteStartTimeoutMs },
    );
    const db = drizzleProxy(
      async (query, params, method) => {
        const result = await thread.query(query, params, method === 'all' ? 'array' : 'object');
        // 'all' (a mapped select) wants the rows as arrays; anything else gets the driver's result
        // ({ rows, affectedRows }), as db.execute() does with pg and drizzle's PGlite driver.
        return { rows: method === 'all' ? result.rows : (result as unknown as unknown[]) };
      },
      { schema },
    ) as unknown as BotDrizzle;
    return new BotDatabase({
      db,
      driver: 'pglite',
      schema: schemaName,
      description: describePglite(dataDir, schemaName),
      close: () => thread.close(),
      pglite: thread,
    });
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    options: `-c search_path=${schemaName}`,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1000,
    // A connection whose transaction was abandoned (the bot died mid-way) does not hold its locks forever.
    idle_in_transaction_session_timeout: statementTimeoutMs,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const database = new BotDatabase({
    db: drizzlePg({ client: pool, schema }) as unknown as BotDrizzle,
    driver: 'pg',
    schema: schemaName,
    description: `${describeUrl(url)} (schema ${schemaName})`,
    close: () => pool.end(),
  });
  try {
    await migratePgPool(pool, schemaName);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw new DatabaseError(`Could not migrate the tables in ${database.description}: ${causeMessages(error)}`, {
      cause: error,
    });
  }
  return database;
}
