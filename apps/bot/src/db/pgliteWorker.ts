/**
 * The entry of the thread that owns the bot's embedded PGlite for {@link PgliteThread} (built to
 * `dist/db/pgliteWorker.js`): it opens the database, creates the schema, applies the migrations
 * under the advisory lock, then runs the statements the main thread sends, so that PGlite's
 * WebAssembly never runs in the bot's main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite, QueryOptions } from '@electric-sql/pglite';
import { types } from '@electric-sql/pglite';
import { serializeError } from '@switchyard/core';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { migrationConfig, migrationLockKey } from './migrations.js';
import { openPglite } from './pglite.js';
import type { PgliteRequest, PgliteResponse, PgliteThreadData } from './PgliteThread.js';

const port = parentPort!;
const data = workerData as PgliteThreadData;
const reply = (response: PgliteResponse): void => port.postMessage(response);

/**
 * Dates, times and intervals stay the strings PostgreSQL sent, as drizzle's own PGlite driver asks:
 * drizzle's column types parse them.
 */
const KEEP_AS_TEXT = Object.fromEntries(
  [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((oid) => [
    oid,
    (value: string) => value,
  ]),
);
const QUERY_OPTIONS: Record<'array' | 'object', QueryOptions> = {
  array: { rowMode: 'array', parsers: KEEP_AS_TEXT },
  object: { rowMode: 'object', parsers: KEEP_AS_TEXT },
};

async function migrateUnderLock(client: PGlite, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [migrationLockKey(schema)]);
  try {
    await migrate(drizzle({ client }), migrationConfig(schema));
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [migrationLockKey(schema)]);
  }
}

/** Opens, selects the schema and migrates; the reason why not is sent to the main thread. */
async function open(): Promise<PGlite | undefined> {
  let client: PGlite;
  try {
    client = await openPglite(data.dataDir, data.template);
  } catch (error) {
    reply({ id: 0, ok: false, stage: 'open', error: serializeError(error) });
    return undefined;
  }
  let stage: 'schema' | 'migrate' = 'schema';
  try {
    await client.exec(`CREATE SCHEMA IF NOT EXISTS "${data.schema}"; SET search_path TO "${data.schema}"`);
    stage = 'migrate';
    await migrateUnderLock(client, data.schema);
    return client;
  } catch (error) {
    await client.close().catch(() => undefined);
    reply({ id: 0, ok: false, stage, error: serializeError(error) });
    return undefined;
  }
}

function serve(client: PGlite): void {
  port.on('message', (request: PgliteRequest) => {
    if (request.op === 'close') {
      void client.close().then(
        () => reply({ id: request.id, ok: true }),
        (error: unknown) => reply({ id: request.id, ok: false, error: serializeError(error) }),
      );
      return;
    }
    // PGlite runs one statement at a time and queues the others, in the order they came.
    client.query(request.sql, [...request.params], QUERY_OPTIONS[request.rowMode]).then(
      (result) =>
        reply({
          id: request.id,
          ok: true,
          result: {
            rows: result.rows as unknown[],
            ...(result.affectedRows === undefined ? {} : { affectedRows: result.affectedRows }),
          },
        }),
      (error: unknown) => reply({ id: request.id, ok: false, error: serializeError(error) }),
    );
  });
  reply({ id: 0, ok: true, ready: true });
}

// Without a database nothing listens, and the thread ends (the main thread terminates it anyway).
const client = await open();
if (client !== undefined) serve(client);
