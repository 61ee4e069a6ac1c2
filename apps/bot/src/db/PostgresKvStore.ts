import { deserialize, serialize } from 'node:v8';
import type { KvStore, TenantId } from '@switchyard/core';
import { assertTenantId, InvalidArgumentError } from '@switchyard/core';
import { and, asc, eq, sql } from 'drizzle-orm';
import { KvValueError } from '../errors/errors.js';
import type { BotDatabase } from './Database.js';
import { tenantKv } from './schema.js';

/** The longest key {@link PostgresKvStore} accepts, in characters. */
export const MAX_KV_KEY_LENGTH = 512;

function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KV_KEY_LENGTH) {
    const got = typeof key === 'string' ? `a string of ${key.length} characters` : key === null ? 'null' : typeof key;
    throw new InvalidArgumentError(
      `Expected the key to be a string of 1 to ${MAX_KV_KEY_LENGTH} characters, got ${got}.`,
    );
  }
  if (key.includes('\0')) throw new InvalidArgumentError('Expected the key to contain no NUL character, got one.');
}

function encode(value: unknown): Buffer {
  if (value === undefined)
    throw new InvalidArgumentError('Expected a value to store, got undefined; use delete() to remove a key.');
  try {
    return serialize(value);
  } catch (error) {
    throw new KvValueError(`The value cannot be stored: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

function decode(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

function where(tenant: TenantId, key: string) {
  return and(eq(tenantKv.tenantKind, tenant.kind), eq(tenantKv.tenantId, tenant.id), eq(tenantKv.key, key));
}

/**
 * A core `KvStore` in PostgreSQL (the `tenant_kv` table), through drizzle: what the worker
 * threads' `ctx.kv` reads and writes, served by the main thread, which alone holds the database.
 * Values are `v8.serialize`d into `bytea`, so every structured-cloneable value round-trips
 * (`Map`, `Set`, `Date`, `BigInt`, typed arrays, errors, cycles); anything else is refused with
 * `KvValueError`. `list(prefix)` orders keys by code point.
 *
 * @example
 * ```ts
 * const database = await openDatabase();
 * const pool = await createThreadPool({ workers: 2, filename, store: new PostgresKvStore(database) });
 * ```
 */
export class PostgresKvStore implements KvStore {
  readonly #database: BotDatabase;

  constructor(database: BotDatabase) {
    if (
      database === null ||
      typeof database !== 'object' ||
      typeof (database as Partial<BotDatabase>).run !== 'function'
    ) {
      throw new InvalidArgumentError(
        `Expected \`database\` to be a BotDatabase from openDatabase(), got ${database === null ? 'null' : typeof database}.`,
      );
    }
    this.#database = database;
  }

  async get(tenant: TenantId, key: string): Promise<unknown> {
    assertTenantId(tenant);
    assertKey(key);
    const rows = await this.#database.run('read from the key-value store', (db) =>
      db.select({ value: tenantKv.value }).from(tenantKv).where(where(tenant, key)).limit(1),
    );
    return rows[0] === undefined ? undefined : decode(rows[0].value);
  }

  async set(tenant: TenantId, key: string, value: unknown): Promise<void> {
    assertTenantId(tenant);
    assertKey(key);
    const bytes = encode(value);
    await this.#database.run('write to the key-value store', (db) =>
      db
        .insert(tenantKv)
        .values({ tenantKind: tenant.kind, tenantId: tenant.id, key, value: bytes })
        .onConflictDoUpdate({
          target: [tenantKv.tenantKind, tenantKv.tenantId, tenantKv.key],
          set: { value: bytes, updatedAt: sql`now()` },
        }),
    );
  }

  async delete(tenant: TenantId, key: string): Promise<boolean> {
    assertTenantId(tenant);
    assertKey(key);
    const rows = await this.#database.run('delete from the key-value store', (db) =>
      db.delete(tenantKv).where(where(tenant, key)).returning({ key: tenantKv.key }),
    );
    return rows.length > 0;
  }

  async list(tenant: TenantId, prefix = ''): Promise<Array<[string, unknown]>> {
    assertTenantId(tenant);
    if (typeof prefix !== 'string')
      throw new InvalidArgumentError(
        `Expected the prefix to be a string, got ${prefix === null ? 'null' : typeof prefix}.`,
      );
    if (prefix.includes('\0'))
      throw new InvalidArgumentError('Expected the prefix to contain no NUL character, got one.');
    const rows = await this.#database.run('list the key-value store', (db) =>
      db
        .select({ key: tenantKv.key, value: tenantKv.value })
        .from(tenantKv)
        .where(
          and(
            eq(tenantKv.tenantKind, tenant.kind),
            eq(tenantKv.tenantId, tenant.id),
            prefix === '' ? undefined : sql`starts_with(${tenantKv.key}, ${prefix})`,
          ),
        )
        .orderBy(asc(tenantKv.key)),
    );
    return rows.map((row): [string, unknown] => [row.key, decode(row.value)]);
  }
}
