import { sql } from 'drizzle-orm';
import type { BotDatabase, BotTopology, DatabaseOptions } from '../../src/index.js';
import { openDatabase } from '../../src/index.js';

let counter = 0;

/** Every topology the bot runs on: the behavioural suites run once per topology. */
export const TOPOLOGIES: readonly BotTopology[] = ['thread', 'process', 'local'];

/** The PostgreSQL server the tests use when CI sets DATABASE_URL; PGlite otherwise. */
export const DATABASE_URL = process.env.DATABASE_URL === '' ? undefined : process.env.DATABASE_URL;

/** A schema name no other test (or test run) uses. */
export function uniqueSchema(): string {
  return `bot_test_${process.pid}_${Date.now().toString(36)}_${++counter}`;
}

/** A database for one test: the real PostgreSQL with a schema of its own when DATABASE_URL is set, else an in-memory PGlite. */
export async function testDatabase(options: DatabaseOptions = {}): Promise<BotDatabase> {
  return openDatabase({
    ...(DATABASE_URL === undefined ? {} : { url: DATABASE_URL, schema: uniqueSchema() }),
    ...options,
  });
}

/** Drops the test's schema (on a server; PGlite's memory goes with it) and closes the database. */
export async function disposeDatabase(database: BotDatabase | undefined): Promise<void> {
  if (database === undefined) return;
  if (database.closed) {
    if (database.driver === 'pg' && database.schema !== 'public') await dropSchema(database.schema);
    return;
  }
  if (database.driver === 'pg' && database.schema !== 'public')
    await database.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${database.schema}" CASCADE`));
  await database.close();
}

/** Drops a schema through a connection of its own (after the database that used it was closed). */
export async function dropSchema(schema: string): Promise<void> {
  if (DATABASE_URL === undefined) return;
  const database = await openDatabase({ url: DATABASE_URL, schema });
  await disposeDatabase(database);
}
