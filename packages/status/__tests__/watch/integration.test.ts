import type { TenantId } from '@switchyard/core';
import { Pool } from '@switchyard/core';
import { createThreadPool } from '@switchyard/pool-thread';
import { describe, expect, it } from 'vitest';
import { createStatusBoard } from '../../src/index.js';
import { deferred, RecordingStream } from '../helpers.js';

const guild = (n: number): TenantId => ({ kind: 'guild', id: String((BigInt(n) << 22n) + 81384788765712384n) });

describe('StatusBoard.watch on real pools', () => {
  it('shows a row per thread of a WorkerPool of ThreadWorkers, with its handled rate', async () => {
    let now = 0;
    const board = createStatusBoard({ output: new RecordingStream(), clock: () => now });
    const pool = await createThreadPool({
      workers: 2,
      filename: new URL('../fixtures/counter-worker.mjs', import.meta.url),
    });
    try {
      const watch = board.watch(pool, { intervalMs: 60_000 });
      expect(board.lines).toEqual([
        'worker 0: 0 tenants · 0 queued · 0 handled · 0 failed · -/s',
        'worker 1: 0 tenants · 0 queued · 0 handled · 0 failed · -/s',
      ]);

      const expected = [
        { tenants: new Set<number>(), handled: 0, failed: 0 },
        { tenants: new Set<number>(), handled: 0, failed: 0 },
      ];
      const dispatches: Array<Promise<unknown>> = [];
      for (let n = 0; n < 40; n++) {
        for (let k = 0; k <= n % 5; k++) {
          const target = expected[pool.workerFor(guild(n)).id]!;
          target.tenants.add(n);
          target.handled++;
          dispatches.push(pool.dispatch(guild(n), {}));
        }
      }
      const failing = pool.dispatch(guild(0), { fail: true }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expected[pool.workerFor(guild(0)).id]!.handled++;
      expected[pool.workerFor(guild(0)).id]!.failed++;
      await Promise.all(dispatches);
      expect(await failing).toMatchObject({ message: 'handler failed' });

      now = 2_000; // two seconds later, by the board's clock
      watch.stop(); // a last reading

      expect(board.lines).toEqual(
        expected.map(
          ({ tenants, handled, failed }, id) =>
            `worker ${id}: ${tenants.size} tenants · 0 queued · ${handled} handled · ${failed} failed · ${handled / 2 >= 10 ? Math.round(handled / 2) : (handled / 2).toFixed(1)}/s`,
        ),
      );
      expect(expected[0]!.handled + expected[1]!.handled).toBe(121); // 120 events and the failing one
    } finally {
      board.close();
      await pool.close();
    }
  });

  it('shows a core job Pool as one row: workers, stopping, iterations, failures and rate', async () => {
    let now = 0;
    const board = createStatusBoard({ output: new RecordingStream(), clock: () => now });
    const pool = new Pool({ initial: 3, max: 4 });
    let reported = 0;
    pool.on('error', () => reported++);
    const reached = deferred();
    let calls = 0;
    pool.start(async () => {
      calls++;
      if (calls === 200) reached.resolve();
      if (calls % 50 === 0) throw new Error('every fiftieth call fails');
      await null;
    });
    try {
      const watch = board.watch(pool, { intervalMs: 60_000 });
      expect(board.lines[0]).toMatch(/^pool: 3 workers · 0 stopping · \d+ iterations · \d+ failures · -\/s$/);

      await reached.promise;
      pool.more();
      await pool.close();
      const stats = pool.stats();
      now = 1_000;
      watch.stop();

      expect(stats.iterations).toBeGreaterThanOrEqual(200);
      expect(stats.failures).toBe(reported);
      expect(reported).toBeGreaterThanOrEqual(3);
      const rate = stats.iterations >= 10_000 ? `${(stats.iterations / 1e3).toFixed(1)}k/s` : `${stats.iterations}/s`;
      expect(board.lines).toEqual([
        `pool: 0 workers · 0 stopping · ${stats.iterations} iterations · ${stats.failures} failures · ${rate}`,
      ]);
    } finally {
      board.close();
    }
  });
});
