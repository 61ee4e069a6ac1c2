import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { BotDatabase } from '../../src/index.js';
import {
  defaultPgliteTemplate,
  MIGRATIONS_FOLDER,
  MIGRATIONS_TABLE,
  openDatabase,
  openPglite,
} from '../../src/index.js';
import { DATABASE_URL, disposeDatabase, dropSchema, testDatabase, uniqueSchema } from '../helpers/database.js';

const run = promisify(execFile);
const PACKAGE = fileURLToPath(new URL('../..', import.meta.url));
const DRIZZLE_KIT = join(PACKAGE, 'node_modules/.bin/drizzle-kit');

/** The DDL the bot ran at every start before it had migrations (the last version, with action_key). */
const LEGACY_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS tenant_kv (
    tenant_kind text NOT NULL CHECK (tenant_kind IN ('guild', 'user')),
    tenant_id text NOT NULL,
    key text COLLATE "C" NOT NULL,
    value bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_kv_pkey PRIMARY KEY (tenant_kind, tenant_id, key)
  )`,
  `CREATE TABLE IF NOT EXISTS moderation_actions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id text NOT NULL,
    user_id text NOT NULL,
    action text NOT NULL,
    reason text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    ok boolean NOT NULL,
    error text,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  'CREATE INDEX IF NOT EXISTS moderation_actions_guild_created_idx ON moderation_actions (guild_id, created_at)',
  'ALTER TABLE moderation_actions ADD COLUMN IF NOT EXISTS action_key text',
  'CREATE UNIQUE INDEX IF NOT EXISTS moderation_actions_action_key_idx ON moderation_actions (action_key)',
];
/** The DDL of the first release, before the audit outbox added action_key. */
const FIRST_DDL = LEGACY_DDL.slice(0, 3);

/** Rows an older bot wrote: they must survive the upgrade. */
const LEGACY_ROWS: readonly string[] = [
  `INSERT INTO tenant_kv (tenant_kind, tenant_id, key, value) VALUES ('guild', '42', 'strikes:7', '\\x0102')`,
  `INSERT INTO moderation_actions (guild_id, user_id, action, reason, ok) VALUES ('42', '7', 'ban', 'spam', true)`,
];

interface Shape {
  columns: unknown[];
  constraints: unknown[];
  indexes: unknown[];
}

/** Everything about the tables of the database's schema a migration could change. */
async function shapeOf(database: BotDatabase): Promise<Shape> {
  const rows = async (query: ReturnType<typeof sql>): Promise<unknown[]> =>
    ((await database.run('describe the schema', (db) => db.execute(query))) as unknown as { rows: unknown[] }).rows;
  const schema = database.schema;
  return {
    columns: await rows(sql`
      SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name, is_identity,
             identity_generation
        FROM information_schema.columns
       WHERE table_schema = ${schema} AND table_name <> ${MIGRATIONS_TABLE}
       ORDER BY table_name, column_name`),
    constraints: await rows(sql`
      SELECT c.relname AS table_name, k.conname, pg_get_constraintdef(k.oid) AS definition
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = ${schema} AND c.relname <> ${MIGRATIONS_TABLE}
       ORDER BY c.relname, k.conname`),
    indexes: await rows(sql`
      SELECT tablename, indexname, replace(indexdef, ${`${schema}.`}, '') AS definition
        FROM pg_indexes
       WHERE schemaname = ${schema} AND tablename <> ${MIGRATIONS_TABLE}
       ORDER BY tablename, indexname`),
  };
}

async function appliedMigrations(database: BotDatabase): Promise<string[]> {
  const result = (await database.run('list the migrations', (db) =>
    db.execute(sql.raw(`SELECT hash FROM "${database.schema}"."${MIGRATIONS_TABLE}" ORDER BY id`)),
  )) as unknown as { rows: Array<{ hash: string }> };
  return result.rows.map((row) => row.hash);
}

async function journalEntries(): Promise<number> {
  const journal = JSON.parse(await readFile(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

/**
 * Creates the tables with `ddl` (an older bot's start) and writes its rows, then opens the
 * database as the bot does now: PGlite in a data directory, or a schema of its own on the server.
 */
async function upgradeFrom(ddl: readonly string[]): Promise<{ database: BotDatabase; cleanup: () => Promise<void> }> {
  if (DATABASE_URL === undefined) {
    const dataDir = await mkdtemp(join(tmpdir(), 'bot-upgrade-'));
    const old = await openPglite(dataDir, defaultPgliteTemplate());
    for (const statement of [...ddl, ...LEGACY_ROWS]) await old.exec(statement);
    await old.close();
    const database = await openDatabase({ dataDir });
    return {
      database,
      cleanup: async () => {
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const schema = uniqueSchema();
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    for (const statement of [...ddl, ...LEGACY_ROWS]) await client.query(statement);
  } finally {
    await client.end();
  }
  const database = await openDatabase({ url: DATABASE_URL, schema });
  return { database, cleanup: () => disposeDatabase(database) };
}

let fresh: BotDatabase | undefined;

afterAll(async () => {
  await disposeDatabase(fresh);
});

describe('migrations', () => {
  it('creates the tables of a new database from the committed migrations, each recorded once', async () => {
    fresh = await testDatabase();
    expect(await appliedMigrations(fresh)).toHaveLength(await journalEntries());
    const shape = await shapeOf(fresh);
    // What the hand-written DDL had and the drizzle schema lacked: the CHECK and the "C" collation.
    expect(shape.constraints).toContainEqual({
      table_name: 'tenant_kv',
      conname: 'tenant_kv_tenant_kind_check',
      definition: "CHECK ((tenant_kind = ANY (ARRAY['guild'::text, 'user'::text])))",
    });
    expect(shape.columns).toContainEqual(expect.objectContaining({ column_name: 'key', collation_name: 'C' }));
    const refused = await fresh
      .run('insert a bad tenant kind', (db) =>
        db.execute(sql`INSERT INTO tenant_kv (tenant_kind, tenant_id, key, value) VALUES ('team', '1', 'k', '\\x00')`),
      )
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'ERR_DATABASE', cause: { cause: { code: '23514' } } });
  });

  it('applies nothing twice when the database is opened again', async () => {
    if (DATABASE_URL === undefined) {
      const dataDir = await mkdtemp(join(tmpdir(), 'bot-reopen-'));
      try {
        await (await openDatabase({ dataDir })).close();
        const again = await openDatabase({ dataDir });
        expect(await appliedMigrations(again)).toHaveLength(await journalEntries());
        await again.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    } else {
      const schema = uniqueSchema();
      try {
        await (await openDatabase({ url: DATABASE_URL, schema })).close();
        const again = await openDatabase({ url: DATABASE_URL, schema });
        expect(await appliedMigrations(again)).toHaveLength(await journalEntries());
        await again.close();
      } finally {
        await dropSchema(schema);
      }
    }
  });

  it.each([
    ['the hand-written DDL of the last release', LEGACY_DDL],
    ['the DDL of the first release (no action_key)', FIRST_DDL],
  ])('upgrades a database created by %s: rows kept, the same tables as a new one', async (_name, ddl) => {
    fresh ??= await testDatabase();
    const { database, cleanup } = await upgradeFrom(ddl);
    try {
      expect(await shapeOf(database)).toEqual(await shapeOf(fresh));
      expect(await appliedMigrations(database)).toHaveLength(await journalEntries());
      const kv = (await database.run('read the kv', (db) =>
        db.execute(sql`SELECT tenant_kind, tenant_id, key, encode(value, 'hex') AS value FROM tenant_kv`),
      )) as unknown as { rows: unknown[] };
      expect(kv.rows).toEqual([{ tenant_kind: 'guild', tenant_id: '42', key: 'strikes:7', value: '0102' }]);
      const actions = (await database.run('read the audit', (db) =>
        db.execute(sql`SELECT id, guild_id, user_id, action, reason, ok, action_key FROM moderation_actions`),
      )) as unknown as { rows: Array<Record<string, unknown>> };
      expect(actions.rows).toEqual([
        {
          id: expect.anything(),
          guild_id: '42',
          user_id: '7',
          action: 'ban',
          reason: 'spam',
          ok: true,
          action_key: null,
        },
      ]);
    } finally {
      await cleanup();
    }
  });

  if (DATABASE_URL !== undefined) {
    // Only a server has several sessions: an embedded PGlite belongs to one process.
    it('lets bots starting at once on one server migrate one after the other, under the advisory lock', async () => {
      const schema = uniqueSchema();
      try {
        const databases = await Promise.all(
          Array.from({ length: 4 }, () => openDatabase({ url: DATABASE_URL!, schema, maxConnections: 1 })),
        );
        expect(await appliedMigrations(databases[0]!)).toHaveLength(await journalEntries());
        for (const database of databases) await database.close();
      } finally {
        await dropSchema(schema);
      }
    });
  }

  it('fails with ERR_DATABASE, naming the database, when a migration cannot be applied', async () => {
    // A table in the way, of another shape: the migration's index on it cannot be created.
    if (DATABASE_URL === undefined) {
      const dataDir = await mkdtemp(join(tmpdir(), 'bot-broken-'));
      try {
        const old = await openPglite(dataDir, defaultPgliteTemplate());
        await old.exec('CREATE TABLE moderation_actions (id int)');
        await old.close();
        const error = await openDatabase({ dataDir }).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'ERR_DATABASE' });
        expect((error as Error).message).toMatch(/^Could not migrate the tables in pglite \(.+\): .*guild_id/);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    } else {
      const schema = uniqueSchema();
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".moderation_actions (id int)`);
        const error = await openDatabase({ url: DATABASE_URL, schema }).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'ERR_DATABASE' });
        expect((error as Error).message).toMatch(/^Could not migrate the tables in postgres .+: .*guild_id/);
      } finally {
        // Not dropSchema(): opening the broken schema would fail the same way.
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
    }
  });
});

describe('the committed migrations', () => {
  it('match the schema: drizzle-kit generates nothing new from src/db/schema.ts', async () => {
    const out = await mkdtemp(join(tmpdir(), 'bot-drizzle-'));
    try {
      await cp(MIGRATIONS_FOLDER, out, { recursive: true });
      const before = await readdir(out);
      const { stdout } = await run(
        DRIZZLE_KIT,
        // drizzle-kit reads --out relative to the working directory, even an absolute path.
        ['generate', '--dialect', 'postgresql', '--schema', './src/db/schema.ts', '--out', relative(PACKAGE, out)],
        { cwd: PACKAGE },
      );
      expect(stdout).toContain('No schema changes, nothing to migrate');
      expect(await readdir(out)).toEqual(before);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('pass drizzle-kit check', async () => {
    const { stdout } = await run(DRIZZLE_KIT, ['check'], { cwd: PACKAGE });
    expect(stdout).toContain("Everything's fine");
  });
});
