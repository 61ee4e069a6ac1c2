import type { DispatchErrorInfo, WorkerCrashInfo } from '@switchyard/core';
import { WorkerCrashedError, WorkerUnavailableError } from '@switchyard/core';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createThreadPool, ThreadExitError, ThreadWorker } from '../../src/index.js';
import { fixture, guild, guildOn, next, quickRestart, rejection, startWorker, track } from '../helpers.js';
import { osThreads } from '../threads.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Counts thread starts across restarts (the fixture's startup increments it). */
function startCounter(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

describe('ThreadWorker faults', () => {
  it('fails every event in flight with ERR_WORKER_CRASHED on an uncaught exception, emits crash, and restarts', async () => {
    const worker = await startWorker({ restart: quickRestart });
    const a = guild(1);
    await worker.dispatch(a, { type: 'count' });
    const firstThread = worker.stats().threadId;
    // An event that outlived its batch, one waiting behind it, a no-wait one, then the crash.
    const detached = rejection(worker.dispatch(guild(2), { type: 'wait', key: 'never' }));
    await worker.dispatch(guild(3), { type: 'started', key: 'never' });
    const behind = rejection(worker.dispatch(guild(2), { type: 'count' }));
    const reported: DispatchErrorInfo[] = [];
    worker.on('dispatchError', (info) => reported.push(info));
    worker.dispatchNoWait(guild(4), { type: 'wait', key: 'never' });
    const crashed = next<WorkerCrashInfo>(worker, 'crash');
    const crashing = rejection(worker.dispatch(guild(5), { type: 'crash-now' }));

    const info = await crashed;
    expect(info).toMatchObject({ workerId: 0, failures: 1, restartInMs: 0 });
    expect(info.cause).toMatchObject({ message: 'thread blew up' });
    for (const error of [await detached, await behind, await crashing]) {
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error).toMatchObject({ code: 'ERR_WORKER_CRASHED', cause: info.cause });
    }
    expect(reported).toEqual([
      {
        workerId: 0,
        tenant: guild(4),
        error: expect.objectContaining({ code: 'ERR_WORKER_CRASHED' }),
        event: { type: 'wait', key: 'never' },
      },
    ]);

    // Restarted: a new thread, the tenants' in-memory state is new.
    await expect(worker.dispatch(a, { type: 'count' })).resolves.toBe(1);
    const stats = worker.stats();
    expect(stats).toMatchObject({ state: 'running', restarts: 1, queued: 0, tenants: 1 });
    expect(stats.threadId).not.toBe(firstThread);
  });

  it.each([0, 1])('treats process.exit(%i) inside a handler as a crash, not a success', async (code) => {
    const worker = await startWorker({ restart: quickRestart });
    const crashed = next<WorkerCrashInfo>(worker, 'crash');
    const error = await rejection(worker.dispatch(guild(1), { type: 'exit', code }));
    expect(error).toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    expect(error.cause).toBeInstanceOf(ThreadExitError);
    expect(error.cause).toMatchObject({ code: 'ERR_THREAD_EXIT', exitCode: code });
    expect((await crashed).cause).toBe(error.cause);
    await expect(worker.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
  });

  it('fails the events in flight when the thread runs out of memory under resourceLimits, and the process lives on', async () => {
    const worker = await startWorker({
      restart: quickRestart,
      resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 },
    });
    const crashed = next<WorkerCrashInfo>(worker, 'crash');
    const bystander = rejection(worker.dispatch(guild(2), { type: 'wait', key: 'oom' }));
    const error = await rejection(worker.dispatch(guild(1), { type: 'oom' }));
    expect(error).toMatchObject({ code: 'ERR_WORKER_CRASHED', cause: { code: 'ERR_WORKER_OUT_OF_MEMORY' } });
    expect(await bystander).toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    expect((await crashed).cause).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
    await expect(worker.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
  });

  it('reports an exception thrown from a timer after the handler returned, and the next events work', async () => {
    const worker = await startWorker({ restart: quickRestart });
    const crashed = next<WorkerCrashInfo>(worker, 'crash');
    await expect(worker.dispatch(guild(1), { type: 'throw-later' })).resolves.toBe('returned');
    const info = await crashed;
    expect(info).toMatchObject({ workerId: 0, failures: 1, cause: { message: 'late failure' } });
    await expect(worker.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
    await expect(worker.dispatch(guild(1), { type: 'count' })).resolves.toBe(2);
  });

  it("leaves the other workers of a pool and their tenants' state alone when one thread crashes", async () => {
    const pool = track(
      await createThreadPool<any>({ workers: 2, filename: fixture('faults.mjs'), restart: quickRestart }),
    );
    const onZero = guildOn(0, 2);
    const onOne = guildOn(1, 2);
    await pool.dispatch(onOne, { type: 'count' });
    await pool.dispatch(onOne, { type: 'count' });
    await pool.dispatch(onZero, { type: 'count' });
    const crashed = next<WorkerCrashInfo>(pool, 'crash');
    await expect(pool.dispatch(onZero, { type: 'crash-now' })).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    expect((await crashed).workerId).toBe(0);
    await expect(pool.dispatch(onOne, { type: 'count' })).resolves.toBe(3);
    await expect(pool.dispatch(onZero, { type: 'count' })).resolves.toBe(1);
    expect(pool.workers.map((worker) => worker.stats().restarts)).toEqual([1, 0]);
  });

  it('holds events dispatched while the thread restarts and delivers every one, in order, once it is back', async () => {
    const worker = await startWorker();
    // The default backoff (3 s for the first failure) runs on a fake clock; threads and messages are real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const crashed = next<WorkerCrashInfo>(worker, 'crash');
    await rejection(worker.dispatch(guild(1), { type: 'crash-now' }));
    expect(await crashed).toMatchObject({ failures: 1, restartInMs: 3000 });

    const a = guild(1);
    const waited: Array<Promise<unknown>> = [];
    for (let seq = 0; seq < 300; seq++) {
      if (seq % 10 === 9) waited.push(worker.dispatch(a, { type: 'record', seq }));
      else worker.dispatchNoWait(a, { type: 'record', seq });
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(worker.stats()).toMatchObject({ state: 'restarting', queued: 300, threadId: undefined });
    vi.advanceTimersByTime(2999);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(worker.stats()).toMatchObject({ state: 'restarting', threadId: undefined });
    vi.advanceTimersByTime(1);
    vi.useRealTimers();
    expect(await Promise.all(waited)).toEqual(Array.from({ length: 30 }, (_, i) => i * 10 + 10));
    await expect(worker.dispatch(a, { type: 'log' })).resolves.toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(worker.stats()).toMatchObject({ state: 'running', restarts: 1, queued: 0 });
  });

  it.each(['crash-after-first', 'exit-after-first'])(
    'backs off and gives up (fatal, ERR_WORKER_UNAVAILABLE) when the thread fails right after each restart (%s)',
    async (plan) => {
      const starts = startCounter();
      const backoff = vi.fn((failures: number) => failures);
      const worker = await startWorker({
        workerData: { startup: plan, starts },
        restart: { backoff, maxConsecutiveFailures: 4 },
      });
      const crashes: WorkerCrashInfo[] = [];
      worker.on('crash', (info) => crashes.push(info as WorkerCrashInfo));
      const fatal = next<WorkerCrashInfo>(worker, 'fatal');
      const firstCrash = next<WorkerCrashInfo>(worker, 'crash');
      const first = rejection(worker.dispatch(guild(1), { type: 'crash-now' }));
      await firstCrash;
      // Held while the thread keeps failing to come back.
      const held = rejection(worker.dispatch(guild(2), { type: 'count' }));
      const reported = next<DispatchErrorInfo>(worker, 'dispatchError');
      worker.dispatchNoWait(guild(3), { type: 'count' });

      const info = await fatal;
      expect(await first).toMatchObject({ code: 'ERR_WORKER_CRASHED' });
      expect(crashes.map((crash) => [crash.failures, crash.restartInMs])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
        [4, undefined],
      ]);
      expect(backoff.mock.calls).toEqual([[1], [2], [3]]);
      // One first start and three restarts, no more: no hot loop.
      expect(Atomics.load(starts, 0)).toBe(4);
      expect(info).toMatchObject({ workerId: 0, cause: crashes[3]!.cause });
      const error = await held;
      expect(error).toBeInstanceOf(WorkerUnavailableError);
      expect(error.cause).toBe(info.cause);
      expect((await reported).error).toMatchObject({ code: 'ERR_WORKER_UNAVAILABLE' });
      expect(worker.stats()).toMatchObject({ state: 'unavailable', restarts: 3, queued: 0, threadId: undefined });
      await expect(worker.dispatch(guild(1), { type: 'count' })).rejects.toMatchObject({
        code: 'ERR_WORKER_UNAVAILABLE',
      });
      expect(() => worker.dispatchNoWait(guild(1), { type: 'count' })).toThrow(
        expect.objectContaining({ code: 'ERR_WORKER_UNAVAILABLE' }),
      );
      await expect(worker.dropTenant(guild(1))).rejects.toMatchObject({ code: 'ERR_WORKER_UNAVAILABLE' });
      await worker.close();
      expect(worker.stats().state).toBe('closed');
    },
  );

  it('starts counting failures again after a thread stayed up for stableAfterMs', async () => {
    const worker = await startWorker({ restart: { backoff: () => 0, maxConsecutiveFailures: 2, stableAfterMs: 0 } });
    const crashes: WorkerCrashInfo[] = [];
    worker.on('crash', (info) => crashes.push(info as WorkerCrashInfo));
    for (let round = 0; round < 3; round++) {
      await rejection(worker.dispatch(guild(1), { type: 'crash-now' }));
      await expect(worker.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
    }
    expect(crashes.map((crash) => crash.failures)).toEqual([1, 1, 1]);
    expect(worker.stats()).toMatchObject({ state: 'running', restarts: 3 });
  });

  it('restarts a first thread that crashes while it starts, and resolves ready once one is up', async () => {
    const starts = startCounter();
    const threadsBefore = osThreads();
    const worker = track(
      new ThreadWorker<any, any>({
        filename: fixture('faults.mjs'),
        workerData: { startup: 'crash-first', starts },
        restart: quickRestart,
      }),
    );
    const crashed = next<WorkerCrashInfo>(worker, 'crash');
    const early = worker.dispatch(guild(1), { type: 'count' });
    expect(worker.stats().state).toBe('starting');
    expect(await crashed).toMatchObject({ failures: 1, cause: { message: 'first start crashed' } });
    await worker.ready;
    // The event waited for a thread that started: it never reached the one that crashed.
    await expect(early).resolves.toBe(1);
    expect(Atomics.load(starts, 0)).toBe(2);
    await worker.close();
    expect(osThreads()).toBe(threadsBefore);
  });

  it('gives up with the error as the cause when restart.backoff returns an invalid delay', async () => {
    const worker = await startWorker({ restart: { backoff: () => -1 } });
    const fatal = next<WorkerCrashInfo>(worker, 'fatal');
    await rejection(worker.dispatch(guild(1), { type: 'crash-now' }));
    expect((await fatal).cause).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/restart\.backoff/),
    });
    expect(worker.stats().state).toBe('unavailable');
  });

  it('kill() during the backoff rejects the held events with ERR_WORKER_KILLED and never restarts', async () => {
    const starts = startCounter();
    const threadsBefore = osThreads();
    const worker = track(
      new ThreadWorker<any, any>({
        filename: fixture('faults.mjs'),
        workerData: { starts },
        restart: { backoff: () => 60_000 },
      }),
    );
    await worker.ready;
    const crashed = next<WorkerCrashInfo>(worker, 'crash');
    await rejection(worker.dispatch(guild(1), { type: 'crash-now' }));
    await crashed;
    const held = rejection(worker.dispatch(guild(1), { type: 'count' }));
    await worker.kill();
    expect(await held).toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(worker.stats()).toMatchObject({ state: 'killed', restarts: 1, threadId: undefined });
    expect(Atomics.load(starts, 0)).toBe(1);
    expect(osThreads()).toBe(threadsBefore);
  });

  it('close() during the backoff delivers the held events after the restart, then closes', async () => {
    const worker = await startWorker({ restart: { backoff: () => 20 } });
    const crashed = next<WorkerCrashInfo>(worker, 'crash');
    await rejection(worker.dispatch(guild(1), { type: 'crash-now' }));
    await crashed;
    const held = [worker.dispatch(guild(1), { type: 'count' }), worker.dispatch(guild(1), { type: 'count' })];
    const closing = worker.close();
    await expect(worker.dispatch(guild(1), { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await expect(Promise.all(held)).resolves.toEqual([1, 2]);
    await closing;
    expect(worker.stats()).toMatchObject({ state: 'closed', restarts: 1 });
  });
});
