import { EventEmitter } from 'node:events';
import {
  InvalidArgumentError,
  PoolClosedError,
  PoolCloseTimeoutError,
  PoolConfigError,
  PoolMaxWorkersError,
  PoolMinWorkersError,
  PoolNotRunningError,
  PoolRunningError,
} from '../errors/errors.js';
import { AbortError } from '../errors/SwitchyardError.js';
import type { Job, JobBuilder, Middleware } from './Job.js';
import { wrap } from './Job.js';
import { abortError, describeValue } from './internal.js';
import type { WorkerHost } from './PoolWorker.js';
import { PoolWorker } from './PoolWorker.js';

/** How many workers a {@link Pool} runs, and what a job error does. */
export interface PoolConfig {
  /**
   * The fewest workers the pool may have; `less()` below it throws `PoolMinWorkersError`.
   * `0` lets `less()` remove every worker, which pauses the job.
   * @default 0
   */
  min?: number;
  /**
   * The most workers the pool may have; `more()` above it throws `PoolMaxWorkersError`.
   * `0` means no limit.
   * @default 0
   */
  max?: number;
  /**
   * How many workers `start` launches; must be within [`min`, `max`].
   * @default Math.max(1, min)
   */
  initial?: number;
  /**
   * When `true`, the first job error stops the pool: every worker's signal is aborted, and `run()`
   * and `close()` reject with that error. When `false`, a failed worker simply calls its job again
   * (errors are reported through the `'error'` event).
   * @default false
   */
  stopOnErrors?: boolean;
}

/** Options of {@link Pool.close}. */
export interface PoolCloseOptions {
  /**
   * Stop waiting when it aborts: `close()` rejects with an `AbortError` (cause: `signal.reason`).
   * The jobs' signals are aborted in any case.
   */
  signal?: AbortSignal;
  /**
   * Stop waiting after this many milliseconds: `close()` rejects with `PoolCloseTimeoutError`.
   * The jobs' signals are aborted in any case.
   * @default Infinity (wait for every running job)
   */
  timeoutMs?: number;
}

/** Options of {@link Pool.run} and {@link Pool.runWithBuilder}. */
export interface PoolRunOptions {
  /** The pool runs until this signal aborts, then closes (waiting for every running job). */
  signal?: AbortSignal;
}

/** A snapshot of a pool for status boards and metrics, from {@link Pool.stats}. */
export interface PoolStats {
  /** Workers in the pool (`pool.size`). */
  workers: number;
  /** Workers that were stopped (by `less()`, `close()` or a stopping error) but whose last job call still runs. */
  stopping: number;
  /** Job calls that ended, successfully or not. */
  iterations: number;
  /** Job calls that threw or rejected while their worker was not stopping (the `'error'` events). */
  failures: number;
}

/** What the `'error'` event says about a failed job call. */
export interface PoolErrorInfo {
  /** The id of the worker whose job failed (workers are numbered from 1 in the order they joined). */
  workerId: number;
}

/** The events a {@link Pool} emits. */
export type PoolEvents = {
  /**
   * A job call threw or rejected while its worker was running. Emitted only when someone listens
   * (a pool never throws for want of a listener). Errors thrown after the worker's signal aborted
   * are the expected way of stopping and are not reported.
   */
  error: [error: unknown, info: PoolErrorInfo];
};

type State = 'idle' | 'running' | 'stopped' | 'closing' | 'closed';

function assertCount(name: string, value: unknown): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) {
    throw new PoolConfigError(`Expected \`${name}\` to be an integer >= 0, got ${describeValue(value)}.`);
  }
}

/**
 * Runs one job non-stop through a number of concurrent workers that can be added and removed while
 * it runs (a port of hmoragrega/workers). Each worker calls the job, waits for it to settle, and
 * calls it again until it is stopped; workers share the event loop fairly, so a job that never
 * awaits does not starve timers or I/O.
 *
 * @example
 * ```ts
 * const pool = new Pool({ min: 1, max: 8, initial: 2 });
 * pool.on('error', (error, { workerId }) => console.error(`worker ${workerId}:`, error));
 * pool.start(async (signal) => {
 *   const batch = await queue.receive({ signal });
 *   await handle(batch);
 * });
 * pool.more(); // 3 workers
 * pool.less(); // 2 workers; the removed one finishes its call in the background
 * await pool.close({ timeoutMs: 5_000 }); // stops all and waits for every running call
 * ```
 */
export class Pool extends EventEmitter<PoolEvents> {
  readonly #min: number;
  readonly #max: number;
  readonly #initial: number;
  readonly #stopOnErrors: boolean;
  readonly #middlewares: ReadonlyArray<Middleware>;

  #state: State = 'idle';
  #builder: JobBuilder | undefined;
  readonly #active: PoolWorker[] = [];
  readonly #stopping = new Set<PoolWorker>();
  #nextWorkerId = 1;
  #iterations = 0;
  #failures = 0;
  /** The error that stopped the pool under `stopOnErrors`, boxed (a job may throw `undefined`). */
  #failure: { error: unknown } | undefined;
  /** Called once when the pool leaves `running` (close or stopping error); used by `run`. */
  readonly #onLeaveRunning = new Set<() => void>();
  /** Called once when the pool has closed and every worker exited. */
  readonly #onDrained = new Set<() => void>();

  readonly #host: WorkerHost = {
    ran: (worker, failed, error) => this.#workerRan(worker, failed, error),
    exited: (worker) => this.#workerExited(worker),
  };

  /**
   * @param config - Worker counts and error policy; see {@link PoolConfig}.
   * @param middlewares - Applied to each worker's job when the worker joins, as {@link wrap} does
   *   (the last one is the outermost). A middleware instance is shared by all workers.
   * @throws {@link PoolConfigError} when the config is inconsistent: a count that is not an integer
   *   >= 0, `min` > `max` (with `max` > 0), `initial` outside [`min`, `max`], a non-boolean
   *   `stopOnErrors`, or a middleware that is not a function.
   */
  constructor(config: PoolConfig = {}, ...middlewares: Middleware[]) {
    super();
    if (config === null || typeof config !== 'object') {
      throw new PoolConfigError(`Expected the pool config to be an object, got ${describeValue(config)}.`);
    }
    const { min = 0, max = 0, stopOnErrors = false } = config;
    assertCount('min', min);
    assertCount('max', max);
    assertCount('initial', config.initial);
    if (max > 0 && min > max) {
      throw new PoolConfigError(`Expected \`min\` to be <= \`max\` (${max}), got ${min}.`);
    }
    const initial = config.initial ?? Math.max(1, min);
    if (initial < min || (max > 0 && initial > max)) {
      const range = max > 0 ? `between \`min\` (${min}) and \`max\` (${max})` : `>= \`min\` (${min})`;
      throw new PoolConfigError(`Expected \`initial\` to be ${range}, got ${initial}.`);
    }
    if (typeof stopOnErrors !== 'boolean') {
      throw new PoolConfigError(`Expected \`stopOnErrors\` to be a boolean, got ${describeValue(stopOnErrors)}.`);
    }
    for (const [index, middleware] of middlewares.entries()) {
      if (typeof middleware !== 'function') {
        throw new PoolConfigError(
          `Expected middleware ${index} to be a function (job) => job, got ${describeValue(middleware)}.`,
        );
      }
    }
    this.#min = min;
    this.#max = max;
    this.#initial = initial;
    this.#stopOnErrors = stopOnErrors;
    this.#middlewares = middlewares;
  }

  /** Workers in the pool now. Removed workers still finishing their last call are not counted (see {@link stats}). */
  get size(): number {
    return this.#active.length;
  }

  /** True from `start` until `close()` is called or a job error stops the pool (`stopOnErrors`). */
  get running(): boolean {
    return this.#state === 'running';
  }

  /** True once `close()` was called or a job error stopped the pool: it runs no more jobs and cannot be started. */
  get closed(): boolean {
    return this.#state === 'stopped' || this.#state === 'closing' || this.#state === 'closed';
  }

  /** A snapshot of the pool's workers and of the job calls so far. */
  stats(): PoolStats {
    return {
      workers: this.#active.length,
      stopping: this.#stopping.size,
      iterations: this.#iterations,
      failures: this.#failures,
    };
  }

  /**
   * Starts `initial` workers, all running `job` (wrapped in the pool's middlewares per worker).
   * Returns at once; the first calls happen on a later turn of the event loop.
   *
   * @throws {@link PoolClosedError} when the pool was closed; {@link PoolRunningError} when it is
   *   already running; {@link InvalidArgumentError} when `job` is not a function.
   */
  start(job: Job): void {
    if (typeof job !== 'function')
      throw new InvalidArgumentError(`Expected \`job\` to be a function, got ${describeValue(job)}.`);
    this.#start(() => job);
  }

  /**
   * Like {@link start}, but calls `builder` once per worker when it joins (at start and on every
   * `more()`), so each worker has its own job instance and its own state.
   *
   * @throws {@link PoolClosedError}, {@link PoolRunningError} as {@link start};
   *   {@link InvalidArgumentError} when `builder` is not a function or returns something else than a
   *   job. An error thrown by `builder` propagates and leaves the pool unstarted.
   *
   * @example
   * ```ts
   * pool.startWithBuilder(() => {
   *   let seen = 0; // per worker: no locking needed
   *   return async (signal) => { seen += await drain(signal); };
   * });
   * ```
   */
  startWithBuilder(builder: JobBuilder): void {
    if (typeof builder !== 'function') {
      throw new InvalidArgumentError(`Expected \`builder\` to be a function () => job, got ${describeValue(builder)}.`);
    }
    this.#start(builder);
  }

  /**
   * Starts the pool with `job` and keeps it running until `options.signal` aborts, then closes it
   * (without a timeout). Resolves once every running call finished.
   *
   * Also settles when the pool stops otherwise: rejects with the job error when `stopOnErrors`
   * stopped it, and follows a `close()` called by someone else.
   *
   * @throws (rejects) {@link AbortError} when `options.signal` is already aborted (the pool is not
   *   started); the errors of {@link start}.
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * process.once('SIGINT', () => controller.abort());
   * await new Pool({ initial: 4 }).run(job, { signal: controller.signal });
   * ```
   */
  run(job: Job, options: PoolRunOptions = {}): Promise<void> {
    if (typeof job !== 'function')
      return Promise.reject(new InvalidArgumentError(`Expected \`job\` to be a function, got ${describeValue(job)}.`));
    return this.#run(() => job, options);
  }

  /** {@link run} with a {@link JobBuilder}: one job instance per worker, as {@link startWithBuilder}. */
  runWithBuilder(builder: JobBuilder, options: PoolRunOptions = {}): Promise<void> {
    if (typeof builder !== 'function') {
      return Promise.reject(
        new InvalidArgumentError(`Expected \`builder\` to be a function () => job, got ${describeValue(builder)}.`),
      );
    }
    return this.#run(builder, options);
  }

  /**
   * Adds one worker (building its job with the builder, if the pool was started with one).
   *
   * @throws {@link PoolClosedError} when the pool is closed (or stopped by a job error);
   *   {@link PoolNotRunningError} before `start`; {@link PoolMaxWorkersError} when it already has
   *   `max` workers.
   */
  more(): void {
    this.#assertResizable();
    if (this.#max > 0 && this.#active.length >= this.#max) {
      throw new PoolMaxWorkersError(
        `Expected at most ${this.#max} workers (\`max\`), got a request for ${this.#active.length + 1}; call less() first or raise \`max\`.`,
      );
    }
    this.#spawn(this.#build(this.#builder!));
  }

  /**
   * Removes the most recently added worker: aborts its signal and returns at once, without waiting
   * for its running call (`close()` does wait for it). With `min` 0, removing every worker pauses
   * the job.
   *
   * @throws {@link PoolClosedError} when the pool is closed (or stopped by a job error);
   *   {@link PoolNotRunningError} before `start`; {@link PoolMinWorkersError} when it has `min`
   *   workers.
   */
  less(): void {
    this.#assertResizable();
    if (this.#active.length <= this.#min) {
      throw new PoolMinWorkersError(
        `Expected at least ${this.#min} workers (\`min\`), got a request for ${this.#active.length - 1}; call more() first or lower \`min\`.`,
      );
    }
    const worker = this.#active.pop()!;
    this.#stopping.add(worker);
    worker.stop(new AbortError('The worker was removed from the pool with less().'));
  }

  /**
   * Stops every worker (their signals abort) and waits until every running call has settled,
   * including the last calls of workers removed with `less()`. The pool cannot be started again.
   *
   * Resolves when all calls ended; rejects with the job error when `stopOnErrors` stopped the pool.
   * `signal` and `timeoutMs` only bound the wait: the workers are stopped in any case.
   *
   * @throws (rejects) {@link PoolNotRunningError} before `start`; {@link PoolClosedError} when
   *   `close()` was already called; {@link PoolCloseTimeoutError} after `timeoutMs` (its cause is the
   *   stopping job error, if any); {@link AbortError} when `signal` aborts (cause: `signal.reason`);
   *   {@link InvalidArgumentError} when `timeoutMs` is not a number >= 0.
   */
  close(options: PoolCloseOptions = {}): Promise<void> {
    const { signal, timeoutMs = Number.POSITIVE_INFINITY } = options;
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(
        new InvalidArgumentError(`Expected \`timeoutMs\` to be a number >= 0, got ${describeValue(timeoutMs)}.`),
      );
    }
    if (this.#state === 'idle')
      return Promise.reject(
        new PoolNotRunningError('The pool is not running, so there is nothing to close; call start(job) first.'),
      );
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(
        new PoolClosedError(
          'The pool is already closed (close() was called before); create a new Pool to run jobs again.',
        ),
      );
    }
    this.#beginClose();
    return this.#waitDrained(signal, timeoutMs).then(() => {
      if (this.#failure !== undefined) throw this.#failure.error;
    });
  }

  /**
   * Closes the pool for `await using`: like {@link close}, but a pool that was never started is
   * simply marked closed, and one already closing or closed resolves at once.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === 'idle') this.#state = 'closed';
    else if (this.#state === 'running' || this.#state === 'stopped') await this.close();
  }

  #assertStartable(): void {
    if (this.closed) throw new PoolClosedError('The pool is closed and cannot be started again; create a new Pool.');
    if (this.#state === 'running') throw new PoolRunningError();
  }

  #assertResizable(): void {
    if (this.#state === 'stopped') {
      throw new PoolClosedError('The pool stopped after a job failed (stopOnErrors); call close() to get the error.', {
        cause: this.#failure?.error,
      });
    }
    if (this.closed) throw new PoolClosedError('The pool is closed; its workers cannot be changed.');
    if (this.#state === 'idle')
      throw new PoolNotRunningError('The pool is not running; call start(job) before more() or less().');
  }

  #start(builder: JobBuilder): void {
    this.#assertStartable();
    // Build every job first: a throwing builder leaves the pool unstarted.
    const jobs: Job[] = [];
    for (let i = 0; i < this.#initial; i++) jobs.push(this.#build(builder));
    this.#builder = builder;
    this.#state = 'running';
    for (const job of jobs) this.#spawn(job);
  }

  #build(builder: JobBuilder): Job {
    const job = builder();
    if (typeof job !== 'function') {
      throw new InvalidArgumentError(`Expected the job builder to return a job function, got ${describeValue(job)}.`);
    }
    return this.#middlewares.length === 0 ? job : wrap(job, ...this.#middlewares);
  }

  #spawn(job: Job): void {
    const worker = new PoolWorker(this.#nextWorkerId++, job, this.#host);
    this.#active.push(worker);
    worker.start();
  }

  #run(builder: JobBuilder, { signal }: PoolRunOptions): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal, 'Running the pool'));
    try {
      this.#start(builder);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#onLeaveRunning.delete(onLeave);
        this.close().then(resolve, reject);
      };
      const onLeave = (): void => {
        signal?.removeEventListener('abort', onAbort);
        if (this.#state === 'stopped') {
          // A job error stopped the pool: close it, which rejects with that error.
          this.close().then(resolve, reject);
        } else {
          // Someone else called close(): settle when every worker exited, as they will.
          this.#waitDrained(undefined, Number.POSITIVE_INFINITY).then(() => {
            if (this.#failure === undefined) resolve();
            else reject(this.#failure.error);
          }, reject);
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#onLeaveRunning.add(onLeave);
    });
  }

  #stopAll(reason: unknown): void {
    const workers = this.#active.splice(0);
    for (const worker of workers) this.#stopping.add(worker);
    for (const worker of workers) worker.stop(reason);
  }

  #leaveRunning(): void {
    const callbacks = [...this.#onLeaveRunning];
    this.#onLeaveRunning.clear();
    for (const callback of callbacks) callback();
  }

  #beginClose(): void {
    const wasRunning = this.#state === 'running';
    this.#state = 'closing';
    this.#stopAll(new AbortError('The pool is closing.'));
    if (wasRunning) this.#leaveRunning();
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#state !== 'closing' || this.#active.length > 0 || this.#stopping.size > 0) return;
    this.#state = 'closed';
    const callbacks = [...this.#onDrained];
    this.#onDrained.clear();
    for (const callback of callbacks) callback();
  }

  #waitDrained(signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    if (signal?.aborted) return Promise.reject(abortError(signal, 'Waiting for the pool to close'));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#onDrained.delete(onDrained);
      };
      const onDrained = (): void => {
        settle();
        resolve();
      };
      const onAbort = (): void => {
        settle();
        reject(abortError(signal!, 'Waiting for the pool to close'));
      };
      this.#onDrained.add(onDrained);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== Number.POSITIVE_INFINITY) {
        timer = setTimeout(() => {
          settle();
          const message =
            `Expected every job call to end within ${timeoutMs} ms of close(), got ${this.#stopping.size} still running. ` +
            'Their signals are aborted; make the job honour its signal, or give close() more time.';
          reject(new PoolCloseTimeoutError(message, this.#failure === undefined ? {} : { cause: this.#failure.error }));
        }, timeoutMs);
      }
    });
  }

  #workerRan(worker: PoolWorker, failed: boolean, error: unknown): void {
    this.#iterations++;
    // A call that fails once its worker was told to stop is stopping, not failing.
    if (!failed || worker.signal.aborted) return;
    this.#failures++;
    if (this.#stopOnErrors && this.#state === 'running') {
      this.#failure = { error };
      this.#state = 'stopped';
      this.#stopAll(new AbortError('The pool stopped because a job failed (stopOnErrors).', { cause: error }));
      this.#leaveRunning();
    }
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', error, { workerId: worker.id });
      } catch (listenerError) {
        // A throwing listener is a bug to surface, but it must not break the worker loop.
        queueMicrotask(() => {
          throw listenerError;
        });
      }
    }
  }

  #workerExited(worker: PoolWorker): void {
    // Workers are only stopped after leaving #active, so an exiting worker is in #stopping.
    this.#stopping.delete(worker);
    this.#checkDrained();
  }
}
