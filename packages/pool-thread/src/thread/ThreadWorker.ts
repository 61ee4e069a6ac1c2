import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MessagePort, Worker as NodeWorker, ResourceLimits } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import type {
  DispatchOptions,
  KvStore,
  TenantId,
  WorkerCrashInfo,
  WorkerLike,
  WorkerLikeEvents,
  WorkerStats,
} from '@switchyard/core';
import {
  AbortError,
  assertCloneable,
  assertTenantId,
  BackpressureError,
  deserializeError,
  InvalidArgumentError,
  InvalidEventError,
  MemoryKvStore,
  ProtocolError,
  serializeError,
  tenantKey,
  whyNotCloneable,
  WorkerCrashedError,
  WorkerKilledError,
  WorkerUnavailableError,
} from '@switchyard/core';
import { Piscina } from 'piscina';
import { ThreadExitError } from '../errors/errors.js';
import type {
  BatchResult,
  BatchTask,
  CloseTask,
  InitResult,
  InitTask,
  KvReply,
  KvRequest,
  ThreadMessage,
  ThreadStatsTuple,
} from '../protocol.js';
import { CANCELLABLE, MAX_BATCH_ITEMS, Op, parseTenantKey, PROTOCOL_VERSION } from '../protocol.js';
import type { RestartOptions, RestartPolicy } from './restart.js';
import { restartDelay, restartPolicy } from './restart.js';

/**
 * The built thread entry piscina loads. From `dist/` it sits next to this module; when this
 * module runs from `src/` (under a test runner) the thread still needs the built JavaScript.
 */
const THREAD_ENTRY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../dist/worker/entry.js' : '../worker/entry.js', import.meta.url),
);

/** Options of {@link ThreadWorker}. */
export interface ThreadWorkerOptions {
  /**
   * The module the thread runs: a path (relative to the working directory) or a `file:` URL of a
   * JavaScript module exporting a `defineWorker(...)` definition (as `default`, `worker`, or its
   * only definition).
   */
  filename: string | URL;
  /**
   * The worker's id (its position in a pool), exposed as `ctx.workerId`.
   * @default 0
   */
  id?: number;
  /**
   * Exposed to the definition's hooks as `ctx.workerData` (and as `workerData` of
   * `node:worker_threads`); cloned into every thread, so a `SharedArrayBuffer` inside is shared.
   * @default undefined
   */
  workerData?: unknown;
  /**
   * Heap and stack limits of the thread; exceeding them is a crash (`ERR_WORKER_OUT_OF_MEMORY`).
   * @default undefined (Node's defaults)
   */
  resourceLimits?: ResourceLimits;
  /**
   * How many events may be accepted and not finished at once (queued, in flight, or held while the
   * thread restarts). Beyond it `dispatch` rejects and `dispatchNoWait` throws `BackpressureError`.
   * @default 100_000
   */
  maxQueue?: number;
  /**
   * Where `ctx.kv` stores tenants' data. The store lives in the main thread; the thread's calls
   * are served over a message channel.
   * @default new MemoryKvStore()
   */
  store?: KvStore;
  /**
   * How a crashed thread is restarted.
   * @default { backoff: (failures) => Math.min(failures, 5) * 3000, maxConsecutiveFailures: 10, stableAfterMs: 30_000 }
   */
  restart?: RestartOptions;
  /**
   * The most items one batch (one piscina task) carries; events beyond it in the same tick start
   * another batch. `1` sends every event as its own task (no batching).
   * @default 1024
   */
  maxBatchSize?: number;
  /**
   * How many batches may be in the thread at once (piscina's `concurrentTasksPerWorker`); while
   * they are all out, new events gather into the next, larger batch.
   * @default 4
   */
  maxBatchesInFlight?: number;
}

/**
 * What a {@link ThreadWorker}'s `crash` event carries: core's `WorkerCrashInfo` (the listener's
 * declared type, since every topology shares the event) and what happens next.
 *
 * @example
 * ```ts
 * pool.on('crash', (info) => console.warn((info as ThreadCrashInfo).restartInMs));
 * ```
 */
export interface ThreadCrashInfo extends WorkerCrashInfo {
  /** Consecutive failures so far, this one included. */
  failures: number;
  /** When the thread is restarted (ms from now), or `undefined` when the worker gives up. */
  restartInMs: number | undefined;
}

/** Piscina's summary of a timing histogram, in milliseconds (mean, min, max, p50, p99, ...). */
export type PiscinaHistogramSummary = Piscina['histogram']['runTime'];

/** Where a {@link ThreadWorker} is in its life. */
export type ThreadWorkerState = 'starting' | 'running' | 'restarting' | 'closing' | 'closed' | 'killed' | 'unavailable';

/** {@link WorkerStats} plus the thread's state and piscina's timing histograms. */
export interface ThreadWorkerStats extends WorkerStats {
  state: ThreadWorkerState;
  /** How many times the thread was restarted after a crash. */
  restarts: number;
  /** The current thread's `threadId`, when one runs. */
  threadId: number | undefined;
  /** Batches (piscina tasks) completed, init and close tasks included. */
  batches: number;
  /** How long batches ran in the thread (ms), from piscina. One batch carries many events. */
  runTime: PiscinaHistogramSummary;
  /** How long batches waited for the thread (ms), from piscina. */
  waitTime: PiscinaHistogramSummary;
}

interface Waiter {
  readonly resolve: (value: any) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Items that arrived in the same tick, in parallel arrays (they become one {@link BatchTask}). */
interface Batch {
  readonly id: number;
  readonly ops: number[];
  readonly keys: string[];
  readonly tenants: TenantId[];
  readonly payloads: unknown[];
  readonly waiters: Array<Waiter | undefined>;
  cancels: number[];
  /** Items not settled on this side yet. */
  remaining: number;
  sent: boolean;
}

/** One thread's life, from its `init` task to its exit. */
interface Session {
  readonly id: number;
  readonly port: MessagePort;
  thread: NodeWorker | undefined;
  state: 'starting' | 'ready' | 'dead';
  /** Batches in the thread with items not settled yet. */
  readonly sent: Map<number, Batch>;
  inFlight: number;
  /** The thread's uncaught error, when it reported one. */
  cause: unknown;
  readyAt: number;
  stats: ThreadStatsTuple;
  /** Settles when the init task has answered or the session died. */
  readonly started: Promise<void>;
  markStarted: () => void;
  /** Settles when the thread has exited. */
  exited: Promise<void>;
}

type Lifecycle = 'open' | 'closing' | 'closed' | 'killed' | 'unavailable';

function settled(op: number): boolean {
  return op === Op.Done || op === Op.Skip;
}

function toModuleUrl(filename: unknown): string {
  let url: URL;
  if (filename instanceof URL) url = filename;
  else if (typeof filename === 'string' && filename.startsWith('file:')) url = new URL(filename);
  else if (typeof filename === 'string' && filename.length > 0) url = pathToFileURL(resolvePath(filename));
  else
    throw new InvalidArgumentError(
      `Expected \`filename\` to be a path or a file: URL of the worker module, got ${filename === '' ? '""' : typeof filename}.`,
    );
  if (url.protocol !== 'file:')
    throw new InvalidArgumentError(`Expected \`filename\` to be a file: URL, got ${url.protocol} (${url.href}).`);
  if (!existsSync(fileURLToPath(url)))
    throw new InvalidArgumentError(`Expected \`filename\` to name an existing file, got ${fileURLToPath(url)}.`);
  return url.href;
}

function positiveInteger(name: string, value: unknown, allowInfinity = false): number {
  if ((allowInfinity && value === Infinity) || (Number.isSafeInteger(value) && (value as number) >= 1))
    return value as number;
  throw new InvalidArgumentError(
    `Expected \`${name}\` to be an integer >= 1${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}.`,
  );
}

/**
 * A {@link WorkerLike} whose tenants live in one dedicated worker thread, run by a piscina pool
 * pinned to that thread. The thread loads the module at `filename`, runs its `defineWorker`
 * definition with core's `TenantRuntime` (per-tenant order, tenants concurrent, `startup` before
 * the first event), and gets the events that arrive in the same tick as one batch.
 *
 * A thread that crashes (uncaught exception, `process.exit()`, out of memory) fails the events
 * in flight on it with `WorkerCrashedError`, emits `crash`, and is restarted with backoff; after
 * too many consecutive failures the worker emits `fatal` and rejects with `WorkerUnavailableError`.
 *
 * @example
 * ```ts
 * const worker = await ThreadWorker.create<Event, number>({ filename: new URL('./counter.js', import.meta.url) });
 * await worker.dispatch({ kind: 'guild', id: '81384788765712384' }, { type: 'ping' });
 * await worker.close();
 * ```
 */
export class ThreadWorker<E = unknown, R = unknown> extends EventEmitter<WorkerLikeEvents> implements WorkerLike<E, R> {
  readonly id: number;
  readonly size = 1;
  readonly #url: string;
  readonly #store: KvStore;
  readonly #maxQueue: number;
  readonly #maxBatchSize: number;
  readonly #maxInFlight: number;
  readonly #restart: RestartPolicy;
  readonly #piscina: Piscina;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #everReady = false;
  #startError: unknown;
  #lifecycle: Lifecycle = 'open';
  #session: Session | undefined;
  #sessionIds = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #restarts = 0;
  #batchIds = 0;
  #open: Batch | undefined;
  readonly #outgoing: Batch[] = [];
  #cancels: number[] = [];
  #flushScheduled = false;
  #queued = 0;
  #drainWaiters: Array<() => void> = [];
  #baseHandled = 0;
  #baseFailed = 0;
  #closing: Promise<void> | undefined;
  #killing: Promise<void> | undefined;

  /** Starts the thread at once; events wait for it. Prefer {@link ThreadWorker.create}, which waits until it started. */
  constructor(options: ThreadWorkerOptions) {
    super();
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError(`Expected an options object, got ${options === null ? 'null' : typeof options}.`);
    const {
      filename,
      id = 0,
      workerData,
      resourceLimits,
      maxQueue = 100_000,
      store = new MemoryKvStore(),
      restart,
      maxBatchSize = 1024,
      maxBatchesInFlight = 4,
    } = options;
    if (!Number.isSafeInteger(id) || id < 0)
      throw new InvalidArgumentError(`Expected \`id\` to be an integer >= 0, got ${String(id)}.`);
    this.id = id;
    this.#url = toModuleUrl(filename);
    this.#maxQueue = positiveInteger('maxQueue', maxQueue, true);
    this.#maxBatchSize = positiveInteger('maxBatchSize', maxBatchSize);
    if (this.#maxBatchSize > MAX_BATCH_ITEMS)
      throw new InvalidArgumentError(
        `Expected \`maxBatchSize\` to be at most ${MAX_BATCH_ITEMS}, got ${maxBatchSize}.`,
      );
    this.#maxInFlight = positiveInteger('maxBatchesInFlight', maxBatchesInFlight);
    this.#restart = restartPolicy(restart);
    if (
      store === null ||
      typeof store !== 'object' ||
      (['get', 'set', 'delete', 'list'] as const).some((method) => typeof store[method] !== 'function')
    ) {
      throw new InvalidArgumentError(
        'Expected `store` to be a KvStore (an object with get, set, delete and list methods).',
      );
    }
    this.#store = store;
    if (resourceLimits !== undefined && (resourceLimits === null || typeof resourceLimits !== 'object')) {
      throw new InvalidArgumentError(
        `Expected \`resourceLimits\` to be an object, got ${resourceLimits === null ? 'null' : typeof resourceLimits}.`,
      );
    }
    const why = whyNotCloneable(workerData);
    if (why !== undefined)
      throw new InvalidArgumentError(`Expected \`workerData\` to be structured-cloneable: ${why}.`);
    this.#piscina = new Piscina({
      filename: THREAD_ENTRY,
      name: 'handleTask',
      // One thread, started and restarted by this class (so restarts can back off), never idled away.
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: this.#maxInFlight,
      // The thread's event loop must keep running between tasks: handlers outlive their batch,
      // kv answers arrive on the side channel, timers fire.
      atomics: 'disabled',
      workerData,
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
      recordTiming: true,
    });
    // Piscina reports a thread's uncaught error here when no task is running; the thread's own
    // 'error' and 'exit' events (below) drive the restart, so this only keeps the cause.
    this.#piscina.on('error', (error: unknown) => {
      if (this.#session !== undefined && this.#session.cause === undefined) this.#session.cause = error;
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => undefined);
    this.#startSession();
  }

  /**
   * Starts a worker and resolves once its thread loaded the module and ran `startup`. Rejects with
   * `ThreadStartError` (`ERR_THREAD_START`) when the module cannot be loaded or exports no
   * definition, and with `WorkerUnavailableError` when the thread keeps crashing at start.
   */
  static async create<E = unknown, R = unknown>(options: ThreadWorkerOptions): Promise<ThreadWorker<E, R>> {
    const worker = new ThreadWorker<E, R>(options);
    await worker.ready;
    return worker;
  }

  /** Settles when the first thread started (see {@link ThreadWorker.create}). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Where the worker is in its life. */
  get state(): ThreadWorkerState {
    switch (this.#lifecycle) {
      case 'open':
        if (this.#session === undefined || this.#session.state === 'dead') return 'restarting';
        return this.#session.state === 'ready' ? 'running' : this.#everReady ? 'restarting' : 'starting';
      default:
        return this.#lifecycle;
    }
  }

  /**
   * Handles `event` for `tenant` in the thread and resolves with what the handler returned
   * (rejects with what it threw, rebuilt). Validated at the call: the tenant, the event
   * (structured-cloneable), the worker's state and `maxQueue`.
   */
  dispatch(tenant: TenantId, event: E, options: DispatchOptions = {}): Promise<R> {
    const { signal } = options;
    try {
      assertTenantId(tenant);
      this.#assertAccepting();
      if (signal?.aborted) throw new AbortError('The dispatch was aborted.', { cause: signal.reason });
      assertCloneable(event);
      this.#assertRoom();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<R>((resolve, reject) => {
      this.#enqueue(signal === undefined ? Op.Event : Op.Event | CANCELLABLE, tenant, event, {
        resolve,
        reject,
        signal,
        onAbort: undefined,
      });
    });
  }

  /**
   * Hands `event` over without a promise; it travels with the other events of this tick in one
   * message. Throws at once when it cannot be accepted; a failure later is emitted as `dispatchError`.
   */
  dispatchNoWait(tenant: TenantId, event: E): void {
    assertTenantId(tenant);
    this.#assertAccepting();
    assertCloneable(event);
    this.#assertRoom();
    this.#enqueue(Op.EventNoWait, tenant, event, undefined);
  }

  /** Runs `code` with the definition's script engine in `tenant`'s state, in the thread. */
  runScript(tenant: TenantId, name: string, code: string, event: E, options: DispatchOptions = {}): Promise<R> {
    const { signal } = options;
    try {
      assertTenantId(tenant);
      if (typeof name !== 'string')
        throw new InvalidArgumentError(`Expected \`name\` to be a string, got ${typeof name}.`);
      if (typeof code !== 'string')
        throw new InvalidArgumentError(`Expected \`code\` to be a string, got ${typeof code}.`);
      this.#assertAccepting();
      if (signal?.aborted) throw new AbortError('The script was aborted.', { cause: signal.reason });
      assertCloneable(event);
      this.#assertRoom();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<R>((resolve, reject) => {
      this.#enqueue(signal === undefined ? Op.Script : Op.Script | CANCELLABLE, tenant, [name, code, event], {
        resolve,
        reject,
        signal,
        onAbort: undefined,
      });
    });
  }

  /**
   * Forgets `tenant`'s state in the thread after its queued events. An aborted signal rejects the
   * call; a drop already handed to the thread still happens.
   */
  dropTenant(tenant: TenantId, options: DispatchOptions = {}): Promise<void> {
    const { signal } = options;
    try {
      assertTenantId(tenant);
      this.#assertAccepting();
      if (signal?.aborted) throw new AbortError('The drop was aborted.', { cause: signal.reason });
      this.#assertRoom();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.#enqueue(Op.Drop, tenant, undefined, { resolve, reject, signal, onAbort: undefined });
    });
  }

  /** Counters for status boards, with piscina's timing histograms (see {@link ThreadWorkerStats}). */
  stats(): ThreadWorkerStats {
    const session = this.#session;
    const live = session !== undefined && session.state !== 'dead';
    const histogram = this.#piscina.histogram;
    return {
      id: this.id,
      tenants: live ? session.stats[0] : 0,
      queued: this.#queued,
      handled: this.#baseHandled + (live ? session.stats[1] : 0),
      failed: this.#baseFailed + (live ? session.stats[2] : 0),
      state: this.state,
      restarts: this.#restarts,
      threadId: live ? session.thread?.threadId : undefined,
      batches: this.#piscina.completed,
      runTime: histogram.runTime,
      waitTime: histogram.waitTime,
    };
  }

  /**
   * Stops at once: terminates the thread, then rejects every accepted event with
   * `WorkerKilledError` (so a rejected event can no longer run). Resolves when that is done.
   */
  kill(reason?: unknown): Promise<void> {
    if (this.#killing !== undefined) return this.#killing;
    if (this.#lifecycle === 'closed') return Promise.resolve();
    this.#lifecycle = 'killed';
    const error = new WorkerKilledError(`Worker ${this.id} was killed.`, { cause: reason });
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const session = this.#session;
    const live = session !== undefined && session.state !== 'dead';
    // From now on whatever the thread still answers is ignored.
    if (live) session.state = 'dead';
    this.#killing = this.#threadGone(session).then(() => {
      // Events are rejected once the thread is gone, so a rejected event can no longer run.
      if (live) this.#bury(session, error);
      this.#failQueued(error);
      this.#rejectReady(this.#startError ?? error);
    });
    return this.#killing;
  }

  /**
   * Stops gracefully: refuses new events (`WorkerKilledError`), finishes every accepted one (a
   * restart included, when the thread crashed meanwhile), lets the thread release its tenants
   * (`dropTenant` hooks), then ends the thread.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#lifecycle === 'killed') return this.#killing ?? Promise.resolve();
    if (this.#lifecycle === 'open') this.#lifecycle = 'closing';
    this.#closing = this.#close();
    return this.#closing;
  }

  /** Calls {@link ThreadWorker.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#flush();
    if (this.#queued > 0) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    const session = this.#session;
    if (session !== undefined && session.state === 'starting') await session.started;
    if (this.#wasKilled()) return;
    if (session !== undefined && session === this.#session && session.state === 'ready') {
      try {
        const final = (await this.#piscina.run({ type: 'close' } satisfies CloseTask)) as ThreadStatsTuple;
        this.#takeStats(session, final);
      } catch {
        // A thread that dies while closing has nothing left to finish.
      }
    }
    if (this.#wasKilled()) return;
    this.#lifecycle = 'closed';
    this.#endSession(new WorkerKilledError(`Worker ${this.id} was closed.`));
    await this.#threadGone(session);
    this.#rejectReady(new WorkerKilledError(`Worker ${this.id} was closed before it started.`));
  }

  /** Read through a method: the compiler cannot see that kill() may run while close() awaits. */
  #wasKilled(): boolean {
    return this.#lifecycle === 'killed';
  }

  #assertAccepting(): void {
    switch (this.#lifecycle) {
      case 'open':
        return;
      case 'unavailable':
        throw new WorkerUnavailableError(
          `Worker ${this.id} failed ${this.#failures} times in a row and was not restarted; it accepts no more events.`,
        );
      case 'killed':
        throw new WorkerKilledError(`Worker ${this.id} was killed; it accepts no more events.`);
      default:
        throw new WorkerKilledError(`Worker ${this.id} was closed; it accepts no more events.`);
    }
  }

  #assertRoom(): void {
    if (this.#queued >= this.#maxQueue) {
      throw new BackpressureError(
        `Worker ${this.id} already holds ${this.#queued} unfinished events (maxQueue ${this.#maxQueue}); slow down or raise \`maxQueue\`.`,
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Batching
  // ---------------------------------------------------------------------------------------------

  #enqueue(op: number, tenant: TenantId, payload: unknown, waiter: Waiter | undefined): void {
    let batch = this.#open;
    if (batch === undefined || batch.ops.length >= this.#maxBatchSize) {
      if (batch !== undefined) {
        // A full batch leaves at once, so the thread works while this tick adds more.
        this.#seal();
        this.#pump();
      }
      batch = this.#open = {
        id: ++this.#batchIds,
        ops: [],
        keys: [],
        tenants: [],
        payloads: [],
        waiters: [],
        cancels: [],
        remaining: 0,
        sent: false,
      };
    }
    const index = batch.ops.length;
    batch.ops.push(op);
    batch.keys.push(tenantKey(tenant));
    batch.tenants.push(tenant);
    batch.payloads.push(payload);
    batch.waiters.push(waiter);
    batch.remaining++;
    if (this.#queued++ === 0) this.#setBusy(true);
    if (waiter?.signal !== undefined) {
      const owner = batch;
      waiter.onAbort = () => this.#abort(owner, index);
      waiter.signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // After every microtask of this tick: callers resumed by one batch's results dispatch
    // again before the next batch leaves, so they share it.
    process.nextTick(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#open !== undefined) this.#seal();
    this.#pump();
  }

  #seal(): void {
    const batch = this.#open!;
    this.#open = undefined;
    if (batch.remaining > 0) this.#outgoing.push(batch);
  }

  /** Sends waiting batches while the thread is up and has room. */
  #pump(): void {
    const session = this.#session;
    if (session === undefined || session.state !== 'ready') return;
    while (session.inFlight < this.#maxInFlight) {
      let batch = this.#outgoing.shift();
      if (batch !== undefined && batch.remaining === 0) continue;
      if (batch === undefined) {
        if (this.#cancels.length === 0) return;
        batch = {
          id: ++this.#batchIds,
          ops: [],
          keys: [],
          tenants: [],
          payloads: [],
          waiters: [],
          cancels: [],
          remaining: 0,
          sent: false,
        };
      }
      this.#send(session, batch);
    }
  }

  #send(session: Session, batch: Batch): void {
    batch.sent = true;
    batch.cancels = this.#cancels;
    this.#cancels = [];
    if (batch.remaining > 0) session.sent.set(batch.id, batch);
    session.inFlight++;
    const task: BatchTask = {
      type: 'batch',
      id: batch.id,
      ops: batch.ops,
      tenants: batch.keys,
      payloads: batch.payloads,
      cancels: batch.cancels,
    };
    // The pool has room (inFlight < concurrentTasksPerWorker), so piscina posts the task now:
    // the arrays are cloned here and later changes to them stay on this side.
    this.#piscina.run(task).then(
      (result: BatchResult) => this.#onBatchResult(session, batch, result),
      (error: unknown) => {
        if ((error as { name?: unknown } | null)?.name === 'DataCloneError')
          this.#onBatchNotCloneable(session, batch, error);
        else this.#onTaskFailed(session, error);
      },
    );
  }

  /**
   * Piscina could not clone the batch (an event that changed after `assertCloneable` checked it,
   * like a getter that returns a function the second time): nothing reached the thread, which
   * keeps running. The batch's items fail with `InvalidEventError`; which one was bad is unknown.
   */
  #onBatchNotCloneable(session: Session, batch: Batch, cause: unknown): void {
    session.inFlight--;
    if (session.state === 'dead') return;
    session.sent.delete(batch.id);
    const error = new InvalidEventError(
      `An event of this batch could not be sent to worker ${this.id}'s thread: ${(cause as Error).message}. Send plain data (structured-cloneable values).`,
      { cause },
    );
    for (let i = 0; i < batch.ops.length; i++) if (!settled(batch.ops[i]!)) this.#fail(batch, i, error);
    this.#pump();
  }

  #onBatchResult(session: Session, batch: Batch, result: BatchResult): void {
    session.inFlight--;
    if (session.state === 'dead') return;
    this.#takeStats(session, result.stats);
    const { values, failed, errors, pending } = result;
    const { ops } = batch;
    let f = 0;
    let p = 0;
    for (let i = 0; i < ops.length; i++) {
      if (pending !== null && pending[p] === i) {
        p++;
        continue;
      }
      if (failed[f] === i) {
        if (!settled(ops[i]!)) this.#fail(batch, i, deserializeError(errors[f]!));
        f++;
      } else if (!settled(ops[i]!)) {
        this.#fulfil(batch, i, values[i]);
      }
    }
    if (batch.remaining === 0) session.sent.delete(batch.id);
    this.#pump();
  }

  #onPortMessage(session: Session, message: ThreadMessage): void {
    if (session.state === 'dead') return;
    if (message.type === 'kv') {
      this.#serveKv(session, message);
      return;
    }
    if (message.type !== 'settled') return;
    this.#takeStats(session, message.stats);
    const { items } = message;
    for (let k = 0; k < items.length; k += 4) {
      const batch = session.sent.get(items[k] as number);
      const index = items[k + 1] as number;
      if (batch === undefined || settled(batch.ops[index]!)) continue;
      if (items[k + 2] === 1) this.#fulfil(batch, index, items[k + 3]);
      else this.#fail(batch, index, deserializeError(items[k + 3] as never));
      if (batch.remaining === 0) session.sent.delete(batch.id);
    }
  }

  /** Keeps the newest of the thread's snapshots (answers and side messages may cross). */
  #takeStats(session: Session, stats: ThreadStatsTuple): void {
    if (stats[3] > session.stats[3]) session.stats = stats;
  }

  #fulfil(batch: Batch, index: number, value: unknown): void {
    batch.ops[index] = Op.Done;
    const waiter = batch.waiters[index];
    if (waiter !== undefined) {
      batch.waiters[index] = undefined;
      if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
    }
    this.#settled(batch);
    waiter?.resolve(value);
  }

  #fail(batch: Batch, index: number, error: unknown): void {
    batch.ops[index] = Op.Done;
    const waiter = batch.waiters[index];
    this.#settled(batch);
    if (waiter !== undefined) {
      batch.waiters[index] = undefined;
      if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
      waiter.reject(error);
    } else {
      this.emit('dispatchError', { workerId: this.id, tenant: batch.tenants[index]!, error: error as Error });
    }
  }

  #settled(batch: Batch): void {
    batch.remaining--;
    if (--this.#queued === 0) {
      this.#setBusy(false);
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** A caller's signal aborted: a batch that has not left drops the item, one in the thread gets a cancel. */
  #abort(batch: Batch, index: number): void {
    const op = batch.ops[index]!;
    if (settled(op)) return;
    const waiter = batch.waiters[index]!;
    batch.waiters[index] = undefined;
    if (!batch.sent) {
      batch.ops[index] = Op.Skip;
      batch.payloads[index] = undefined;
    } else {
      batch.ops[index] = Op.Done;
      if ((op & CANCELLABLE) !== 0) {
        this.#cancels.push(batch.id * MAX_BATCH_ITEMS + index);
        this.#scheduleFlush();
      }
    }
    this.#settled(batch);
    waiter.reject(new AbortError('The dispatch was aborted.', { cause: waiter.signal!.reason }));
  }

  /** Keeps the process alive while events are unfinished, and only then (like piscina). */
  #setBusy(busy: boolean): void {
    const port = this.#session?.port;
    if (busy) {
      port?.ref();
      this.#restartTimer?.ref();
    } else {
      port?.unref();
      this.#restartTimer?.unref();
    }
  }

  #failQueued(error: unknown): void {
    const batches = [...this.#outgoing];
    this.#outgoing.length = 0;
    if (this.#open !== undefined) batches.push(this.#open);
    this.#open = undefined;
    for (const batch of batches) {
      for (let i = 0; i < batch.ops.length; i++) if (!settled(batch.ops[i]!)) this.#fail(batch, i, error);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Threads: start, crash, restart
  // ---------------------------------------------------------------------------------------------

  #startSession(): void {
    this.#restartTimer = undefined;
    const { port1, port2 } = new MessageChannel();
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const session: Session = {
      id: ++this.#sessionIds,
      port: port1,
      thread: undefined,
      state: 'starting',
      sent: new Map(),
      inFlight: 0,
      cause: undefined,
      readyAt: 0,
      stats: [0, 0, 0, 0],
      started,
      markStarted,
      exited: Promise.resolve(),
    };
    this.#session = session;
    port1.on('message', (message: ThreadMessage) => this.#onPortMessage(session, message));
    if (this.#queued === 0) port1.unref();
    const task: InitTask = { type: 'init', version: PROTOCOL_VERSION, url: this.#url, workerId: this.id, port: port2 };
    const init = this.#piscina.run(task, { transferList: [port2] }) as Promise<InitResult>;
    // maxThreads is 1 and the previous thread was removed, so this is the thread just spawned.
    const thread = this.#piscina.threads.at(-1);
    session.thread = thread;
    let markExited!: () => void;
    if (thread !== undefined) session.exited = new Promise<void>((resolve) => (markExited = resolve));
    thread?.on('error', (error: unknown) => {
      if (session.cause === undefined) session.cause = error;
    });
    thread?.once('exit', (code: number) => {
      markExited();
      if (session.state === 'dead') return;
      this.#lost(
        session,
        session.cause ??
          new ThreadExitError(`Worker ${this.id}'s thread exited with code ${code} while it was expected to run.`, {
            exitCode: code,
          }),
      );
    });
    init.then(
      (result) => this.#onInit(session, result),
      (error: unknown) => this.#onTaskFailed(session, error),
    );
  }

  #onInit(session: Session, result: InitResult): void {
    session.markStarted();
    if (session.state === 'dead') return;
    if (!result.ok) {
      const error = deserializeError(result.error);
      if (!this.#everReady) {
        // The module cannot be loaded at all: a configuration error, not a crash to retry.
        // `ready` rejects with it once the thread is gone.
        this.#startError = error;
        void this.kill(error);
        return;
      }
      this.#lost(session, error);
      return;
    }
    session.state = 'ready';
    session.readyAt = performance.now();
    this.#takeStats(session, result.stats);
    this.#everReady = true;
    this.#resolveReady();
    this.#pump();
  }

  #onTaskFailed(session: Session, error: unknown): void {
    session.inFlight = Math.max(0, session.inFlight - 1);
    session.markStarted();
    if (session.state === 'dead') return;
    // Piscina rejects a task when its thread dies; the thread's 'error' event (if any) came first.
    this.#lost(session, session.cause ?? error);
  }

  /** Ends `session` without a crash (kill, close): its unfinished events fail with `error`. */
  #endSession(error: unknown): void {
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const session = this.#session;
    if (session === undefined || session.state === 'dead') return;
    this.#bury(session, error);
  }

  #bury(session: Session, error: unknown): void {
    session.state = 'dead';
    session.markStarted();
    session.port.close();
    this.#baseHandled += session.stats[1];
    this.#baseFailed += session.stats[2];
    this.#cancels = [];
    for (const batch of session.sent.values()) {
      for (let i = 0; i < batch.ops.length; i++) if (!settled(batch.ops[i]!)) this.#fail(batch, i, error);
    }
    session.sent.clear();
  }

  /** The thread died or misbehaved: fail what was in it, report, and restart or give up. */
  #lost(session: Session, cause: unknown): void {
    const uptime = session.state === 'ready' ? performance.now() - session.readyAt : 0;
    this.#bury(
      session,
      new WorkerCrashedError(
        `Worker ${this.id}'s thread crashed while the event was in flight; it may or may not have run. Retry if the handler is idempotent.`,
        { cause },
      ),
    );
    const gone = this.#threadGone(session);
    if (this.#lifecycle !== 'open' && !(this.#lifecycle === 'closing' && this.#queued > 0)) {
      const info: ThreadCrashInfo = { workerId: this.id, cause, failures: this.#failures, restartInMs: undefined };
      this.emit('crash', info);
      return;
    }
    if (uptime >= this.#restart.stableAfterMs) this.#failures = 0;
    this.#failures++;
    let delay: number | undefined;
    let giveUpCause = cause;
    if (this.#failures < this.#restart.maxConsecutiveFailures) {
      try {
        delay = restartDelay(this.#restart, this.#failures);
      } catch (error) {
        giveUpCause = error;
      }
    }
    const info: ThreadCrashInfo = { workerId: this.id, cause, failures: this.#failures, restartInMs: delay };
    this.emit('crash', info);
    if (delay === undefined) {
      this.#giveUp(giveUpCause, gone);
      return;
    }
    this.#restarts++;
    const timer = setTimeout(() => {
      void gone.then(() => {
        if (this.#restartTimer === timer) this.#startSession();
      });
    }, delay);
    if (this.#queued === 0) timer.unref();
    this.#restartTimer = timer;
  }

  /** Refuses new events at once; fails the held ones and emits `fatal` once the thread is gone. */
  #giveUp(cause: unknown, gone: Promise<void>): void {
    this.#lifecycle = 'unavailable';
    const error = new WorkerUnavailableError(
      `Worker ${this.id} failed ${this.#failures} times in a row and will not be restarted.`,
      { cause },
    );
    void gone.then(() => {
      if (this.#wasKilled()) return;
      this.#failQueued(error);
      this.#rejectReady(error);
      this.emit('fatal', { workerId: this.id, cause });
    });
  }

  /** Makes sure the thread of `session` has exited and piscina holds no thread. */
  #threadGone(session: Session | undefined): Promise<void> {
    const destroyed = this.#piscina.threads.length > 0 ? this.#piscina.destroy() : undefined;
    return Promise.all([destroyed, session?.exited]).then(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------
  // ctx.kv, served from the main thread's store
  // ---------------------------------------------------------------------------------------------

  #serveKv(session: Session, request: KvRequest): void {
    let answer: Promise<unknown>;
    try {
      const tenant = parseTenantKey(request.tenant);
      assertTenantId(tenant);
      switch (request.op) {
        case 'get':
          answer = this.#store.get(tenant, request.key);
          break;
        case 'set':
          answer = this.#store.set(tenant, request.key, request.arg);
          break;
        case 'delete':
          answer = this.#store.delete(tenant, request.key);
          break;
        case 'list':
          answer = this.#store.list(tenant, typeof request.arg === 'string' ? request.arg : '');
          break;
        default:
          throw new ProtocolError(`Unknown kv operation ${JSON.stringify(request.op)}.`);
      }
    } catch (error) {
      answer = Promise.reject(error);
    }
    const reply = (message: KvReply): void => {
      if (session.state === 'dead') return;
      try {
        session.port.postMessage(message);
      } catch (error) {
        session.port.postMessage({
          type: 'kv',
          id: request.id,
          ok: false,
          error: serializeError(error),
        } satisfies KvReply);
      }
    };
    answer.then(
      (value) => reply({ type: 'kv', id: request.id, ok: true, value }),
      (error: unknown) => reply({ type: 'kv', id: request.id, ok: false, error: serializeError(error) }),
    );
  }
}
