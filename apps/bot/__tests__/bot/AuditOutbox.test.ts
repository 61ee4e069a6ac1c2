import { describe, expect, it } from 'vitest';
import type { ModerationEntry, ModerationLog } from '../../src/index.js';
import { AuditOutbox, DatabaseError } from '../../src/index.js';

function entry(n: number): ModerationEntry {
  return { guildId: '1', userId: String(n), action: 'ban', reason: 'r', details: {}, ok: true, error: null };
}

/** A log that fails its first `failures` writes, then stores what it is given. */
function flakyLog(failures: number): { log: ModerationLog; rows: ModerationEntry[]; attempts: () => number } {
  const rows: ModerationEntry[] = [];
  let attempts = 0;
  const log = {
    recordMany(entries: readonly ModerationEntry[]): Promise<void> {
      attempts++;
      if (attempts <= failures) return Promise.reject(new DatabaseError('down'));
      rows.push(...entries);
      return Promise.resolve();
    },
  } as unknown as ModerationLog;
  return { log, rows, attempts: () => attempts };
}

describe('AuditOutbox', () => {
  it('retries a failed write with backoff until it succeeds, keeping the order, the time and a unique key', async () => {
    const { log, rows } = flakyLog(3);
    const retries: Array<[number, number]> = [];
    const outbox = new AuditOutbox(log, {
      retryMinMs: 5,
      retryMaxMs: 15,
      onRetry: (_error, failures, delayMs) => retries.push([failures, delayMs]),
    });
    for (let i = 0; i < 5; i++) outbox.add(entry(i));
    await outbox.idle();
    expect(rows.map((row) => row.userId)).toEqual(['0', '1', '2', '3', '4']);
    expect(new Set(rows.map((row) => row.key)).size).toBe(5);
    expect(rows.every((row) => row.createdAt instanceof Date)).toBe(true);
    expect(retries).toEqual([
      [1, 5],
      [2, 10],
      [3, 15],
    ]);
    expect({ written: outbox.written, retries: outbox.retries, depth: outbox.depth }).toEqual({
      written: 5,
      retries: 3,
      depth: 0,
    });
    expect(await outbox.close()).toEqual({ written: 5, unwritten: [] });
  });

  it('writes in batches of maxBatch', async () => {
    const batches: number[] = [];
    const log = {
      recordMany: (entries: readonly ModerationEntry[]) => {
        batches.push(entries.length);
        return Promise.resolve();
      },
    } as unknown as ModerationLog;
    const outbox = new AuditOutbox(log, { maxBatch: 2 });
    for (let i = 0; i < 5; i++) outbox.add(entry(i));
    await outbox.idle();
    expect(batches.reduce((sum, n) => sum + n, 0)).toBe(5);
    expect(Math.max(...batches)).toBeLessThanOrEqual(2);
  });

  it('reports the rows it could not write when close() reaches its deadline', async () => {
    const { log } = flakyLog(Number.POSITIVE_INFINITY);
    const outbox = new AuditOutbox(log, { retryMinMs: 5, retryMaxMs: 10 });
    outbox.add(entry(1));
    outbox.add(entry(2));
    const report = await outbox.close({ timeoutMs: 50 });
    expect(report.written).toBe(0);
    expect(report.unwritten.map((row) => row.userId)).toEqual(['1', '2']);
    // A row added after close() is kept and reported, not written.
    outbox.add(entry(3));
    expect((await outbox.close()).unwritten).toHaveLength(3);
  });

  it.each([
    ['no log', undefined, {}],
    ['a retryMinMs of 0', 'log', { retryMinMs: 0 }],
    ['a retryMaxMs below retryMinMs', 'log', { retryMinMs: 100, retryMaxMs: 50 }],
    ['a maxBatch of 0', 'log', { maxBatch: 0 }],
    ['an onRetry that is not a function', 'log', { onRetry: 1 }],
  ])('rejects %s with ERR_BOT_CONFIG', (_name, log, options) => {
    const target = log === undefined ? undefined : flakyLog(0).log;
    expect(() => new AuditOutbox(target as ModerationLog, options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_BOT_CONFIG' }),
    );
  });
});
