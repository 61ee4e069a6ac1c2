import { AbortError } from '@switchyard/core';
import { StatusInvalidArgumentError } from '../errors/errors.js';
import { describeValue, isAsyncIterable, isPromiseLike } from '../internal/describe.js';

/**
 * What a worker constructor returns: an async iterable of the values the worker conveys, or a
 * promise when it conveys none (it settles when the worker is done).
 */
export type WorkerSource<T = unknown> = AsyncIterable<T> | PromiseLike<unknown>;

/** The values a {@link WorkerSource} conveys (`never` for a promise). */
export type WorkerValue<S> = S extends AsyncIterable<infer T> ? T : never;

/**
 * Creates worker `id` (numbered from 1). `signal` aborts when the run stops early: another worker
 * failed, the consumer stopped iterating, or the run's own signal aborted. Honour it.
 */
export type WorkerConstructor<S extends WorkerSource = WorkerSource> = (id: number, signal: AbortSignal) => S;

/** Options of {@link runWorkers}. */
export interface RunWorkersOptions {
  /**
   * Stops every worker when it aborts; the merged iterable then rejects with an `AbortError`
   * whose `cause` is `signal.reason`.
   */
  signal?: AbortSignal;
}

interface Pending<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

interface Queued<T> {
  value: T;
  /** Lets the worker that conveyed the value go on. */
  taken(): void;
}

interface Slot {
  readonly id: number;
  iterator: AsyncIterator<unknown> | undefined;
  returning: Promise<void> | undefined;
}

type Stop = { kind: 'failed'; error: unknown } | { kind: 'returned' };

/**
 * The merged values of the workers started by {@link runWorkers}: an async iterator (use it with
 * `for await`) that ends when every worker has ended.
 *
 * - Every value a worker conveys is delivered exactly once (in no particular order across workers).
 *   Each worker is one value ahead at most: it is not asked for its next value until its previous
 *   one was taken.
 * - When a worker fails (its iterator or promise rejects, or its constructor throws), the others
 *   are stopped: their signal aborts and `return()` is called on their iterators. Once all have
 *   ended, the values already conveyed are delivered and then the error rejects `next()`. Errors
 *   of the other workers while they stop (typically the `AbortError` of their signal) are dropped.
 * - Leaving the loop early (`break`, `return()`, `await using`) stops the workers the same way and
 *   resolves once they all ended; values not yet taken are dropped.
 */
export class WorkerRun<T> implements AsyncIterableIterator<T, undefined>, AsyncDisposable {
  readonly #controller = new AbortController();
  readonly #queue: Array<Queued<T>> = [];
  readonly #pending: Array<Pending<T>> = [];
  readonly #slots: Slot[] = [];
  readonly #ended: Promise<void>;
  #resolveEnded!: () => void;
  #running = 0;
  #stop: Stop | undefined;
  /** True once the iteration ended for the consumer (done returned or the error thrown). */
  #finished = false;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => {
    this.#halt({
      kind: 'failed',
      error: new AbortError('The worker run was aborted.', { cause: this.#signal?.reason }),
    });
  };

  /** @internal Use {@link runWorkers}. */
  constructor(count: number, constructor: WorkerConstructor, signal: AbortSignal | undefined) {
    this.#ended = new Promise<void>((resolve) => (this.#resolveEnded = resolve));
    this.#signal = signal;
    if (signal?.aborted) {
      this.#stop = {
        kind: 'failed',
        error: new AbortError('The worker run was aborted before it started.', { cause: signal.reason }),
      };
      this.#controller.abort(this.#stop.error);
      this.#resolveEnded();
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#running = count;
    if (count === 0) this.#allEnded();
    // Constructors are called now, in id order, as the seed's run-workers does.
    for (let id = 1; id <= count; id++) {
      const slot: Slot = { id, iterator: undefined, returning: undefined };
      this.#slots.push(slot);
      void this.#drive(slot, constructor);
    }
  }

  /** Aborts when the run stops early (a worker failed, the consumer left, or the run's signal aborted). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** How many workers have not ended yet. */
  get running(): number {
    return this.#running;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      queued.taken();
      return Promise.resolve({ value: queued.value, done: false });
    }
    if (this.#finished) return Promise.resolve({ value: undefined, done: true });
    if (this.#running === 0) return this.#finish();
    return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }));
  }

  /**
   * Stops every worker that is still running (their signal aborts, `return()` is called on their
   * iterators), drops the values not taken yet, and resolves once every worker has ended.
   */
  async return(): Promise<IteratorResult<T, undefined>> {
    if (this.#running > 0) this.#halt({ kind: 'returned' });
    this.#queue.length = 0;
    this.#finished = true;
    for (const pending of this.#pending.splice(0)) pending.resolve({ value: undefined, done: true });
    await this.#ended;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Calls {@link return}: `await using run = runWorkers(...)` stops the workers left running. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  #finish(): Promise<IteratorResult<T, undefined>> {
    this.#finished = true;
    const stop = this.#stop;
    if (stop?.kind === 'failed') return Promise.reject(stop.error);
    return Promise.resolve({ value: undefined, done: true });
  }

  async #drive(slot: Slot, constructor: WorkerConstructor): Promise<void> {
    try {
      if (this.#stop !== undefined) return; // an earlier constructor threw: start no more workers
      const source: unknown = constructor(slot.id, this.#controller.signal);
      if (isAsyncIterable(source)) {
        const iterator = source[Symbol.asyncIterator]();
        slot.iterator = iterator;
        while (this.#stop === undefined) {
          const result = await iterator.next();
          if (result.done === true) {
            slot.iterator = undefined; // ended by itself: no return() to call
            return;
          }
          const handed = this.#push(result.value as T);
          if (handed !== undefined) await handed;
        }
      } else if (isPromiseLike(source)) {
        await source;
      } else {
        throw new StatusInvalidArgumentError(
          `Expected worker ${slot.id}'s constructor to return an async iterable or a promise, got ${describeValue(source)}.`,
        );
      }
    } catch (error) {
      slot.iterator = undefined; // an iterator that threw is done
      this.#halt({ kind: 'failed', error });
    } finally {
      if (slot.iterator !== undefined) slot.returning ??= this.#callReturn(slot.iterator);
      if (slot.returning !== undefined) await slot.returning;
      this.#workerEnded();
    }
  }

  /** Hands `value` to a waiting consumer or queues it; returns a promise when the worker must wait. */
  #push(value: T): Promise<void> | undefined {
    const pending = this.#pending.shift();
    if (pending !== undefined) {
      pending.resolve({ value, done: false });
      return undefined;
    }
    if (this.#stop?.kind === 'returned') return undefined; // the consumer left: nobody wants it
    if (this.#stop !== undefined) {
      // Stopping after a failure: keep what was conveyed, delivered before the error.
      this.#queue.push({ value, taken: noop });
      return undefined;
    }
    return new Promise<void>((resolve) => this.#queue.push({ value, taken: resolve }));
  }

  #halt(stop: Stop): void {
    if (this.#stop !== undefined) return; // already stopping: later errors are the stopping's echo
    this.#stop = stop;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const reason =
      stop.kind === 'failed'
        ? new AbortError('The worker run is stopping because a worker failed or the run was aborted.', {
            cause: stop.error,
          })
        : new AbortError('The worker run is stopping because its consumer stopped iterating.');
    this.#controller.abort(reason);
    // Release the workers waiting for their value to be taken (the values stay queued).
    for (const queued of this.#queue) queued.taken();
    // Ask every live iterator to stop now: an iterator blocked in next() (events.on, streams) may
    // need return() to wake up; async generators queue it after their running step.
    for (const slot of this.#slots) {
      if (slot.iterator !== undefined && slot.returning === undefined) slot.returning = this.#callReturn(slot.iterator);
    }
  }

  async #callReturn(iterator: AsyncIterator<unknown>): Promise<void> {
    try {
      await iterator.return?.();
    } catch {
      // A worker that throws while being stopped is part of stopping; the first error already won.
    }
  }

  #workerEnded(): void {
    this.#running--;
    if (this.#running === 0) this.#allEnded();
  }

  #allEnded(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#resolveEnded();
    // Waiting consumers: the queue is empty whenever someone waits, so the run ends now.
    const pending = this.#pending.splice(0);
    if (pending.length === 0) return;
    this.#finished = true;
    const stop = this.#stop;
    const [first, ...rest] = pending;
    if (stop?.kind === 'failed') first!.reject(stop.error);
    else first!.resolve({ value: undefined, done: true });
    for (const other of rest) other.resolve({ value: undefined, done: true });
  }
}

function noop(): void {}

/**
 * Runs `count` workers concurrently (a port of active-status' `run-workers`): calls
 * `constructor(id, signal)` for ids 1..count, each returning an async iterable of values or a
 * promise when it conveys none, and returns one async iterable merging all their values. It ends
 * when every worker has ended; a failing worker's error rejects it after the other workers were
 * stopped. See {@link WorkerRun} for the exact guarantees.
 *
 * @throws {@link StatusInvalidArgumentError} when `count` is not an integer >= 0 or `constructor`
 *   is not a function. A constructor that returns something else than an async iterable or a
 *   promise fails its worker with the same error (on the merged iterable).
 *
 * @example
 * ```ts
 * // Ten workers share a queue of URLs; the merged iterable yields every page fetched.
 * for await (const page of runWorkers(10, async function* (id, signal) {
 *   for (let url = urls.shift(); url !== undefined; url = urls.shift()) {
 *     yield await fetch(url, { signal }).then((response) => response.text());
 *   }
 * })) {
 *   save(page);
 * }
 * ```
 */
export function runWorkers<S extends WorkerSource>(
  count: number,
  constructor: WorkerConstructor<S>,
  options: RunWorkersOptions = {},
): WorkerRun<WorkerValue<S>> {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new StatusInvalidArgumentError(`Expected \`count\` to be an integer >= 0, got ${describeValue(count)}.`);
  }
  if (typeof constructor !== 'function') {
    throw new StatusInvalidArgumentError(
      `Expected \`constructor\` to be a function (id, signal) => worker, got ${describeValue(constructor)}.`,
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new StatusInvalidArgumentError(`Expected the options to be an object, got ${describeValue(options)}.`);
  }
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new StatusInvalidArgumentError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}.`);
  }
  return new WorkerRun<WorkerValue<S>>(count, constructor, signal);
}
