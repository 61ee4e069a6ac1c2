import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MemoryKvStore, WorkerPool } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { createThreadPool, ThreadWorker } from '../../src/index.js';
import { fixture, guildOn, rejection, track } from '../helpers.js';
import { osThreads, watchResources } from '../threads.js';

describe('createThreadPool', () => {
  it('returns a WorkerPool of started ThreadWorkers, one thread each, sharing one store', async () => {
    const store = new MemoryKvStore();
    const pool = track(await createThreadPool<any>({ workers: 2, filename: fixture('faults.mjs'), store }));
    expect(pool).toBeInstanceOf(WorkerPool);
    expect(pool.workers.map((worker) => worker instanceof ThreadWorker)).toEqual([true, true]);
    expect(pool.workers.map((worker) => worker.stats().state)).toEqual(['running', 'running']);
    const a = guildOn(0, 2);
    const b = guildOn(1, 2);
    const threads = [await pool.dispatch(a, { type: 'thread' }), await pool.dispatch(b, { type: 'thread' })];
    expect(new Set(threads).size).toBe(2);
    await pool.dispatch(a, { type: 'kv-set', key: 'k', value: 'from 0' });
    await pool.dispatch(b, { type: 'kv-set', key: 'k', value: 'from 1' });
    await expect(store.get(a, 'k')).resolves.toBe('from 0');
    await expect(store.get(b, 'k')).resolves.toBe('from 1');
    await expect(pool.dispatch(a, { type: 'context' })).resolves.toMatchObject({ workerId: 0 });
    await expect(pool.dispatch(b, { type: 'context' })).resolves.toMatchObject({ workerId: 1 });
  });

  it('shares a default in-memory store between the workers of a pool', async () => {
    const pool = track(await createThreadPool<any>({ workers: 2, filename: fixture('faults.mjs') }));
    // Tenants are sharded, so each tenant's data is written and read by the same worker; a worker
    // asking for another worker's tenant is refused (the shard-ownership check). The handler
    // rethrows the refusal, so it arrives as a handler's error, with the refusal's code.
    const a = guildOn(0, 2);
    await pool.dispatch(a, { type: 'kv-set', key: 'k', value: 1 });
    await expect(pool.dispatch(a, { type: 'kv-get', key: 'k' })).resolves.toBe(1);
    await expect(pool.workers[1]!.dispatch(a, { type: 'kv-get', key: 'k' })).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_PROTOCOL',
    });
  });

  it('rejects with ERR_THREAD_START and leaves no thread behind when the module exports no definition', async () => {
    const threadsBefore = osThreads();
    const error = await rejection(createThreadPool({ workers: 2, filename: fixture('no-definition.mjs') }));
    expect(error).toMatchObject({ code: 'ERR_THREAD_START' });
    expect(osThreads()).toBe(threadsBefore);
  });

  it.each([
    ['options', null, /options object/],
    ['workers', { filename: fixture('trivial.mjs'), workers: 0 }, /`workers`/],
    ['workers', { filename: fixture('trivial.mjs'), workers: 1.5 }, /`workers`/],
    ['filename', { workers: 1, filename: 7 }, /`filename`/],
    ['maxQueue', { workers: 1, filename: fixture('trivial.mjs'), maxQueue: -3 }, /`maxQueue`/],
  ])('rejects an invalid %s with ERR_INVALID_ARGUMENT', async (_, options, message) => {
    await expect(createThreadPool(options as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(message),
    });
  });

  it('keeps batching when callers move between the workers (results of both arrive before either sends)', async () => {
    // 64 callers, each call to the next tenant in arrival order: the callers resumed by one worker's
    // results call both workers. Flushing after each results message would send each worker one
    // transfer per results message, halving the transfers at every round trip down to one call each.
    const pool = track(await createThreadPool<any>({ workers: 2, filename: fixture('trivial.mjs') }));
    const tenants = Array.from({ length: 2 * 64 }, (_, i) => guildOn(i % 2, 2, i));
    const calls = 64 * 200;
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < calls) await pool.dispatch(tenants[next++ % tenants.length]!, { add: 1 });
      }),
    );
    const transfers = pool.workers.reduce((sum, worker) => sum + worker.stats().batches, 0);
    expect(pool.workers.map((worker) => worker.stats().handled)).toEqual([calls / 2, calls / 2]);
    // Without the wait for the other worker's results: ~1 call per transfer after a few round trips.
    expect(calls / transfers).toBeGreaterThan(4);
  });

  it('does not keep the process alive once idle, even when never closed', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [fixture('idle-exit.mjs')], { timeout: 15_000 });
    expect(stdout.trim()).toBe('dispatched 41');
  });

  it('creating and closing a pool 40 times leaves no threads or handles behind', async () => {
    const threadsBefore = osThreads();
    const resources = watchResources();
    try {
      const cycle = async (): Promise<void> => {
        const pool = await createThreadPool<any>({ workers: 1, filename: fixture('trivial.mjs') });
        await pool.dispatch(guildOn(0, 1), {});
        await pool.close();
      };
      // Four at a time: thread start-up is CPU-bound, so more in parallel would not be faster.
      // 40 cycles leave any per-pool leak (a thread, a port, a timer) 40 times over; more only costs time
      // on a loaded machine, where one start-up can take a second.
      for (let round = 0; round < 10; round++) await Promise.all([cycle(), cycle(), cycle(), cycle()]);
      expect(osThreads()).toBe(threadsBefore);
      expect(await resources.leftovers()).toEqual([]);
    } finally {
      resources.stop();
    }
  }, 180_000);
});
