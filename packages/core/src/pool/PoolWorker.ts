import type { Job } from './Job.js';
import { isPromiseLike } from './internal.js';
import { dequeue, enqueue, Schedulable, takeStepInSlice } from './scheduler.js';

/** What a worker tells its pool. Implemented by `Pool` with closures over its private state. @internal */
export interface WorkerHost {
  /** One call of the job ended; `failed` when it threw or rejected (with `error`). */
  ran(worker: PoolWorker, failed: boolean, error: unknown): void;
  /** The worker stopped for good: it was stopped and no call of its job is running. */
  exited(worker: PoolWorker): void;
}

/**
 * One pool worker: calls its job, waits for it to settle, and calls it again (through the
 * scheduler) until stopped. Never runs two calls of its job at once. @internal
 */
export class PoolWorker extends Schedulable {
  readonly id: number;
  readonly #controller = new AbortController();
  /** Cached: `AbortController#signal` is a validating getter, too slow to call on every step. */
  readonly #signal = this.#controller.signal;
  readonly #job: Job;
  readonly #host: WorkerHost;
  #busy = false;
  #stepping = false;
  #exited = false;

  // Bound once, so that an async job costs no closure allocation per call.
  readonly #onFulfilled = (): void => this.#settled(false, undefined, true);
  readonly #onRejected = (error: unknown): void => this.#settled(true, error, true);

  constructor(id: number, job: Job, host: WorkerHost) {
    super();
    this.id = id;
    this.#job = job;
    this.#host = host;
  }

  /** The signal handed to every call of the job. */
  get signal(): AbortSignal {
    return this.#signal;
  }

  /** Schedules the first call. */
  start(): void {
    enqueue(this);
  }

  /**
   * Aborts the worker's signal with `reason`. A worker between calls exits at once; a busy one
   * exits when its running call settles.
   */
  stop(reason: unknown): void {
    if (!this.#signal.aborted) this.#controller.abort(reason);
    if (!this.#busy) this.#exit();
  }

  override step(): void {
    if (this.#signal.aborted) {
      this.#exit();
      return;
    }
    this.#busy = true;
    this.#stepping = true;
    try {
      const result = this.#job(this.#signal);
      if (isPromiseLike(result)) {
        result.then(this.#onFulfilled, this.#onRejected);
        return;
      }
    } catch (error) {
      this.#settled(true, error, false);
      return;
    } finally {
      this.#stepping = false;
    }
    this.#settled(false, undefined, false);
  }

  #settled(failed: boolean, error: unknown, async: boolean): void {
    // A misbehaving thenable may call back twice (or call back and throw): settle each call once.
    if (!this.#busy) return;
    this.#busy = false;
    this.#host.ran(this, failed, error);
    if (this.#exited) return;
    if (this.#signal.aborted) this.#exit();
    // After a promise settled (in a microtask), go on at once while the slice lasts; a synchronous
    // call (or a thenable calling back synchronously) always goes back to the queue, so that the
    // scheduler can bound the turn and round-robin, and nothing recurses.
    else if (async && !this.#stepping && takeStepInSlice()) this.step();
    else enqueue(this);
  }

  #exit(): void {
    if (this.#exited) return;
    this.#exited = true;
    dequeue(this);
    this.#host.exited(this);
  }
}
