import { WorkerKilledError } from '../errors/errors.js';
import { Deque } from '../internal/Deque.js';
import { isPromiseLike } from '../internal/values.js';

/** Told how a job ended: `ok` with its value, or not with its error. */
export type JobSettle = (ok: boolean, value: unknown) => void;

/**
 * A settle callback that throws (a listener of the caller's) must not stop the queue: what it
 * threw becomes an unhandled rejection, as it did when settling went through a promise.
 */
function settleJob(settle: JobSettle, ok: boolean, value: unknown): void {
  try {
    settle(ok, value);
  } catch (error) {
    void Promise.reject(error);
  }
}

interface Job {
  readonly run: () => unknown;
  readonly settle: JobSettle;
}

/**
 * One tenant's queue in a {@link TenantRuntime}: its jobs run one at a time, in the order they were
 * pushed. A job that returns synchronously is settled at once and the next one starts in the same
 * turn, so a tenant with a backlog of synchronous handlers drains it in one loop, with no promise
 * per job; a job that returns a promise holds the queue until it settles. Settling is a callback,
 * not a promise: the runtime's promise-free paths pay for none.
 *
 * Small and lazy, as a runtime holds one per tenant and most are idle.
 * @internal
 */
export class TenantQueue {
  #jobs: Deque<Job> | undefined;
  #running = false;
  #killed = false;
  #reason: unknown;
  #idleWaiters: Array<() => void> | undefined;

  /** True while a job runs (a promise-returning one until it settles). */
  get busy(): boolean {
    return this.#running;
  }

  /** Jobs waiting (the running one excluded). */
  get queued(): number {
    return this.#jobs?.length ?? 0;
  }

  /**
   * Queues `run`; `settle` is called once with its result or what it threw or rejected with. On a
   * killed queue it is settled at once with `WorkerKilledError`. When the queue is idle `run` starts
   * at once, synchronously.
   */
  push(run: () => unknown, settle: JobSettle): void {
    if (this.#killed) {
      settleJob(settle, false, this.#killedError());
      return;
    }
    (this.#jobs ??= new Deque<Job>(2)).push({ run, settle });
    if (!this.#running) this.#pump();
  }

  /** {@link TenantQueue.push} with a promise, for the rare jobs that want one (drops, handoffs). */
  enqueue<T>(run: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.push(run, (ok, value) => {
        if (ok) resolve(value as T);
        else reject(value);
      });
    });
  }

  /** Resolves once no job waits or runs. */
  idle(): Promise<void> {
    if (!this.#running && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  /** Settles every waiting job with `WorkerKilledError` (cause `reason`); later pushes are refused the same way. */
  kill(reason?: unknown): void {
    if (this.#killed) return;
    this.#killed = true;
    this.#reason = reason;
    const jobs = this.#jobs?.drain() ?? [];
    if (jobs.length > 0) {
      const error = this.#killedError();
      for (const job of jobs) settleJob(job.settle, false, error);
    }
    if (!this.#running) this.#notifyIdle();
  }

  #killedError(): WorkerKilledError {
    return new WorkerKilledError('The tenant queue was killed before the event ran.', { cause: this.#reason });
  }

  #pump(): void {
    this.#running = true;
    const jobs = this.#jobs!;
    let job: Job | undefined;
    while ((job = jobs.shift()) !== undefined) {
      let result: unknown;
      try {
        result = job.run();
      } catch (error) {
        settleJob(job.settle, false, error);
        continue;
      }
      if (isPromiseLike(result)) {
        const { settle } = job;
        result.then(
          (value) => {
            settleJob(settle, true, value);
            this.#pump();
          },
          (error: unknown) => {
            settleJob(settle, false, error);
            this.#pump();
          },
        );
        return;
      }
      settleJob(job.settle, true, result);
    }
    this.#running = false;
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    if (waiters === undefined) return;
    this.#idleWaiters = undefined;
    for (const resolve of waiters) resolve();
  }
}
