import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../src/errors/errors.js';
import { AbortError } from '../../src/errors/SwitchyardError.js';
import type { Job, Middleware } from '../../src/pool/Job.js';
import { wrap } from '../../src/pool/Job.js';
import { counter, elapsed, retry, wait } from '../../src/pool/middlewares.js';
import { Pool } from '../../src/pool/Pool.js';
import { deferred, Probe, turn } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

const signal = new AbortController().signal;

/** Calls a pool job and always gets a promise (a `Job` may return void). */
function call(job: Job, s: AbortSignal = signal): Promise<void> {
  return Promise.resolve(job(s));
}

function sleepJob(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function catchSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('Expected a throw');
}

describe('wrap', () => {
  it('applies middlewares in order, the last one outermost', async () => {
    const order: string[] = [];
    const tag =
      (name: string): Middleware =>
      (job) =>
      (s) => {
        order.push(`${name}:before`);
        const result = job(s);
        order.push(`${name}:after`);
        return result;
      };
    const wrapped = wrap(() => void order.push('job'), tag('a'), tag('b'));
    await wrapped(signal);
    expect(order).toEqual(['b:before', 'a:before', 'job', 'a:after', 'b:after']);
  });

  it('returns the job itself without middlewares', () => {
    const job: Job = () => {};
    expect(wrap(job)).toBe(job);
  });

  it('throws InvalidArgumentError (ERR_INVALID_ARGUMENT) for a bad job, middleware or middleware result', () => {
    expect(catchSync(() => wrap('job' as never))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(
      catchSync(() =>
        wrap(
          () => {},
          (job) => job,
          3 as never,
        ),
      ),
    ).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'Expected middleware 1 to be a function (job) => job, got number 3.',
    });
    expect(
      catchSync(() =>
        wrap(
          () => {},
          () => 'nope' as never,
        ),
      ),
    ).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'Expected middleware 0 to return a job function, got "nope".',
    });
  });
});

describe('counter', () => {
  it('counts started, finished and failed synchronous calls exactly', () => {
    const c = counter();
    let n = 0;
    const job = c(() => {
      if (++n % 2 === 0) throw new Error(`fail ${n}`);
    });
    for (let i = 0; i < 5; i++) {
      try {
        job();
      } catch {
        // counted
      }
    }
    expect({ started: c.started, finished: c.finished, failed: c.failed, running: c.running }).toEqual({
      started: 5,
      finished: 5,
      failed: 2,
      running: 0,
    });
  });

  it('counts an async call as running until it settles', async () => {
    const c = counter();
    const gates = [deferred(), deferred()];
    let i = 0;
    const job = c(() => gates[i++]!.promise);
    const first = job();
    const second = job();
    expect([c.started, c.finished, c.failed, c.running]).toEqual([2, 0, 0, 2]);
    gates[0]!.resolve();
    await first;
    expect([c.started, c.finished, c.failed, c.running]).toEqual([2, 1, 0, 1]);
    const boom = new Error('boom');
    gates[1]!.reject(boom);
    await expect(second).rejects.toBe(boom);
    expect([c.started, c.finished, c.failed, c.running]).toEqual([2, 2, 1, 0]);
  });

  it('keeps synchronous functions synchronous and passes arguments, this and results through', () => {
    const c = counter();
    const handler = c(function (this: { base: number }, a: number, b: number) {
      return this.base + a + b;
    });
    expect(handler.call({ base: 100 }, 1, 2)).toBe(103);
    expect(c.finished).toBe(1);
  });

  it('counts every job it wraps together', async () => {
    const c = counter();
    const a = c(() => {});
    const b = c(async () => {});
    a();
    await b();
    await b();
    expect([c.started, c.finished]).toEqual([3, 3]);
  });

  it('counts every call of every pool worker', async () => {
    const c = counter();
    const probe = new Probe();
    let calls = 0;
    const pool = new Pool({ initial: 3 }, c);
    pool.start(() => {
      if (++calls % 3 === 0) throw new Error('every third');
      probe.notify();
    });
    await probe.until(() => calls >= 300);
    await pool.close();
    expect(c.started).toBe(calls);
    expect(c.finished).toBe(pool.stats().iterations);
    expect(c.failed).toBe(pool.stats().failures);
    expect(c.failed).toBe(Math.floor(calls / 3));
  });

  it('throws InvalidArgumentError (ERR_INVALID_ARGUMENT) when wrapping something else than a function', () => {
    expect(catchSync(() => counter()(null as never))).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('elapsed', () => {
  it('reports total, average and last duration in ms of async calls, failures included', async () => {
    vi.useFakeTimers();
    const timing = elapsed();
    expect([timing.total, timing.average, timing.last]).toEqual([0, 0, 0]);
    const durations = [100, 300, 200];
    let i = 0;
    const job = timing(async () => {
      const ms = durations[i++]!;
      await sleepJob(ms);
      if (ms === 200) throw new Error('slow and failing');
    });
    for (const ms of durations) {
      const call = job().catch(() => {});
      await vi.advanceTimersByTimeAsync(ms);
      await call;
      expect(timing.last).toBe(ms);
    }
    expect(timing.total).toBe(600);
    expect(timing.average).toBe(200);
    expect(timing.last).toBe(200);
    expect([timing.started, timing.finished, timing.failed, timing.running]).toEqual([3, 3, 1, 0]);
  });

  it('times synchronous calls, including ones that throw', () => {
    vi.useFakeTimers();
    const timing = elapsed();
    const job = timing((ms: number) => {
      vi.advanceTimersByTime(ms);
      if (ms > 40) throw new Error('too slow');
      return ms;
    });
    expect(job(10)).toBe(10);
    expect(() => job(50)).toThrow('too slow');
    expect([timing.total, timing.average, timing.last]).toEqual([60, 30, 50]);
    expect([timing.finished, timing.failed]).toEqual([2, 1]);
  });

  it('times every call of a pool', async () => {
    const timing = elapsed();
    let calls = 0;
    const probe = new Probe();
    const pool = new Pool({ initial: 2 }, timing);
    pool.start(() => {
      calls++;
      probe.notify();
    });
    await probe.until(() => calls >= 100);
    await pool.close();
    expect(timing.finished).toBe(pool.stats().iterations);
    expect(timing.total).toBeGreaterThanOrEqual(0);
    expect(timing.average).toBeCloseTo(timing.total / timing.finished, 10);
  });
});

describe('retry', () => {
  it('retries a failed call until it succeeds, up to `times` retries', async () => {
    let calls = 0;
    const job = wrap(() => {
      if (++calls < 3) throw new Error(`fail ${calls}`);
    }, retry(2));
    await expect(job(signal)).resolves.toBeUndefined();
    expect(calls).toBe(3);
  });

  it('fails with the last error when every attempt failed', async () => {
    const errors: Error[] = [];
    const job = wrap(async () => {
      const error = new Error(`fail ${errors.length + 1}`);
      errors.push(error);
      throw error;
    }, retry(2));
    const error = await call(job).catch((e: unknown) => e);
    expect(errors).toHaveLength(3);
    expect(error).toBe(errors[2]);
  });

  it('does not retry with times 0', async () => {
    let calls = 0;
    const job = wrap(() => {
      calls++;
      throw new Error('once');
    }, retry(0));
    await expect(job(signal)).rejects.toThrow('once');
    expect(calls).toBe(1);
  });

  it('waits `backoff` ms before each retry', async () => {
    vi.useFakeTimers();
    const at: number[] = [];
    const job = wrap(
      () => {
        at.push(Date.now());
        throw new Error('fail');
      },
      retry(2, { backoff: 100 }),
    );
    const start = Date.now();
    const outcome = call(job).catch((error: unknown) => error);
    expect(at).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(at).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(at).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(await outcome).toMatchObject({ message: 'fail' });
    expect(at.map((t) => t - start)).toEqual([0, 100, 200]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('calls a backoff function with the retry number and the error', async () => {
    vi.useFakeTimers();
    const at: number[] = [];
    const seen: Array<[number, string]> = [];
    const job = wrap(
      () => {
        at.push(Date.now());
        throw new Error(`fail ${at.length}`);
      },
      retry(3, {
        backoff: (n, error) => {
          seen.push([n, (error as Error).message]);
          return 100 * 2 ** (n - 1);
        },
      }),
    );
    const start = Date.now();
    const outcome = call(job).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(700);
    expect(await outcome).toMatchObject({ message: 'fail 4' });
    expect(at.map((t) => t - start)).toEqual([0, 100, 300, 700]);
    expect(seen).toEqual([
      [1, 'fail 1'],
      [2, 'fail 2'],
      [3, 'fail 3'],
    ]);
  });

  it('stops retrying when the signal aborts during the backoff, failing with the last job error', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    let calls = 0;
    const boom = new Error('boom');
    const job = wrap(
      () => {
        calls++;
        throw boom;
      },
      retry(5, { backoff: 1_000 }),
    );
    const outcome = call(job, controller.signal).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(500);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    expect(await outcome).toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
  });

  it('does not retry a call that failed after its signal aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const job = wrap(() => {
      calls++;
      controller.abort();
      throw new Error('stopping');
    }, retry(3));
    await expect(job(controller.signal)).rejects.toThrow('stopping');
    expect(calls).toBe(1);
  });

  it('throws InvalidArgumentError (ERR_INVALID_ARGUMENT) for bad times or backoff', () => {
    for (const bad of [-1, 1.5, Number.NaN, '2']) {
      expect(catchSync(() => retry(bad as number))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '100']) {
      expect(catchSync(() => retry(1, { backoff: bad as number }))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(retry(Number.POSITIVE_INFINITY)).toBeTypeOf('function');
    expect(catchSync(() => retry(1)(undefined as never))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('fails the call with InvalidArgumentError (cause: the job error) when backoff returns a bad delay', async () => {
    const boom = new Error('boom');
    const job = wrap(
      () => {
        throw boom;
      },
      retry(1, { backoff: () => -5 }),
    );
    await expect(job(signal)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', cause: boom });
  });

  it('hides retried failures from the pool; the error after the last retry stops a stopOnErrors pool', async () => {
    const errors: Error[] = [];
    const pool = new Pool({ stopOnErrors: true }, retry(2));
    const outcome = await pool
      .run(() => {
        const error = new Error(`fail ${errors.length + 1}`);
        errors.push(error);
        throw error;
      })
      .catch((e: unknown) => e);
    expect(errors).toHaveLength(3);
    expect(outcome).toBe(errors[2]);
    expect(pool.stats()).toMatchObject({ iterations: 1, failures: 1 });
  });
});

describe('wait', () => {
  it('pauses `ms` before every call of the job', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const job = wrap(() => {
      calls++;
    }, wait(100));
    const first = job(signal);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await first;
    expect(calls).toBe(1);
    const second = job(signal);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(calls).toBe(2);
  });

  it('rejects with AbortError (ABORT_ERR, cause: signal.reason) when aborted during the pause, without calling the job', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    let calls = 0;
    const job = wrap(() => {
      calls++;
    }, wait(1_000));
    const outcome = call(job, controller.signal).catch((error: unknown) => error);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort('stop');
    const error = await outcome;
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ code: 'ABORT_ERR', cause: 'stop' });
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toBe(0);
  });

  it('rejects at once for an already aborted signal, starting no timer', async () => {
    vi.useFakeTimers();
    const job = wrap(() => {}, wait(1_000));
    await expect(job(AbortSignal.abort('gone'))).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'gone' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('returns the job unchanged for 0 ms', () => {
    const job: Job = () => {};
    expect(wait(0)(job)).toBe(job);
  });

  it('throws InvalidArgumentError (ERR_INVALID_ARGUMENT) for a bad ms', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      expect(catchSync(() => wait(bad as number))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(catchSync(() => wait(5)(1 as never))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('paces each pool worker separately, and close() cuts the pauses short', async () => {
    vi.useFakeTimers();
    const start = Date.now();
    const at = new Map<AbortSignal, number[]>();
    const pool = new Pool({ initial: 2 }, wait(100));
    pool.start((s) => {
      const list = at.get(s) ?? [];
      list.push(Date.now() - start);
      at.set(s, list);
    });
    // The pool starts its workers on its own (real-time) scheduler, possibly in two separate turns on
    // a busy machine: let both begin their first pause before fake time moves at all.
    while (vi.getTimerCount() < 2) await turn();
    // Drive fake time in small steps, letting the pool's (real) scheduler turn in between.
    for (let step = 0; step < 1_000 && !(at.size === 2 && [...at.values()].every((list) => list.length >= 3)); step++) {
      await vi.advanceTimersByTimeAsync(10);
      await turn();
    }
    expect(at.size).toBe(2);
    for (const list of at.values()) {
      expect(list[0]).toBeGreaterThanOrEqual(100);
      for (let i = 1; i < list.length; i++) expect(list[i]! - list[i - 1]!).toBeGreaterThanOrEqual(100);
    }
    // Both workers paused at the same time: their first calls happened together.
    const firsts = [...at.values()].map((list) => list[0]);
    expect(firsts[0]).toBe(firsts[1]);
    // Both workers wait in a pause now: close() aborts it and resolves without advancing time.
    expect(vi.getTimerCount()).toBe(2);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(pool.stats().failures).toBe(0);
  });
});
