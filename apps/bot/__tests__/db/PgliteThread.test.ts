import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDatabase, DatabaseStateChange, ModerationEntry } from '../../src/index.js';
import { AuditOutbox, ModerationLog, openDatabase } from '../../src/index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-bot-pglite-thread-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let dirs = 0;
/** A data directory no other test uses. */
function dataDir(): string {
  return join(dir, `db${++dirs}`);
}

/** The codes along an error's chain of causes, outermost first. */
function codes(error: unknown): unknown[] {
  const found: unknown[] = [];
  for (let current = error; current instanceof Error; current = current.cause)
    found.push((current as { code?: unknown }).code);
  return found;
}

/** Resolves with the next `state` change of `database` to `state`. */
function nextState(database: BotDatabase, state: DatabaseStateChange['state']): Promise<DatabaseStateChange> {
  return new Promise((resolve) => {
    const listener = (change: DatabaseStateChange): void => {
      if (change.state !== state) return;
      database.off('state', listener);
      resolve(change);
    };
    database.on('state', listener);
  });
}

function entry(i: number): ModerationEntry {
  return {
    guildId: '1',
    userId: String(100 + i),
    action: 'deleteMessage',
    reason: 'word',
    details: { messageId: String(i) },
    ok: true,
    error: null,
  };
}

async function count(database: BotDatabase): Promise<number> {
  const result = (await database.run('count', (db) =>
    db.execute(sql`SELECT count(*)::int AS n FROM moderation_actions`),
  )) as unknown as { rows: Array<{ n: number }> };
  return result.rows[0]!.n;
}

describe('the PGlite thread in memory', () => {
  it('fails a statement that runs past statementTimeoutMs with ERR_DATABASE and SQLSTATE 57014, then is lost', async () => {
    // PGlite ignores SET statement_timeout: pg_sleep(2) under 100 ms completes. The main thread times it.
    const database = await openDatabase({ statementTimeoutMs: 2000 });
    try {
      const lost = nextState(database, 'lost');
      const error = await database
        .run('sleep', (db) => db.execute(sql`SELECT pg_sleep(600)`))
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_DATABASE', message: expect.stringMatching(/statement timeout/) });
      expect(codes(error)).toContain('57014');
      // The hung thread is terminated, and its memory with it: nothing starts empty in its place.
      expect((await lost).error).toMatchObject({ code: 'ERR_DATABASE_LOST' });
      expect(database.state).toBe('lost');
      expect(database.pglite!.threadId).toBeUndefined();
      await expect(database.run('read', (db) => db.execute(sql`SELECT 1`))).rejects.toMatchObject({
        code: 'ERR_DATABASE_LOST',
      });
    } finally {
      await database.close();
    }
    expect(database.state).toBe('closed');
  });

  it('fails the statements in flight and every later one with ERR_DATABASE_LOST when the thread dies', async () => {
    const database = await openDatabase({});
    try {
      const log = new ModerationLog(database);
      await log.record(entry(1));
      const inFlight = database
        .run('sleep', (db) => db.execute(sql`SELECT pg_sleep(600)`))
        .catch((caught: unknown) => caught);
      await database.pglite!.terminate();
      expect(await inFlight).toMatchObject({ code: 'ERR_DATABASE_LOST', name: 'DatabaseLostError' });
      expect(database.state).toBe('lost');
      await expect(log.list()).rejects.toMatchObject({ code: 'ERR_DATABASE_LOST' });
      await expect(log.record(entry(2))).rejects.toMatchObject({ code: 'ERR_DATABASE_LOST' });
    } finally {
      await database.close();
    }
  });

  it('keeps every audit row it could not write and reports exactly those at close', async () => {
    const database = await openDatabase({});
    const log = new ModerationLog(database);
    const writtenKeys: string[] = [];
    let batches = 0;
    const outbox = new AuditOutbox(
      {
        recordMany: async (rows: readonly ModerationEntry[]) => {
          await log.recordMany(rows);
          writtenKeys.push(...rows.map((row) => row.key!));
          // Mid-traffic: rows are still queued when the thread dies after the third batch.
          if (++batches === 3) void database.pglite!.terminate();
        },
      } as unknown as ModerationLog,
      { maxBatch: 5, retryMinMs: 10, retryMaxMs: 50 },
    );
    try {
      const lost = nextState(database, 'lost');
      for (let i = 0; i < 40; i++) outbox.add(entry(i));
      await lost;
      for (let i = 40; i < 50; i++) outbox.add(entry(i));
      const report = await outbox.close({ timeoutMs: 200 });
      // What the database took (each batch it acknowledged) is what the outbox counts as written.
      expect(report.written).toBe(writtenKeys.length);
      expect(writtenKeys.length).toBeGreaterThan(0);
      expect(writtenKeys.length).toBeLessThan(40);
      // Every row accepted is either written or reported, never both, never neither, in order.
      expect(report.unwritten).toHaveLength(50 - writtenKeys.length);
      const reported = report.unwritten.map((row) => row.key!);
      expect(new Set([...writtenKeys, ...reported]).size).toBe(50);
      expect(report.unwritten.map((row) => row.userId)).toEqual(
        Array.from({ length: 50 - writtenKeys.length }, (_, i) => String(100 + writtenKeys.length + i)),
      );
      expect(outbox.retries).toBeGreaterThan(0);
    } finally {
      await outbox.close({ timeoutMs: 0 });
      await database.close();
    }
  });
});

describe('the PGlite thread with a data directory', () => {
  it('starts a new thread on the same data when the thread dies, and the outbox writes every row exactly once', async () => {
    const database = await openDatabase({ dataDir: dataDir(), restartMinMs: 20, restartMaxMs: 200 });
    const log = new ModerationLog(database);
    const states: string[] = [];
    database.on('state', (change) => states.push(change.state));
    let batches = 0;
    const firstThread = database.pglite!.threadId;
    const outbox = new AuditOutbox(
      {
        recordMany: async (rows: readonly ModerationEntry[]) => {
          await log.recordMany(rows);
          if (++batches === 3) void database.pglite!.terminate();
        },
      } as unknown as ModerationLog,
      { maxBatch: 5, retryMinMs: 10, retryMaxMs: 100 },
    );
    try {
      const back = nextState(database, 'ready');
      for (let i = 0; i < 40; i++) outbox.add(entry(i));
      await back;
      for (let i = 40; i < 50; i++) outbox.add(entry(i));
      await outbox.idle();
      const report = await outbox.close();
      expect(report).toEqual({ written: 50, unwritten: [] });
      expect(outbox.retries).toBeGreaterThan(0);
      expect(states.slice(0, 2)).toEqual(['restarting', 'ready']);
      expect(database.state).toBe('ready');
      expect(database.pglite!.restarts).toBe(1);
      expect(database.pglite!.threadId).not.toBe(firstThread);
      // The rows written before the death survived it, and none was written twice.
      expect(await count(database)).toBe(50);
      const rows = await log.list();
      expect(rows.map((row) => row.userId)).toEqual(Array.from({ length: 50 }, (_, i) => String(100 + i)));
    } finally {
      await outbox.close({ timeoutMs: 0 });
      await database.close();
    }
  });

  it('fails queries with ERR_DATABASE while the new thread is not started yet, and closes meanwhile', async () => {
    const database = await openDatabase({ dataDir: dataDir(), restartMinMs: 600_000, restartMaxMs: 600_000 });
    const restarting = nextState(database, 'restarting');
    await database.pglite!.terminate();
    expect(await restarting).toMatchObject({ attempt: 1, delayMs: 600_000, error: { code: 'ERR_DATABASE' } });
    expect(database.state).toBe('restarting');
    await expect(database.run('read', (db) => db.execute(sql`SELECT 1`))).rejects.toMatchObject({
      code: 'ERR_DATABASE',
      message: expect.stringMatching(/restarting/),
    });
    // The restart's timer does not hold close() up (nor the process).
    await database.close();
    expect(database.state).toBe('closed');
  });

  it('terminates a thread hung past statementTimeoutMs, failing its statement with 57014, and serves from a new one', async () => {
    const database = await openDatabase({ dataDir: dataDir(), statementTimeoutMs: 2000, restartMinMs: 20 });
    try {
      const log = new ModerationLog(database);
      await log.record(entry(1));
      const back = nextState(database, 'ready');
      const error = await database
        .run('sleep', (db) => db.execute(sql`SELECT pg_sleep(600)`))
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_DATABASE' });
      expect(codes(error)).toContain('57014');
      await back;
      expect((await log.list()).map((row) => row.userId)).toEqual(['101']);
    } finally {
      await database.close();
    }
  });

  it('is lost, rather than started empty, when its data directory no longer holds a database', async () => {
    const directory = dataDir();
    const database = await openDatabase({ dataDir: directory, restartMinMs: 20 });
    try {
      await new ModerationLog(database).record(entry(1));
      const lost = nextState(database, 'lost');
      await rm(directory, { recursive: true, force: true });
      await database.pglite!.terminate();
      expect((await lost).error).toMatchObject({ code: 'ERR_DATABASE_LOST' });
      await expect(database.run('read', (db) => db.execute(sql`SELECT 1`))).rejects.toMatchObject({
        code: 'ERR_DATABASE_LOST',
      });
      expect(database.pglite!.restarts).toBe(0);
    } finally {
      await database.close();
    }
  });
});

describe('openDatabase restart options', () => {
  it.each<[string, object]>([
    ['a restartMinMs of 0', { restartMinMs: 0 }],
    ['a restartMaxMs below restartMinMs', { restartMinMs: 500, restartMaxMs: 100 }],
    ['a pgliteStartTimeoutMs of 0', { pgliteStartTimeoutMs: 0 }],
  ])('rejects %s with ERR_BOT_CONFIG', async (_name, options) => {
    await expect(openDatabase(options)).rejects.toMatchObject({ code: 'ERR_BOT_CONFIG' });
  });

  it('fails with ERR_DATABASE when the thread is not ready within pgliteStartTimeoutMs, and ends that thread', async () => {
    // A thread cannot even start within 1 ms, let alone open PGlite.
    const error = await openDatabase({ pgliteStartTimeoutMs: 1 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_DATABASE' });
    expect(String((error as Error & { cause?: Error }).cause?.message)).toContain(
      'not ready within 1 ms (pgliteStartTimeoutMs)',
    );
    // The thread was terminated: nothing of it keeps the process alive.
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Worker' || r === 'MessagePort')).toEqual([]);
  });

  it('emits closed when closed', async () => {
    const database = await openDatabase({});
    const closed = once(database, 'state');
    await database.close();
    expect(await closed).toEqual([{ state: 'closed', restarts: 0 }]);
  });
});
