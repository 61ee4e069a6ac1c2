import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ProcessPoolOptions } from '../../src/index.js';
import { createProcessPool } from '../../src/index.js';
import { fixture, silent, tenantOn, useCleanup } from '../helpers.js';

const base = {
  module: fixture('definition.mjs'),
  hub: { logger: silent, heartbeatMs: 60_000 },
  stdio: 'ignore',
} as const;

describe('back-pressure', () => {
  const cleanup = useCleanup();
  const start = async (options: Partial<ProcessPoolOptions> = {}) =>
    cleanup(await createProcessPool({ workers: 1, ...base, ...options } as ProcessPoolOptions));

  it('stops writing to a worker that does not read, holds a bounded number of events, then refuses with BackpressureError', async () => {
    const pool = await start({ maxBufferedEvents: 50 });
    const worker = pool.workers[0]!;
    const a = tenantOn(0, 1);
    const payload = 'x'.repeat(64 * 1024);
    process.kill(worker.pid!, 'SIGSTOP');
    const accepted: Array<Promise<unknown>> = [];
    let refused: unknown;
    try {
      // 64 KiB events towards a stopped process: the kernel's buffers fill, then the socket's
      // bufferedAmount, then the master's buffer of 50 events.
      while (refused === undefined && accepted.length < 2000) {
        const result = pool.dispatch(a, { type: 'echo', value: payload });
        result.catch((error: unknown) => (refused ??= error));
        accepted.push(result);
        if (accepted.length % 10 === 0) await nextTurn();
      }
    } finally {
      process.kill(worker.pid!, 'SIGCONT');
    }
    expect(refused).toMatchObject({ code: 'ERR_BACKPRESSURE' });
    const settled = await Promise.allSettled(accepted);
    const delivered = settled.filter((result) => result.status === 'fulfilled');
    // Far fewer than the 2000 tried: what the OS buffers, one high-water mark, and the 50 held.
    expect(delivered.length).toBeLessThan(1000);
    // Nothing was lost: every accepted event was handled once the worker read again.
    expect(delivered.every((result) => (result.value as string).length === payload.length)).toBe(true);
    expect(
      settled
        .filter((result) => result.status === 'rejected')
        .every((result) => (result.reason as { code?: string }).code === 'ERR_BACKPRESSURE'),
    ).toBe(true);
    expect(pool.stats()).toMatchObject({ handled: delivered.length, queued: 0 });
  });

  it('sends at most maxInFlight unfinished events; the next ones wait in the master', async () => {
    const order: string[] = [];
    const record = (name: string) => (value: unknown) => {
      order.push(name);
      return value;
    };
    // Without a limit, a second tenant's event overtakes a slow one.
    const free = await start({ workers: 1 });
    await Promise.all([
      free.dispatch(tenantOn(0, 1, 0), { type: 'sleep', ms: 300 }).then(record('slow')),
      free.dispatch(tenantOn(0, 1, 1), { type: 'count' }).then(record('quick')),
    ]);
    expect(order).toEqual(['quick', 'slow']);
    order.length = 0;
    const limited = await start({ workers: 1, maxInFlight: 1 });
    await Promise.all([
      limited.dispatch(tenantOn(0, 1, 0), { type: 'sleep', ms: 300 }).then(record('slow')),
      limited.dispatch(tenantOn(0, 1, 1), { type: 'count' }).then(record('quick')),
    ]);
    expect(order).toEqual(['slow', 'quick']);
  });
});
