import { EventEmitter } from 'node:events';
import { InvalidArgumentError, TaskDequeuedError, WorkerKilledError } from '../errors/errors.js';
import { abortErrorFrom } from '../internal/abort.js';
import { Deque } from '../internal/Deque.js';
import { isPromiseLike } from '../internal/values.js';

/** A task as it waits in a worker's queue: what will be called, with what. */
export interface QueuedTask<A extends readonly unknown[] = readonly unknown[], R = unknown> {
  /** Unique per worker, increasing in enqueue order. */
  readonly id: number;
  readonly fn: (...args: A) => R;
  readonly args: A;
}

/** How a task left the worker. */
export type TaskStatus = 'finished' | 'failed' | 'dequeued' | 'killed';

/** What a queue hook is told each time a task leaves the worker. */
export interface TaskInfo {
  readonly worker: Worker;
  readonly task: QueuedTask;
  readonly status: TaskStatus;
  /** The task's result, when `status` is `'finished'`. */
  readonly result?: unknown;
  /** Why it did not finish, for every other status. */
  readonly error?: unknown;
}

/** A queue hook: called after each task leaves the worker (see {@link Worker.queueHooks}). */
export type QueueHook = (info: TaskInfo) => void;

/** Counters of one worker, for status boards. */
export interface WorkerTaskStats {
  id: number;
  /** Tasks waiting (the running one excluded). */
  queued: number;
  running: boolean;
  finished: number;
  failed: number;
  dequeued: number;
}

/** Options of {@link createWorkers}. */
export interface CreateWorkersOptions {
  /**
   * Kills every created worker when it aborts (with `signal.reason` as the reason).
   * @default undefined
   */
  signal?: AbortSignal;
}

/** The events a {@link Worker} emits. */
export interface WorkerEvents {
  /** A queue hook threw; the worker went on with its next task. */
  error: [error: unknown];
  /** The worker was killed. */
  killed: [reason: unknown];
}

interface TaskRecord {
  id: number;
  fn: (...args: any[]) => unknown;
  args: unknown[];
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
  view?: QueuedTask;
}

let capturedResolve: ((value: any) => void) | undefined;
let capturedReject: ((error: unknown) => void) | undefined;
function captureResolvers(resolve: (value: any) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

function viewOf(record: TaskRecord): QueuedTask {
  return (record.view ??= Object.freeze({ id: record.id, fn: record.fn, args: Object.freeze(record.args) }));
}

/**
 * One worker with its own FIFO task queue. Tasks run one at a time, in the order they were
 * enqueued; an async task holds the worker until it settles. An exception rejects only that
 * task's promise: the worker goes on with the next.
 *
 * Create workers with {@link createWorkers}.
 *
 * @example
 * ```ts
 * const [worker] = createWorkers(1);
 * const sum = await worker.enqueue((a: number, b: number) => a + b, 10, 15); // 25
 * worker.queueHooks.set('log', ({ status }) => console.log('task', status));
 * const add = worker.function((a: number, b: number) => a + b);
 * await add(1, 2); // 3, ran on worker
 * worker.kill();
 * ```
 */
export class Worker extends EventEmitter<WorkerEvents> {
  /** The worker's id: 1-based, in creation order within {@link createWorkers}. */
  readonly id: number;
  /**
   * Hooks called (in insertion order) after each task leaves the worker: finished, failed,
   * dequeued or killed. A throwing hook is reported through the `error` event.
   */
  readonly queueHooks = new Map<string, QueueHook>();

  readonly #pending = new Deque<TaskRecord>();
  /** Made when someone asks for {@link Worker.signal}: a tenant runtime makes one worker per tenant and never does. */
  #controller: AbortController | undefined;
  #abortReason: unknown;
  #nextTaskId = 1;
  #running = false;
  #yielding = 0;
  #killed = false;
  #closing = false;
  #snapshot: readonly QueuedTask[] | undefined;
  #idleWaiters: Array<() => void> = [];
  #yieldWakers = new Set<(error: unknown) => void>();
  #finished = 0;
  #failed = 0;
  #dequeued = 0;

  /** @internal Use {@link createWorkers}. */
  constructor(id: number) {
    super();
    this.id = id;
  }

  /** The pending tasks, oldest first; the running task is not among them. A frozen snapshot. */
  get queue(): readonly QueuedTask[] {
    return (this.#snapshot ??= Object.freeze(this.#pending.toArray().map(viewOf)));
  }

  /** True while a task is running (including while it yields). */
  get busy(): boolean {
    return this.#running;
  }

  /** True while the running task is paused in {@link Worker.yield}. */
  get yielding(): boolean {
    return this.#yielding > 0;
  }

  /** True once {@link Worker.kill} was called. */
  get killed(): boolean {
    return this.#killed;
  }

  /** Aborts when the worker is killed; hand it to long-running tasks. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#killed) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /**
   * Queues `fn(...args)` and resolves with its result (rejects with what it throws). When the
   * worker is idle the task starts at once, synchronously.
   */
  enqueue<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
    if (typeof fn !== 'function') {
      return Promise.reject(
        new InvalidArgumentError(`Expected a function to enqueue, got ${fn === null ? 'null' : typeof fn}.`),
      );
    }
    if (this.#killed || this.#closing) {
      return Promise.reject(
        new WorkerKilledError(
          `Worker ${this.id} was ${this.#killed ? 'killed' : 'closed'}; it accepts no more tasks.`,
          { cause: this.#killed ? this.signal.reason : undefined },
        ),
      );
    }
    // One shared executor instead of a closure per task: with 100,000 tasks queued, every byte a
    // pending task holds is copied by the garbage collector when it leaves the young generation.
    const promise = new Promise<Awaited<R>>(captureResolvers);
    this.#pending.push({
      id: this.#nextTaskId++,
      fn: fn as TaskRecord['fn'],
      args,
      resolve: capturedResolve!,
      reject: capturedReject!,
    });
    capturedResolve = capturedReject = undefined;
    this.#snapshot = undefined;
    if (!this.#running) this.#pump();
    return promise;
  }

  /**
   * Wraps `fn` so that each call enqueues it on this worker.
   *
   * @example
   * ```ts
   * const save = worker.function(async (row: Row) => db.insert(row));
   * await save(row); // runs on `worker`, after the tasks queued before it
   * ```
   */
  function<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function') {
      throw new InvalidArgumentError(`Expected a function to wrap, got ${fn === null ? 'null' : typeof fn}.`);
    }
    const wrapped = (...args: A): Promise<Awaited<R>> => this.enqueue(fn, ...args);
    Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
    return wrapped;
  }

  /**
   * Removes a pending task: the last enqueued one without `index`, otherwise the one at `index`
   * (0 is the oldest). Its promise rejects with `TaskDequeuedError`. Returns the removed task,
   * or `undefined` when there is none there.
   */
  dequeue(index?: number): QueuedTask | undefined {
    if (index !== undefined && (!Number.isInteger(index) || index < 0)) {
      throw new InvalidArgumentError(`Expected \`index\` to be an integer >= 0, got ${String(index)}.`);
    }
    const record = index === undefined ? this.#pending.pop() : this.#pending.removeAt(index);
    if (record === undefined) return undefined;
    this.#snapshot = undefined;
    this.#dequeued++;
    const error = new TaskDequeuedError(`Task ${record.id} was dequeued from worker ${this.id} before it ran.`);
    record.reject(error);
    this.#runHooks(record, 'dequeued', undefined, error);
    return viewOf(record);
  }

  /**
   * Pauses the running task for `ms` milliseconds while the worker stays busy: no other task
   * starts meanwhile, and {@link Worker.yielding} is true. Rejects with `WorkerKilledError` at
   * once when the worker is killed, and with `AbortError` when `signal` aborts.
   */
  yield(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
      return Promise.reject(new InvalidArgumentError(`Expected \`ms\` to be a finite number >= 0, got ${String(ms)}.`));
    }
    const { signal } = options;
    if (this.#killed)
      return Promise.reject(
        new WorkerKilledError(`Worker ${this.id} was killed while yielding.`, { cause: this.signal.reason }),
      );
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The yield'));
    this.#yielding++;
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown): void => {
        clearTimeout(timer);
        this.#yieldWakers.delete(wake);
        signal?.removeEventListener('abort', onAbort);
        this.#yielding--;
        if (error === undefined) resolve();
        else reject(error);
      };
      const wake = (error: unknown): void => settle(error);
      const onAbort = (): void => settle(abortErrorFrom(signal!, 'The yield'));
      const timer = setTimeout(settle, ms);
      this.#yieldWakers.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves once the queue is empty and no task runs. */
  idle(): Promise<void> {
    if (!this.#running && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops the worker: every pending task rejects with `WorkerKilledError`, a yield in progress
   * ends at once, {@link Worker.signal} aborts, and later `enqueue` calls reject. The running
   * task (if any) is not interrupted otherwise. Safe to call from inside a task or a hook, and
   * more than once.
   */
  kill(reason?: unknown): void {
    if (this.#killed) return;
    this.#killed = true;
    const error = new WorkerKilledError(`Worker ${this.id} was killed before the task ran.`, { cause: reason });
    if (this.#controller === undefined) this.#abortReason = reason ?? error;
    else this.#controller.abort(reason ?? error);
    for (const wake of [...this.#yieldWakers])
      wake(new WorkerKilledError(`Worker ${this.id} was killed while yielding.`, { cause: reason }));
    const pending = this.#pending.drain();
    this.#snapshot = undefined;
    for (const record of pending) record.reject(error);
    for (const record of pending) this.#runHooks(record, 'killed', undefined, error);
    this.emit('killed', reason);
    if (!this.#running) this.#notifyIdle();
  }

  /** Stops accepting tasks, waits for the queued ones to finish, then kills the worker. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.idle();
    this.kill();
  }

  /** Calls {@link Worker.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Counters for status boards. */
  stats(): WorkerTaskStats {
    return {
      id: this.id,
      queued: this.#pending.length,
      running: this.#running,
      finished: this.#finished,
      failed: this.#failed,
      dequeued: this.#dequeued,
    };
  }

  #pump(): void {
    this.#running = true;
    let record: TaskRecord | undefined;
    while ((record = this.#pending.shift()) !== undefined) {
      this.#snapshot = undefined;
      let result: unknown;
      try {
        result = record.fn(...record.args);
      } catch (error) {
        this.#settle(record, 'failed', undefined, error);
        continue;
      }
      if (isPromiseLike(result)) {
        const current = record;
        result.then(
          (value) => {
            this.#settle(current, 'finished', value, undefined);
            this.#pump();
          },
          (error: unknown) => {
            this.#settle(current, 'failed', undefined, error);
            this.#pump();
          },
        );
        return;
      }
      this.#settle(record, 'finished', result, undefined);
    }
    this.#running = false;
    this.#notifyIdle();
  }

  #settle(record: TaskRecord, status: 'finished' | 'failed', result: unknown, error: unknown): void {
    if (status === 'finished') {
      this.#finished++;
      record.resolve(result);
    } else {
      this.#failed++;
      record.reject(error);
    }
    if (this.queueHooks.size > 0) this.#runHooks(record, status, result, error);
  }

  #runHooks(record: TaskRecord, status: TaskStatus, result: unknown, error: unknown): void {
    if (this.queueHooks.size === 0) return;
    const info: TaskInfo =
      status === 'finished'
        ? { worker: this, task: viewOf(record), status, result }
        : { worker: this, task: viewOf(record), status, error };
    for (const hook of [...this.queueHooks.values()]) {
      try {
        hook(info);
      } catch (hookError) {
        this.#reportHookError(hookError);
      }
    }
  }

  #reportHookError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else
      process.emitWarning(
        `A queue hook of worker ${this.id} threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        { code: 'SWITCHYARD_HOOK_ERROR' },
      );
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Creates `count` workers with ids 1..count.
 *
 * @example
 * ```ts
 * const [a, b, c] = createWorkers(3);
 * ```
 */
export function createWorkers(count: number, options: CreateWorkersOptions = {}): Worker[] {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new InvalidArgumentError(`Expected \`count\` to be an integer >= 1, got ${String(count)}.`);
  }
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('Expected `signal` to be an AbortSignal.');
  }
  const workers = Array.from({ length: count }, (_, i) => new Worker(i + 1));
  if (signal !== undefined) {
    const killAll = (): void => {
      for (const worker of workers) worker.kill(signal.reason);
    };
    if (signal.aborted) killAll();
    else {
      signal.addEventListener('abort', killAll, { once: true });
      // Let the last worker to die release the listener, so a long-lived signal holds nothing.
      let alive = count;
      for (const worker of workers) {
        worker.once('killed', () => {
          if (--alive === 0) signal.removeEventListener('abort', killAll);
        });
      }
    }
  }
  return workers;
}
