import type { AddressInfo, Socket } from 'node:net';
import { createServer } from 'node:net';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDatabase, DatabaseOptions } from '../../src/index.js';
import { defaultPgliteTemplate, ModerationLog, openDatabase, openPglite, pgliteVersion } from '../../src/index.js';
import { DATABASE_URL, disposeDatabase, testDatabase } from '../helpers/database.js';
import { StoppableDatabase } from '../helpers/StoppableDatabase.js';

let database: BotDatabase;

beforeAll(async () => {
  database = await testDatabase();
});

afterAll(async () => {
  await disposeDatabase(database);
});

describe('openDatabase', () => {
  it('describes where the data lives, without credentials', () => {
    if (DATABASE_URL === undefined) {
      expect(database).toMatchObject({
        driver: 'pglite',
        schema: 'public',
        description: 'pglite (in memory, schema public)',
      });
    } else {
      expect(database.driver).toBe('pg');
      expect(database.description).toMatch(/^postgres [^@]+ \(schema bot_test_\w+\)$/);
    }
  });

  it('creates the tenant_kv and moderation_actions tables in its schema, and the migrations table', async () => {
    const result = await database.run('list the tables', (db) =>
      db.execute<{ table_name: string }>(
        sql`SELECT table_name FROM information_schema.tables WHERE table_schema = ${database.schema} ORDER BY table_name`,
      ),
    );
    // Both drivers answer raw queries with { rows }.
    expect((result as { rows: Array<{ table_name: string }> }).rows.map((row) => row.table_name)).toEqual([
      '__drizzle_migrations',
      'moderation_actions',
      'tenant_kv',
    ]);
  });

  it.each<[string, unknown]>([
    ['options that are not an object', null],
    ['a url that is not postgres://', { url: 'mysql://localhost/db' }],
    ['an empty dataDir', { dataDir: '' }],
    ['a schema with capitals', { schema: 'Moderation' }],
    ['a schema with a dash', { schema: 'bot-data' }],
    ['a schema starting with a digit', { schema: '1bot' }],
    ['a schema of 64 characters', { schema: 'b'.repeat(64) }],
    ['zero connections', { maxConnections: 0 }],
    ['an empty pgliteTemplate', { pgliteTemplate: '' }],
    ['a connectTimeoutMs of 0', { connectTimeoutMs: 0 }],
    ['a statementTimeoutMs that is not an integer', { statementTimeoutMs: 1.5 }],
  ])('rejects %s with ERR_BOT_CONFIG', async (_name, options) => {
    await expect(openDatabase(options as DatabaseOptions)).rejects.toMatchObject({ code: 'ERR_BOT_CONFIG' });
  });

  it('rejects with ERR_DATABASE when the server cannot be reached', async () => {
    const error = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'ERR_DATABASE', name: 'DatabaseError' });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe('timeouts', () => {
  it('gives up connecting to a server that accepts connections but never answers, with ERR_DATABASE', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const error = await openDatabase({
        url: `postgres://postgres@127.0.0.1:${port}/none`,
        connectTimeoutMs: 1000,
      }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_DATABASE' });
      expect(String((error as Error).message)).toMatch(/timeout/i);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('fails a statement whose server stopped answering, with ERR_DATABASE', async () => {
    const server = await StoppableDatabase.start();
    const opened = await openDatabase({ url: server.url, schema: server.schema, statementTimeoutMs: 1000 });
    try {
      server.freeze();
      const error = await opened.run('read', (db) => db.execute(sql`SELECT 1`)).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_DATABASE' });
      expect(String((error as Error).message)).toMatch(/timeout/i);
    } finally {
      server.freeze(false);
      await server.stop();
      await server.start();
      await disposeDatabase(opened);
      await server.close();
    }
  });
});

describe('PGlite', () => {
  it('runs in a thread of its own: this thread keeps turning while a statement runs', async () => {
    // Whatever DATABASE_URL says: this is about the embedded database.
    const embedded = await openDatabase({});
    try {
      let done = false;
      const sleeping = embedded
        .run('sleep', (db) => db.execute(sql`SELECT pg_sleep(1)`))
        .finally(() => {
          done = true;
        });
      let turns = 0;
      while (!done) {
        await new Promise((resolve) => setImmediate(resolve));
        turns++;
      }
      await sleeping;
      // In this thread, PGlite's WebAssembly would hold the event loop for the whole second (a
      // turn or two at most); from another thread it turns thousands of times meanwhile.
      expect(turns).toBeGreaterThan(20);
    } finally {
      await embedded.close();
    }
  });

  it('reads back what it wrote, of every column type the bot uses', async () => {
    const embedded = await openDatabase({});
    try {
      const log = new ModerationLog(embedded);
      const at = new Date('2026-01-02T03:04:05.678Z');
      await log.recordMany([
        {
          guildId: '9',
          userId: '8',
          action: 'ban',
          reason: 'r',
          details: { deleteMessageSeconds: 3600, nested: { list: [1, 'two'] } },
          ok: false,
          error: 'refused',
          createdAt: at,
          key: 'k1',
        },
      ]);
      // The same key again adds nothing.
      await log.record({
        guildId: '9',
        userId: '8',
        action: 'ban',
        reason: 'r',
        details: {},
        ok: true,
        error: null,
        key: 'k1',
      });
      expect(await log.list({ guildId: '9' })).toEqual([
        {
          id: expect.any(Number),
          guildId: '9',
          userId: '8',
          action: 'ban',
          reason: 'r',
          details: { deleteMessageSeconds: 3600, nested: { list: [1, 'two'] } },
          ok: false,
          error: 'refused',
          createdAt: at,
          actionKey: 'k1',
        },
      ]);
      const raw = (await embedded.run('read raw', (db) =>
        db.execute(sql`SELECT count(*)::int AS n FROM moderation_actions`),
      )) as unknown as { rows: Array<{ n: number }> };
      expect(raw.rows).toEqual([{ n: 1 }]);
    } finally {
      await embedded.close();
    }
  });
});

describe('BotDatabase', () => {
  it("wraps a failed query in ERR_DATABASE with the driver's error as cause", async () => {
    const error = await database
      .run('read nothing', (db) => db.execute(sql`SELECT * FROM no_such_table`))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'ERR_DATABASE',
      message: expect.stringMatching(/^Could not read nothing: .*no_such_table/),
    });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe('ModerationLog', () => {
  it('records actions and lists them oldest first, all or of one guild', async () => {
    const log = new ModerationLog(database);
    await log.record({
      guildId: '1',
      userId: '10',
      action: 'timeout',
      reason: 'spam',
      details: { durationMs: 60_000 },
      ok: true,
      error: null,
    });
    await log.record({
      guildId: '2',
      userId: '20',
      action: 'ban',
      reason: 'raid',
      details: {},
      ok: false,
      error: 'Missing Permissions',
    });
    await log.record({
      guildId: '1',
      userId: '11',
      action: 'deleteMessage',
      reason: 'word',
      details: { channelId: '5', messageId: '6' },
      ok: true,
      error: null,
    });
    const all = await log.list();
    expect(all.map((row) => [row.guildId, row.action])).toEqual([
      ['1', 'timeout'],
      ['2', 'ban'],
      ['1', 'deleteMessage'],
    ]);
    expect(all[1]).toMatchObject({
      userId: '20',
      reason: 'raid',
      ok: false,
      error: 'Missing Permissions',
      details: {},
    });
    expect(all[0]!.createdAt).toBeInstanceOf(Date);
    expect(all[0]!.id).toBeLessThan(all[1]!.id);
    expect((await log.list({ guildId: '1' })).map((row) => row.details)).toEqual([
      { durationMs: 60_000 },
      { channelId: '5', messageId: '6' },
    ]);
    expect(await log.list({ guildId: '3' })).toEqual([]);
  });

  it('writes an entry once per key: a retried write adds no second row', async () => {
    const log = new ModerationLog(database);
    const entry = {
      guildId: '7',
      userId: '70',
      action: 'ban' as const,
      reason: 'raid',
      details: {},
      ok: true,
      error: null,
      key: 'outbox-1:1',
      createdAt: new Date('2026-01-02T03:04:05Z'),
    };
    await log.recordMany([entry, { ...entry, key: 'outbox-1:2' }]);
    await log.recordMany([entry]);
    const rows = await log.list({ guildId: '7' });
    expect(rows.map((row) => row.actionKey)).toEqual(['outbox-1:1', 'outbox-1:2']);
    expect(rows[0]!.createdAt.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('throws ERR_INVALID_ARGUMENT without a database', () => {
    expect(() => new ModerationLog(null as unknown as BotDatabase)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('PGlite template', () => {
  it('is cached per PGlite version in the temporary directory', () => {
    expect(pgliteVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(defaultPgliteTemplate()).toBe(join(tmpdir(), `switchyard-bot-pglite-${pgliteVersion()}.tar.gz`));
  });

  it('starts a new database from the template, leaving the template as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bot-template-'));
    try {
      // The global setup made the default template; work on a copy.
      const template = join(dir, 'template.tar.gz');
      await copyFile(defaultPgliteTemplate(), template);
      const before = await readFile(template);
      const db = await openPglite(undefined, template);
      try {
        expect((await db.query<{ answer: number }>('SELECT 6 * 7 AS answer')).rows).toEqual([{ answer: 42 }]);
      } finally {
        await db.close();
      }
      expect((await readFile(template)).equals(before)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Last: it closes the file's database.
describe('BotDatabase.close', () => {
  it('waits for the queries in flight, then refuses new ones with ERR_DATABASE_CLOSED', async () => {
    const order: string[] = [];
    const slow = database.run('sleep', (db) => db.execute(sql`SELECT pg_sleep(0.2)`)).then(() => order.push('query'));
    const closed = database.close().then(() => order.push('closed'));
    expect(database.closed).toBe(true);
    await Promise.all([slow, closed]);
    expect(order).toEqual(['query', 'closed']);
    await expect(database.run('read', (db) => db.execute(sql`SELECT 1`))).rejects.toMatchObject({
      code: 'ERR_DATABASE_CLOSED',
    });
    await database.close(); // idempotent
  });
});
