import { InvalidArgumentError } from '../errors/errors.js';
import type { Middleware } from './Job.js';
import { describeValue, isNonNegativeFinite, isPromiseLike, sleep } from './internal.js';

type AnyJob = (...args: any[]) => unknown;

function assertJob(job: unknown, middleware: string): void {
  if (typeof job !== 'function') {
    throw new InvalidArgumentError(`Expected ${middleware}() to wrap a job function, got ${describeValue(job)}.`);
  }
}

/** The counts a {@link counter} (and an {@link elapsed}) middleware keeps, across every job it wraps. */
export interface JobCounts {
  /** Calls that started. */
  readonly started: number;
  /** Calls that ended, successfully or not (so `finished - failed` succeeded). */
  readonly finished: number;
  /** Calls that threw or rejected (included in `finished`). */
  readonly failed: number;
  /** Calls running now: `started - finished`. */
  readonly running: number;
}

/**
 * A middleware that counts the calls of the jobs it wraps; read the counts on it. It wraps any
 * function (a pool {@link Job}, an event handler...), keeps synchronous functions synchronous, and
 * passes arguments, `this` and results through unchanged.
 */
export interface CounterMiddleware extends JobCounts {
  <J extends AnyJob>(job: J): J;
}

/** A {@link CounterMiddleware} that also times the calls, in milliseconds (`performance.now()`). */
export interface ElapsedMiddleware extends CounterMiddleware {
  /** Milliseconds spent in all finished calls (failed ones included). */
  readonly total: number;
  /** `total / finished`; `0` before the first call ends. */
  readonly average: number;
  /** How long the most recently finished call took; `0` before the first call ends. */
  readonly last: number;
}

/**
 * Counts how many job calls started, finished and failed. One counter can wrap several jobs (the
 * pool applies it to every worker's job), and then counts them all together.
 *
 * @example
 * ```ts
 * const c = counter();
 * const pool = new Pool({ initial: 4 }, c);
 * pool.start(job);
 * // later, on a status board:
 * console.log(`${c.finished} done, ${c.failed} failed, ${c.running} running`);
 * ```
 */
export function counter(): CounterMiddleware {
  let started = 0;
  let finished = 0;
  let failed = 0;
  const onFulfilled = <T>(value: T): T => {
    finished++;
    return value;
  };
  const onRejected = (error: unknown): never => {
    finished++;
    failed++;
    throw error;
  };
  const middleware = <J extends AnyJob>(job: J): J => {
    assertJob(job, 'counter');
    return function counted(this: unknown, ...args: unknown[]): unknown {
      started++;
      let result: unknown;
      try {
        result = job.apply(this, args);
      } catch (error) {
        return onRejected(error);
      }
      if (isPromiseLike(result)) return result.then(onFulfilled, onRejected);
      finished++;
      return result;
    } as J;
  };
  return Object.defineProperties(middleware, {
    started: { get: () => started, enumerable: true },
    finished: { get: () => finished, enumerable: true },
    failed: { get: () => failed, enumerable: true },
    running: { get: () => started - finished, enumerable: true },
  }) as CounterMiddleware;
}

/**
 * Times job calls: the total, average and last duration in milliseconds, plus the counts of
 * {@link counter} (it builds on one, like the seed's `Elapsed`). Durations are read with
 * `performance.now()` at call time, so fake timers that fake `performance` control them.
 *
 * @example
 * ```ts
 * const timing = elapsed();
 * const pool = new Pool({}, timing);
 * pool.start(job);
 * // later:
 * console.log(`${timing.finished} calls, ${timing.average.toFixed(1)} ms on average, last ${timing.last} ms`);
 * ```
 */
export function elapsed(): ElapsedMiddleware {
  const count = counter();
  let total = 0;
  let last = 0;
  const record = (startedAt: number): void => {
    last = globalThis.performance.now() - startedAt;
    total += last;
  };
  const middleware = <J extends AnyJob>(job: J): J => {
    const counted = count(job);
    return function timed(this: unknown, ...args: unknown[]): unknown {
      const startedAt = globalThis.performance.now();
      let result: unknown;
      try {
        result = counted.apply(this, args);
      } catch (error) {
        record(startedAt);
        throw error;
      }
      if (!isPromiseLike(result)) {
        record(startedAt);
        return result;
      }
      return result.then(
        (value) => {
          record(startedAt);
          return value;
        },
        (error: unknown) => {
          record(startedAt);
          throw error;
        },
      );
    } as J;
  };
  return Object.defineProperties(middleware, {
    started: { get: () => count.started, enumerable: true },
    finished: { get: () => count.finished, enumerable: true },
    failed: { get: () => count.failed, enumerable: true },
    running: { get: () => count.running, enumerable: true },
    total: { get: () => total, enumerable: true },
    average: { get: () => (count.finished === 0 ? 0 : total / count.finished), enumerable: true },
    last: { get: () => last, enumerable: true },
  }) as ElapsedMiddleware;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /**
   * Milliseconds to wait before each retry: a number, or a function of the retry number (`1` for
   * the first retry) and of the error that made it necessary (for exponential backoff). Returning
   * anything but a number >= 0 fails the call with `InvalidArgumentError` (cause: the job error).
   * @default 0
   */
  backoff?: number | ((retry: number, error: unknown) => number);
}

/**
 * Calls a failed job again, up to `times` more times, waiting `backoff` before each retry. The call
 * fails with the last error when every attempt failed. Retrying stops as soon as the job's signal
 * aborts (also during a backoff wait, whose timer is cleared): the call then fails at once with the
 * job's last error.
 *
 * @param times - How many retries after the first attempt (an integer >= 0, or `Infinity`).
 * @throws {@link InvalidArgumentError} when `times` or `backoff` is invalid.
 *
 * @example
 * ```ts
 * // up to 3 retries, waiting 100, 200, then 400 ms
 * const pool = new Pool({}, retry(3, { backoff: (n) => 100 * 2 ** (n - 1) }));
 * ```
 */
export function retry(times: number, options: RetryOptions = {}): Middleware {
  if (!(
    times === Number.POSITIVE_INFINITY ||
    (typeof times === 'number' && Number.isSafeInteger(times) && times >= 0)
  )) {
    throw new InvalidArgumentError(
      `Expected \`times\` to be an integer >= 0 or Infinity, got ${describeValue(times)}.`,
    );
  }
  const { backoff = 0 } = options;
  if (typeof backoff !== 'function' && !isNonNegativeFinite(backoff)) {
    throw new InvalidArgumentError(
      `Expected \`backoff\` to be a number >= 0 (milliseconds) or a function, got ${describeValue(backoff)}.`,
    );
  }
  return (job) => {
    assertJob(job, 'retry');
    return async (signal) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await job(signal);
          return;
        } catch (error) {
          if (attempt >= times || signal.aborted) throw error;
          const delay = typeof backoff === 'function' ? backoff(attempt + 1, error) : backoff;
          if (!isNonNegativeFinite(delay)) {
            throw new InvalidArgumentError(
              `Expected \`backoff\` to return a number >= 0 (milliseconds), got ${describeValue(delay)}.`,
              {
                cause: error,
              },
            );
          }
          if (delay > 0) {
            try {
              await sleep(delay, signal, 'Waiting to retry the job');
            } catch {
              throw error; // aborted while waiting: stop retrying, report what the job said
            }
          }
        }
      }
    };
  };
}

/**
 * Pauses `ms` before each call of the job, the first included (as the seed's `Wait`). With a pool,
 * the pause is per worker: other workers keep running meanwhile. The pause ends early when the
 * job's signal aborts, and the call then rejects with an `AbortError` (cause: `signal.reason`)
 * without running the job; the timer is cleared. `wait(0)` returns the job unchanged.
 *
 * @throws {@link InvalidArgumentError} when `ms` is not a finite number >= 0.
 *
 * @example
 * ```ts
 * // poll an endpoint about once a second per worker
 * const pool = new Pool({}, wait(1_000));
 * pool.start(async (signal) => { await poll(signal); });
 * ```
 */
export function wait(ms: number): Middleware {
  if (!isNonNegativeFinite(ms)) {
    throw new InvalidArgumentError(`Expected \`ms\` to be a finite number >= 0, got ${describeValue(ms)}.`);
  }
  return (job) => {
    assertJob(job, 'wait');
    if (ms === 0) return job;
    return async (signal) => {
      await sleep(ms, signal, 'The pause before the job');
      await job(signal);
    };
  };
}
