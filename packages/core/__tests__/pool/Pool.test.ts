import { EventEmitter, getEventListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PoolClosedError, PoolNotRunningError } from '../../src/errors/errors.js';
import { AbortError, SwitchyardError } from '../../src/errors/SwitchyardError.js';
import type { Job, JobBuilder } from '../../src/pool/Job.js';
import type { PoolErrorInfo } from '../../src/pool/Pool.js';
import { Pool } from '../../src/pool/Pool.js';
import { hasPendingTurn, queuedCount, SLICE_MS } from '../../src/pool/scheduler.js';
import { CountingJob, deferred, GatedJob, Probe, turn } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Asserts the pool holds nothing: no queued worker, no scheduled turn. */
function expectNoHandles(): void {
  expect(queuedCount()).toBe(0);
  expect(hasPendingTurn()).toBe(false);
}

function catchSync(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('Expected a throw');
}

describe('Pool.start', () => {
  it('runs `initial` workers concurrently, each calling the job again and again', async () => {
    const counting = new CountingJob();
    const pool = new Pool({ initial: 3 });
    pool.start(counting.job);
    await counting.probe.until(
      () => counting.perSignal.size === 3 && [...counting.perSignal.values()].every((n) => n >= 50),
    );
    await pool.close();
    expect(counting.perSignal.size).toBe(3);
    expect(pool.stats().iterations).toBe(counting.total);
    expectNoHandles();
  });

  it('runs as many calls at once as there are workers, and never two calls of one worker at once', async () => {
    const gated = new GatedJob();
    const pool = new Pool({ initial: 3 });
    pool.start(gated.job);
    await gated.untilInFlight(3);
    await turn();
    await turn();
    // Each worker waits for its own call: exactly three calls, on three different signals.
    expect(gated.calls).toHaveLength(3);
    expect(new Set(gated.calls.map((call) => call.signal)).size).toBe(3);
    // Releasing one call lets only that worker call again, with the same signal.
    const first = gated.calls[0]!;
    first.release();
    await gated.untilStarted(4);
    expect(gated.calls[3]!.signal).toBe(first.signal);
    expect(gated.inFlight).toHaveLength(3);
    const closing = pool.close();
    for (const call of gated.inFlight) call.release();
    await closing;
    expect(gated.calls).toHaveLength(4);
  });

  it('returns before the first call: calls start on a later turn of the event loop', async () => {
    const counting = new CountingJob();
    const pool = new Pool();
    pool.start(counting.job);
    expect(counting.total).toBe(0);
    await counting.untilTotal(1);
    await pool.close();
  });

  it('throws PoolRunningError (ERR_POOL_RUNNING) when the pool is already running', async () => {
    const pool = new Pool();
    pool.start(() => {});
    expect(catchSync(() => pool.start(() => {}))).toMatchObject({ code: 'ERR_POOL_RUNNING', name: 'PoolRunningError' });
    expect(catchSync(() => pool.startWithBuilder(() => () => {}))).toMatchObject({ code: 'ERR_POOL_RUNNING' });
    expect(pool.size).toBe(1);
    await pool.close();
  });

  it('throws PoolClosedError (ERR_POOL_CLOSED) when the pool was closed', async () => {
    const pool = new Pool();
    pool.start(() => {});
    await pool.close();
    expect(catchSync(() => pool.start(() => {}))).toMatchObject({ code: 'ERR_POOL_CLOSED', name: 'PoolClosedError' });
    expect(catchSync(() => pool.startWithBuilder(() => () => {}))).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(pool.size).toBe(0);
  });

  it('throws InvalidArgumentError (ERR_INVALID_ARGUMENT) for a job or builder that is not a function', () => {
    const pool = new Pool();
    expect(catchSync(() => pool.start('job' as never))).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'Expected `job` to be a function, got "job".',
    });
    expect(catchSync(() => pool.startWithBuilder(null as never))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(pool.running).toBe(false);
  });
});

describe('Pool.startWithBuilder', () => {
  it('builds one job per worker when it joins, so per-worker state needs no locking', async () => {
    let built = 0;
    const probe = new Probe();
    const perWorker: Array<{ count: number; concurrent: number; maxConcurrent: number }> = [];
    const builder: JobBuilder = () => {
      const state = { count: 0, concurrent: 0, maxConcurrent: 0 };
      perWorker.push(state);
      built++;
      return async () => {
        state.concurrent++;
        state.maxConcurrent = Math.max(state.maxConcurrent, state.concurrent);
        await Promise.resolve();
        state.count++;
        state.concurrent--;
        probe.notify();
      };
    };
    const pool = new Pool({ initial: 2 });
    pool.startWithBuilder(builder);
    expect(built).toBe(2);
    pool.more();
    expect(built).toBe(3);
    pool.less();
    expect(built).toBe(3);
    await probe.until(() => perWorker[0]!.count >= 20 && perWorker[1]!.count >= 20);
    await pool.close();
    expect(perWorker.map((state) => state.maxConcurrent).filter((n) => n > 1)).toEqual([]);
    expect(perWorker.reduce((sum, state) => sum + state.count, 0)).toBe(pool.stats().iterations);
  });

  it('gives each worker its own job instance', async () => {
    const jobs: Job[] = [];
    const seen = new Map<AbortSignal, Set<Job>>();
    const probe = new Probe();
    const pool = new Pool({ initial: 3 });
    pool.startWithBuilder(() => {
      const job: Job = (signal) => {
        const set = seen.get(signal) ?? new Set<Job>();
        set.add(job);
        seen.set(signal, set);
        probe.notify();
      };
      jobs.push(job);
      return job;
    });
    await probe.until(() => seen.size === 3);
    await pool.close();
    expect(new Set(jobs).size).toBe(3);
    // One job per signal (worker), a different one for each.
    expect([...seen.values()].map((set) => set.size)).toEqual([1, 1, 1]);
    expect(new Set([...seen.values()].map((set) => [...set][0])).size).toBe(3);
  });

  it('leaves the pool unstarted when the builder throws or returns something else than a job', async () => {
    const pool = new Pool({ initial: 2 });
    let calls = 0;
    const boom = new Error('cannot build');
    expect(
      catchSync(() =>
        pool.startWithBuilder(() => {
          if (++calls === 2) throw boom;
          return () => {};
        }),
      ),
    ).toBe(boom);
    expect(pool.running).toBe(false);
    expect(pool.size).toBe(0);
    expect(catchSync(() => pool.startWithBuilder(() => 42 as never))).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'Expected the job builder to return a job function, got number 42.',
    });
    expect(pool.running).toBe(false);
    pool.start(() => {});
    expect(pool.size).toBe(2);
    await pool.close();
  });

  it('makes more() throw what the builder throws, adding no worker', async () => {
    const pool = new Pool();
    let fail = false;
    const boom = new Error('no more');
    pool.startWithBuilder(() => {
      if (fail) throw boom;
      return () => {};
    });
    fail = true;
    expect(catchSync(() => pool.more())).toBe(boom);
    expect(pool.size).toBe(1);
    await pool.close();
  });
});

describe('Pool.more and Pool.less', () => {
  it('more() adds a worker that starts calling the job', async () => {
    const counting = new CountingJob();
    const pool = new Pool();
    pool.start(counting.job);
    await counting.probe.until(() => counting.perSignal.size === 1);
    pool.more();
    expect(pool.size).toBe(2);
    expect(pool.stats().workers).toBe(2);
    await counting.probe.until(() => counting.perSignal.size === 2);
    await pool.close();
  });

  it('more() above max throws PoolMaxWorkersError (ERR_POOL_MAX_WORKERS) and adds nothing', async () => {
    const pool = new Pool({ max: 2 });
    pool.start(() => {});
    pool.more();
    const error = catchSync(() => pool.more());
    expect(error).toMatchObject({ code: 'ERR_POOL_MAX_WORKERS', name: 'PoolMaxWorkersError' });
    expect((error as Error).message).toContain('Expected at most 2 workers');
    expect(pool.size).toBe(2);
    await pool.close();
  });

  it('less() below min throws PoolMinWorkersError (ERR_POOL_MIN_WORKERS) and removes nothing', async () => {
    const pool = new Pool({ min: 2, initial: 3 });
    pool.start(() => {});
    pool.less();
    const error = catchSync(() => pool.less());
    expect(error).toMatchObject({ code: 'ERR_POOL_MIN_WORKERS', name: 'PoolMinWorkersError' });
    expect((error as Error).message).toContain('Expected at least 2 workers');
    expect(pool.size).toBe(2);
    await pool.close();
  });

  it('more() and less() throw PoolNotRunningError (ERR_POOL_NOT_RUNNING) before start', () => {
    const pool = new Pool();
    expect(catchSync(() => pool.more())).toMatchObject({ code: 'ERR_POOL_NOT_RUNNING', name: 'PoolNotRunningError' });
    expect(catchSync(() => pool.less())).toMatchObject({ code: 'ERR_POOL_NOT_RUNNING' });
  });

  it('more() and less() throw PoolClosedError (ERR_POOL_CLOSED) once closed, even while closing', async () => {
    const gated = new GatedJob();
    const pool = new Pool();
    pool.start(gated.job);
    await gated.untilInFlight(1);
    const closing = pool.close();
    expect(catchSync(() => pool.more())).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(catchSync(() => pool.less())).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    gated.calls[0]!.release();
    await closing;
    expect(catchSync(() => pool.more())).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(catchSync(() => pool.less())).toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });

  it('less() aborts the most recently added worker and returns without waiting for its call', async () => {
    const gated = new GatedJob();
    const pool = new Pool({ initial: 2 });
    pool.start(gated.job);
    await gated.untilInFlight(2);
    pool.more();
    await gated.untilInFlight(3);
    const newest = gated.calls[2]!;
    pool.less();
    // Returned with the call still running: its signal is aborted, it is no longer counted.
    expect(newest.signal.aborted).toBe(true);
    expect(newest.signal.reason).toBeInstanceOf(AbortError);
    expect(newest.ended).toBe(false);
    expect(gated.calls.filter((call) => call.signal.aborted)).toEqual([newest]);
    expect(pool.size).toBe(2);
    expect(pool.stats()).toMatchObject({ workers: 2, stopping: 1 });
    // Once its call ends, the removed worker calls no more.
    newest.release();
    await gated.until(() => newest.ended);
    expect(pool.stats().stopping).toBe(0);
    await turn();
    expect(gated.calls.filter((call) => call.signal === newest.signal)).toHaveLength(1);
    const closing = pool.close();
    for (const call of gated.inFlight) call.release();
    await closing;
  });

  it('less() then more() resumes a paused pool', async () => {
    const counting = new CountingJob();
    const pool = new Pool();
    pool.start(counting.job);
    await counting.untilTotal(1);
    pool.less();
    expect(pool.size).toBe(0);
    pool.more();
    await counting.probe.until(() => counting.perSignal.size === 2);
    await pool.close();
  });
});

describe('Pool.close', () => {
  it('aborts every worker signal and waits for every running call, including removed workers', async () => {
    const gated = new GatedJob();
    const pool = new Pool({ initial: 3 });
    pool.start(gated.job);
    await gated.untilInFlight(3);
    pool.less();
    const removed = gated.calls.find((call) => call.signal.aborted)!;
    let closed = false;
    const closing = pool.close().then(() => {
      closed = true;
      gated.log.push('closed');
    });
    expect(gated.calls.every((call) => call.signal.aborted)).toBe(true);
    expect(gated.calls.every((call) => call.signal.reason instanceof AbortError)).toBe(true);
    for (const call of gated.calls) if (call !== removed) call.release();
    await gated.probe.until(() => gated.inFlight.length === 1);
    await turn();
    await turn();
    expect(closed).toBe(false);
    expect(pool.stats().stopping).toBe(1);
    removed.release();
    await closing;
    expect(gated.log.at(-2)).toBe(`end:${removed.index}`);
    expect(gated.log.at(-1)).toBe('closed');
    expect(gated.calls).toHaveLength(3);
    expect(pool.stats()).toEqual({ workers: 0, stopping: 0, iterations: 3, failures: 0 });
    expectNoHandles();
  });

  it('resolves at once when no call is running', async () => {
    const pool = new Pool({ initial: 0 });
    pool.start(() => {});
    await pool.close();
    expect(pool.closed).toBe(true);
  });

  it('rejects with PoolNotRunningError (ERR_POOL_NOT_RUNNING) before start', async () => {
    const pool = new Pool();
    await expect(pool.close()).rejects.toMatchObject({ code: 'ERR_POOL_NOT_RUNNING' });
    await expect(pool.close()).rejects.toBeInstanceOf(PoolNotRunningError);
    // Nothing changed: the pool can still start.
    pool.start(() => {});
    await pool.close();
  });

  it('rejects with PoolClosedError (ERR_POOL_CLOSED) when called twice', async () => {
    const gated = new GatedJob();
    const pool = new Pool();
    pool.start(gated.job);
    await gated.untilInFlight(1);
    const first = pool.close();
    await expect(pool.close()).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    gated.calls[0]!.release();
    await first;
    await expect(pool.close()).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('rejects with PoolCloseTimeoutError (ERR_POOL_CLOSE_TIMEOUT) after timeoutMs, the signals aborted anyway', async () => {
    vi.useFakeTimers();
    const gated = new GatedJob();
    const pool = new Pool({ initial: 2 });
    pool.start(gated.job);
    await gated.untilInFlight(2);
    const closing = pool.close({ timeoutMs: 1_000 });
    const outcome = closing.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    expect(gated.calls.every((call) => call.signal.aborted)).toBe(true);
    await vi.advanceTimersByTimeAsync(999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toMatchObject({ code: 'ERR_POOL_CLOSE_TIMEOUT', name: 'PoolCloseTimeoutError' });
    expect((error as Error).message).toContain('got 2 still running');
    expect(vi.getTimerCount()).toBe(0);
    expect(pool.closed).toBe(true);
    expect(pool.stats().stopping).toBe(2);
    // The stragglers finish later; nothing more is called.
    for (const call of gated.inFlight) call.release();
    await gated.until(() => gated.inFlight.length === 0);
    expect(pool.stats().stopping).toBe(0);
    expect(gated.calls.filter((call) => !call.signal.aborted)).toEqual([]);
    await expect(pool.close()).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });

  it('clears its timeout timer when every call ends in time', async () => {
    vi.useFakeTimers();
    const gated = new GatedJob();
    const pool = new Pool();
    pool.start(gated.job);
    await gated.untilInFlight(1);
    const closing = pool.close({ timeoutMs: 60_000 });
    expect(vi.getTimerCount()).toBe(1);
    gated.calls[0]!.release();
    await closing;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with AbortError (ABORT_ERR, cause: signal.reason) when its signal aborts, and removes its listener', async () => {
    const gated = new GatedJob();
    const pool = new Pool();
    pool.start(gated.job);
    await gated.untilInFlight(1);
    const controller = new AbortController();
    const closing = pool.close({ signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort('enough');
    await expect(closing).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'enough' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(gated.calls[0]!.signal.aborted).toBe(true);
    gated.calls[0]!.release();
    await gated.until(() => gated.calls[0]!.ended);
    expect(pool.stats().stopping).toBe(0);
    expectNoHandles();
  });

  it('removes its signal listener when it resolves', async () => {
    const gated = new GatedJob();
    const pool = new Pool();
    pool.start(gated.job);
    await gated.untilInFlight(1);
    const controller = new AbortController();
    const closing = pool.close({ signal: controller.signal });
    gated.calls[0]!.release();
    await closing;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with AbortError at once for an already aborted signal, but still stops the workers', async () => {
    const gated = new GatedJob();
    const pool = new Pool();
    pool.start(gated.job);
    await gated.untilInFlight(1);
    const reason = new Error('shutdown');
    const error = await pool.close({ signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ code: 'ABORT_ERR', cause: reason });
    expect(gated.calls[0]!.signal.aborted).toBe(true);
    expect(pool.closed).toBe(true);
    gated.calls[0]!.release();
    await gated.until(() => gated.calls[0]!.ended);
    expect(pool.stats().stopping).toBe(0);
  });

  it('resolves even with an aborted signal when nothing was left to wait for', async () => {
    const pool = new Pool({ initial: 0 });
    pool.start(() => {});
    await expect(pool.close({ signal: AbortSignal.abort() })).resolves.toBeUndefined();
  });

  it('rejects with InvalidArgumentError (ERR_INVALID_ARGUMENT) for a bad timeoutMs, changing nothing', async () => {
    const pool = new Pool();
    pool.start(() => {});
    for (const bad of [-1, Number.NaN, '10']) {
      await expect(pool.close({ timeoutMs: bad as number })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(pool.running).toBe(true);
    await pool.close({ timeoutMs: Number.POSITIVE_INFINITY });
  });

  it('lets jobs that honour their signal end early', async () => {
    const gated = new GatedJob({ honourSignal: true });
    const pool = new Pool({ initial: 4 });
    pool.start(gated.job);
    await gated.untilInFlight(4);
    await pool.close();
    expect(gated.inFlight).toHaveLength(0);
    // Rejections after the abort are the expected way of stopping, not failures.
    expect(pool.stats()).toMatchObject({ iterations: 4, failures: 0 });
  });
});

describe('Pool job errors (stopOnErrors: false)', () => {
  it('keeps a failing worker running: it calls the job again', async () => {
    let calls = 0;
    const probe = new Probe();
    const pool = new Pool();
    pool.start(() => {
      calls++;
      probe.notify();
      throw new Error(`fail ${calls}`);
    });
    await probe.until(() => calls >= 5);
    expect(pool.running).toBe(true);
    await pool.close();
    expect(pool.stats()).toMatchObject({ iterations: calls, failures: calls });
  });

  it("emits 'error' with the error and the worker id for sync throws and async rejections", async () => {
    const errors: Array<[unknown, PoolErrorInfo]> = [];
    const probe = new Probe();
    const pool = new Pool({ initial: 2 });
    pool.on('error', (error, info) => {
      errors.push([error, info]);
      probe.notify();
    });
    const sync = new Error('sync');
    const rejected = new Error('async');
    let call = 0;
    pool.startWithBuilder(() => {
      const mine = ++call;
      return mine === 1
        ? () => {
            throw sync;
          }
        : () => Promise.reject(rejected);
    });
    await probe.until(() => errors.some(([e]) => e === sync) && errors.some(([e]) => e === rejected));
    await pool.close();
    expect(errors.find(([e]) => e === sync)![1]).toEqual({ workerId: 1 });
    expect(errors.find(([e]) => e === rejected)![1]).toEqual({ workerId: 2 });
    expect(errors).toHaveLength(pool.stats().failures);
  });

  it("does not throw when there is no 'error' listener, and still counts the failures", async () => {
    let calls = 0;
    const probe = new Probe();
    const pool = new Pool();
    pool.start(() => {
      calls++;
      probe.notify();
      throw new Error('nobody listens');
    });
    await probe.until(() => calls >= 3);
    await pool.close();
    expect(pool.stats().failures).toBe(calls);
  });

  it('does not report errors thrown after the worker signal aborted', async () => {
    const errors: unknown[] = [];
    const gated = new GatedJob({ honourSignal: true });
    const pool = new Pool({ initial: 2 });
    pool.on('error', (error) => errors.push(error));
    pool.start(gated.job);
    await gated.untilInFlight(2);
    pool.less();
    await gated.probe.until(() => gated.inFlight.length === 1);
    await pool.close();
    expect(errors).toEqual([]);
    expect(pool.stats()).toMatchObject({ iterations: 2, failures: 0 });
  });

  it("survives a throwing 'error' listener: the error is rethrown in a microtask, the worker goes on", async () => {
    const rethrown: unknown[] = [];
    const listenerBug = new Error('listener bug');
    const real = globalThis.queueMicrotask;
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => {
      real(() => {
        try {
          callback();
        } catch (error) {
          if (error !== listenerBug) throw error;
          rethrown.push(error);
        }
      });
    });
    let calls = 0;
    const probe = new Probe();
    const pool = new Pool();
    pool.on('error', () => {
      throw listenerBug;
    });
    pool.start(() => {
      calls++;
      probe.notify();
      throw new Error('job');
    });
    await probe.until(() => calls >= 3);
    await pool.close();
    await turn();
    vi.restoreAllMocks();
    expect(rethrown).toHaveLength(calls);
    expect(pool.stats().failures).toBe(calls);
  });
});

describe('Pool with stopOnErrors', () => {
  it('stops the pool at the first job error: every worker aborted, close() rejects with that error', async () => {
    const gated = new GatedJob();
    const pool = new Pool({ initial: 3, stopOnErrors: true });
    const failed = new Promise((resolve) => pool.once('error', resolve));
    pool.start(gated.job);
    await gated.untilInFlight(3);
    const boom = new Error('boom');
    gated.calls[1]!.fail(boom);
    expect(await failed).toBe(boom);
    expect(pool.running).toBe(false);
    expect(pool.closed).toBe(true);
    expect(pool.size).toBe(0);
    for (const call of gated.calls) {
      expect(call.signal.aborted).toBe(true);
      expect(call.signal.reason).toMatchObject({ code: 'ABORT_ERR', cause: boom });
    }
    expect(pool.stats()).toMatchObject({ stopping: 2, failures: 1 });
    // close() waits for the other running calls, then rejects with the job error itself.
    let settled = false;
    const closing = pool.close().finally(() => {
      settled = true;
    });
    await turn();
    expect(settled).toBe(false);
    for (const call of gated.inFlight) call.release();
    await expect(closing).rejects.toBe(boom);
    expect(gated.calls).toHaveLength(3);
    await expect(pool.close()).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expectNoHandles();
  });

  it('keeps only the first error; later failures of aborted workers are not failures', async () => {
    const gated = new GatedJob();
    const errors: unknown[] = [];
    const pool = new Pool({ initial: 2, stopOnErrors: true });
    pool.on('error', (error) => errors.push(error));
    const failed = new Promise((resolve) => pool.once('error', resolve));
    pool.start(gated.job);
    await gated.untilInFlight(2);
    const first = new Error('first');
    gated.calls[0]!.fail(first);
    gated.calls[1]!.fail(new Error('second'));
    await failed;
    await expect(pool.close()).rejects.toBe(first);
    expect(errors).toEqual([first]);
    expect(pool.stats()).toMatchObject({ iterations: 2, failures: 1 });
  });

  it('makes start, more and less throw PoolClosedError (ERR_POOL_CLOSED, cause: the job error) once stopped', async () => {
    const boom = new Error('boom');
    const pool = new Pool({ stopOnErrors: true });
    const failed = new Promise((resolve) => pool.once('error', resolve));
    pool.start(() => {
      throw boom;
    });
    await failed;
    expect(pool.closed).toBe(true);
    expect(catchSync(() => pool.more())).toMatchObject({ code: 'ERR_POOL_CLOSED', cause: boom });
    expect(catchSync(() => pool.less())).toMatchObject({ code: 'ERR_POOL_CLOSED', cause: boom });
    expect(catchSync(() => pool.start(() => {}))).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    await expect(pool.close()).rejects.toBe(boom);
  });

  it('makes a timed-out close() carry the job error as its cause', async () => {
    vi.useFakeTimers();
    const gated = new GatedJob();
    const pool = new Pool({ initial: 2, stopOnErrors: true });
    const failed = new Promise((resolve) => pool.once('error', resolve));
    pool.start(gated.job);
    await gated.untilInFlight(2);
    const boom = new Error('boom');
    gated.calls[0]!.fail(boom);
    await failed;
    const outcome = pool.close({ timeoutMs: 10 }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    expect(await outcome).toMatchObject({ code: 'ERR_POOL_CLOSE_TIMEOUT', cause: boom });
    gated.calls[1]!.release();
  });

  it('treats a job that throws undefined as failed too', async () => {
    const pool = new Pool({ stopOnErrors: true });
    const failed = new Promise((resolve) => pool.once('error', (error) => resolve({ error })));
    pool.start(() => {
      throw undefined;
    });
    expect(await failed).toEqual({ error: undefined });
    expect(pool.closed).toBe(true);
    const outcome = await pool.close().then(
      () => 'resolved',
      (error: unknown) => ({ rejected: error }),
    );
    expect(outcome).toEqual({ rejected: undefined });
    expect(pool.stats().failures).toBe(1);
  });
});

describe('Pool.run', () => {
  it('runs until the signal aborts, then closes and resolves once every call ended', async () => {
    const gated = new GatedJob();
    const controller = new AbortController();
    const pool = new Pool({ initial: 2 });
    let settled = false;
    const running = pool.run(gated.job, { signal: controller.signal }).then(() => {
      settled = true;
    });
    expect(pool.running).toBe(true);
    await gated.untilInFlight(2);
    controller.abort();
    expect(pool.closed).toBe(true);
    expect(gated.calls.every((call) => call.signal.aborted)).toBe(true);
    await turn();
    expect(settled).toBe(false);
    for (const call of gated.inFlight) call.release();
    await running;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await expect(pool.close()).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });

  it('runWithBuilder builds one job per worker and runs until the signal aborts', async () => {
    const controller = new AbortController();
    const counts: number[] = [];
    const probe = new Probe();
    const pool = new Pool({ initial: 3 });
    const running = pool.runWithBuilder(
      () => {
        const index = counts.push(0) - 1;
        return () => {
          counts[index]!++;
          probe.notify();
        };
      },
      { signal: controller.signal },
    );
    await probe.until(() => counts.length === 3 && counts.every((n) => n >= 10));
    controller.abort();
    await running;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(pool.stats().iterations);
  });

  it('rejects with the job error under stopOnErrors, without the signal aborting', async () => {
    const controller = new AbortController();
    const boom = new Error('boom');
    let calls = 0;
    const pool = new Pool({ stopOnErrors: true });
    await expect(
      pool.run(
        async () => {
          if (++calls === 3) throw boom;
        },
        { signal: controller.signal },
      ),
    ).rejects.toBe(boom);
    expect(calls).toBe(3);
    expect(controller.signal.aborted).toBe(false);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expectNoHandles();
  });

  it('rejects with AbortError (ABORT_ERR, cause: signal.reason) for an already aborted signal, not starting', async () => {
    const pool = new Pool();
    const error = await pool.run(() => {}, { signal: AbortSignal.abort('early') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ABORT_ERR', cause: 'early' });
    expect(pool.running).toBe(false);
    expect(pool.closed).toBe(false);
  });

  it('rejects with ERR_POOL_RUNNING, ERR_POOL_CLOSED and ERR_INVALID_ARGUMENT like start', async () => {
    const pool = new Pool();
    await expect(pool.run('x' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(pool.runWithBuilder('x' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    pool.start(() => {});
    await expect(pool.run(() => {})).rejects.toMatchObject({ code: 'ERR_POOL_RUNNING' });
    await pool.close();
    await expect(pool.run(() => {})).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    await expect(pool.runWithBuilder(() => () => {})).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });

  it('settles when someone else closes the pool, after every call ended', async () => {
    const gated = new GatedJob();
    const pool = new Pool();
    const controller = new AbortController();
    let settled = false;
    const running = pool.run(gated.job, { signal: controller.signal }).then(() => {
      settled = true;
    });
    await gated.untilInFlight(1);
    const closing = pool.close({ timeoutMs: 0 }).catch((error: unknown) => error);
    expect(await closing).toMatchObject({ code: 'ERR_POOL_CLOSE_TIMEOUT' });
    expect(settled).toBe(false);
    gated.calls[0]!.release();
    await running;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('Pool observability', () => {
  it('reports size, running, closed and stats through the life cycle', async () => {
    const gated = new GatedJob();
    const pool = new Pool({ initial: 2 });
    expect([pool.size, pool.running, pool.closed]).toEqual([0, false, false]);
    expect(pool.stats()).toEqual({ workers: 0, stopping: 0, iterations: 0, failures: 0 });
    pool.start(gated.job);
    expect([pool.size, pool.running, pool.closed]).toEqual([2, true, false]);
    await gated.untilInFlight(2);
    gated.calls[0]!.fail(new Error('x'));
    gated.calls[1]!.release();
    await gated.untilInFlight(2);
    await gated.untilStarted(4);
    expect(pool.stats()).toEqual({ workers: 2, stopping: 0, iterations: 2, failures: 1 });
    const closing = pool.close();
    expect([pool.size, pool.running, pool.closed]).toEqual([0, false, true]);
    expect(pool.stats()).toEqual({ workers: 0, stopping: 2, iterations: 2, failures: 1 });
    for (const call of gated.inFlight) call.release();
    await closing;
    expect(pool.stats()).toEqual({ workers: 0, stopping: 0, iterations: 4, failures: 1 });
  });

  it('numbers workers from 1 in the order they join', async () => {
    const ids: number[] = [];
    const pool = new Pool({ initial: 2 });
    pool.on('error', (_error, { workerId }) => ids.push(workerId));
    const gated = new GatedJob();
    pool.start(gated.job);
    pool.more();
    await gated.untilInFlight(3);
    for (const call of [...gated.calls].reverse()) call.fail(new Error('x'));
    await gated.untilStarted(6);
    expect(ids.sort()).toEqual([1, 2, 3]);
    const closing = pool.close();
    for (const call of gated.inFlight) call.release();
    await closing;
  });

  it('is an EventEmitter whose errors are SwitchyardErrors with stable codes', () => {
    expect(new Pool()).toBeInstanceOf(EventEmitter);
    const error = catchSync(() => new Pool().more());
    expect(error).toBeInstanceOf(SwitchyardError);
    expect((error as SwitchyardError).code).toBe('ERR_POOL_NOT_RUNNING');
  });
});

describe('Pool[Symbol.asyncDispose]', () => {
  it('closes a running pool', async () => {
    const gated = new GatedJob({ honourSignal: true });
    {
      await using pool = new Pool({ initial: 2 });
      pool.start(gated.job);
      await gated.untilInFlight(2);
    }
    expect(gated.calls.every((call) => call.ended && call.signal.aborted)).toBe(true);
  });

  it('tolerates a pool that never started (which then cannot start) or is already closed', async () => {
    const idle = new Pool();
    await idle[Symbol.asyncDispose]();
    expect(idle.closed).toBe(true);
    expect(catchSync(() => idle.start(() => {}))).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    const closed = new Pool();
    closed.start(() => {});
    await closed.close();
    await expect(closed[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });

  it('rejects with the job error of a pool stopped by stopOnErrors', async () => {
    const boom = new Error('boom');
    const pool = new Pool({ stopOnErrors: true });
    const failed = new Promise((resolve) => pool.once('error', resolve));
    pool.start(() => {
      throw boom;
    });
    await failed;
    await expect(pool[Symbol.asyncDispose]()).rejects.toBe(boom);
  });
});

describe('Pool scheduling', () => {
  it('lets timers and I/O run while a synchronous job that never awaits keeps calling', async () => {
    const counting = new CountingJob();
    const pool = new Pool({ initial: 4 });
    pool.start(counting.job);
    await counting.untilTotal(1);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const afterTimer = counting.total;
    const source = await readFile(fileURLToPath(import.meta.url), 'utf8');
    expect(source).toContain('never awaits');
    expect(counting.total).toBeGreaterThan(afterTimer);
    await pool.close();
    expect(pool.stats().iterations).toBe(counting.total);
    expectNoHandles();
  });

  it('lets timers and I/O run while an async job that settles at once keeps calling', async () => {
    let calls = 0;
    const pool = new Pool({ initial: 4 });
    pool.start(async () => {
      calls++;
      await Promise.resolve();
    });
    await new Promise((resolve) => setTimeout(resolve, 1));
    const afterTimer = calls;
    await readFile(fileURLToPath(import.meta.url));
    expect(afterTimer).toBeGreaterThan(0);
    expect(calls).toBeGreaterThan(afterTimer);
    await pool.close();
    expect(pool.stats().iterations).toBe(calls);
  });

  it('runs one call per event-loop turn when a synchronous call takes longer than the slice', async () => {
    const perTurn: number[] = [];
    let calls = 0;
    const pool = new Pool({ initial: 3 });
    pool.start(() => {
      calls++;
      const until = performance.now() + SLICE_MS * 2;
      while (performance.now() < until) {
        // busy: longer than one slice
      }
    });
    await turn();
    for (let i = 0; i < 6; i++) {
      const before = calls;
      await turn();
      perTurn.push(calls - before);
    }
    await pool.close();
    expect(perTurn).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('runs many cheap synchronous calls per event-loop turn', async () => {
    const counting = new CountingJob();
    const pool = new Pool();
    pool.start(counting.job);
    await counting.untilTotal(1);
    const before = counting.total;
    for (let i = 0; i < 10; i++) await turn();
    const perTurn = (counting.total - before) / 10;
    await pool.close();
    expect(perTurn).toBeGreaterThan(1);
  });

  it('shares turns fairly: every worker of a busy pool gets calls', async () => {
    const counting = new CountingJob();
    const pool = new Pool({ initial: 20 });
    pool.start(counting.job);
    await counting.probe.until(
      () => counting.perSignal.size === 20 && [...counting.perSignal.values()].every((n) => n >= 10),
    );
    const counts = [...counting.perSignal.values()];
    await pool.close();
    // Round-robin: no worker is more than a few calls ahead of another at any time.
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('keeps running under fake timers (the scheduler does not use the faked clock or setImmediate)', async () => {
    vi.useFakeTimers();
    const counting = new CountingJob();
    const pool = new Pool({ initial: 2 });
    pool.start(counting.job);
    await counting.untilTotal(1_000);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
    expectNoHandles();
  });

  it('awaits thenables, settling each call once even when the thenable calls back twice or throws', async () => {
    let calls = 0;
    const probe = new Probe();
    const errors: unknown[] = [];
    const broken = new Error('then() threw');
    const pool = new Pool();
    pool.on('error', (error) => errors.push(error));
    pool.start(() => {
      calls++;
      probe.notify();
      const thenable = {
        then(onFulfilled: () => void) {
          if (calls % 2 === 0) throw broken;
          onFulfilled();
          onFulfilled();
        },
      };
      return thenable as unknown as Promise<void>;
    });
    await probe.until(() => calls >= 10);
    await pool.close();
    expect(pool.stats().iterations).toBe(calls);
    expect(pool.stats().failures).toBe(Math.floor(calls / 2));
    expect(errors.every((error) => error === broken)).toBe(true);
  });

  it('does not recurse when a thenable calls back synchronously', async () => {
    let calls = 0;
    let depth = 0;
    let maxDepth = 0;
    const probe = new Probe();
    const pool = new Pool();
    pool.start(() => {
      calls++;
      probe.notify();
      const thenable = {
        then: (onFulfilled: () => void) => {
          maxDepth = Math.max(maxDepth, ++depth);
          onFulfilled();
          depth--;
        },
      };
      return thenable as unknown as Promise<void>;
    });
    await probe.until(() => calls >= 1_000);
    await pool.close();
    expect(maxDepth).toBe(1);
    expect(pool.stats()).toMatchObject({ iterations: calls, failures: 0 });
  });

  it('lets a job call less() and close() from inside a call', async () => {
    const pool = new Pool({ initial: 2 });
    const probe = new Probe();
    let calls = 0;
    let closing: Promise<void> | undefined;
    pool.start(() => {
      calls++;
      if (calls === 1) pool.less();
      else if (calls === 5) closing = pool.close();
      probe.notify();
    });
    await probe.until(() => closing !== undefined);
    await closing;
    expect(calls).toBe(5);
    expect(pool.stats().iterations).toBe(5);
  });
});

describe('Pool + middleware', () => {
  it('wraps each worker job in the pool middlewares, the last outermost', async () => {
    const order: string[] = [];
    const tag =
      (name: string) =>
      (job: Job): Job =>
      (signal) => {
        order.push(name);
        return job(signal);
      };
    const done = deferred();
    const pool = new Pool({}, tag('inner'), tag('outer'));
    pool.start(() => {
      order.push('job');
      done.resolve();
    });
    await done.promise;
    await pool.close();
    expect(order.slice(0, 3)).toEqual(['outer', 'inner', 'job']);
  });
});
