import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  BroadcastTimeoutError,
  HandlerTimeoutError,
  InvalidArgumentError,
  WorkerKilledError,
} from '../errors/errors.js';
import { AbortError } from '../errors/SwitchyardError.js';
import { abortErrorFrom, raceSignal } from '../internal/abort.js';
import { checkInteger, checkObject, DEFAULT_BROADCAST_TIMEOUT_MS } from '../internal/options.js';
import type { KvStore } from '../kv/KvStore.js';
import { MemoryKvStore, tenantKv } from '../kv/MemoryKvStore.js';
import type { WorkerDefinition } from './defineWorker.js';
import { isWorkerDefinition } from './defineWorker.js';
import type { QuarantineOptions, RecycleOptions, RecyclePolicy, TenantLimits } from './TenantGuards.js';
import { recyclePolicy, TenantGuards } from './TenantGuards.js';
import type { TenantId } from './TenantId.js';
import { checkedTenantKey } from './TenantId.js';
import type { HandlerWatch } from './TenantRuntime.js';
import { TenantRuntime } from './TenantRuntime.js';
import { checkTraceparent } from '../tracing/channels.js';
import type { Trace } from '../tracing/PendingTraces.js';
import { PendingTraces, traceClose, traceOpen } from '../tracing/PendingTraces.js';
import type {
  BroadcastOptions,
  BroadcastResult,
  DispatchOptions,
  RecycleReason,
  TenantHandoff,
  WorkerLike,
  WorkerLikeEvents,
  WorkerStats,
} from './WorkerLike.js';

/** Options of {@link LocalWorker}. */
export interface LocalWorkerOptions {
  /**
   * The worker's id (its position in a pool).
   * @default 0
   */
  id?: number;
  /**
   * Where `ctx.kv` stores tenants' data.
   * @default new MemoryKvStore()
   */
  store?: KvStore;
  /**
   * Exposed to the definition's hooks as `ctx.workerData`.
   * @default undefined
   */
  workerData?: unknown;
  /**
   * The deadline of every waited call that does not pass its own `timeoutMs`: past it the call
   * rejects with `HandlerTimeoutError` (a handler already running here cannot be stopped).
   * @default Infinity (no deadline)
   */
  timeoutMs?: number;
  /**
   * Quarantines a poison tenant (see `RemoteWorkerOptions.quarantine`). A `LocalWorker` has no
   * crash or hang to attribute and cannot stop a handler: a waited call that passes its deadline
   * (`HandlerTimeoutError`) is its strike.
   * @default undefined (no quarantine)
   */
  quarantine?: QuarantineOptions;
  /**
   * Per-tenant budgets (see `RemoteWorkerOptions.tenantLimits`).
   * @default undefined (no per-tenant limit)
   */
  tenantLimits?: TenantLimits;
  /**
   * Recycles the worker once a limit is passed. A `LocalWorker` has no thread or process to
   * restart: recycling it finishes every accepted event, releases every tenant (`dropTenant`
   * hooks) and starts a fresh runtime (`startup` again, new tenant state), the honest analogue of a
   * restart. Events that arrive meanwhile wait and are delivered afterwards, in order.
   * `maxHeapBytes` is refused: the heap is its caller's too.
   * @default undefined (never recycled)
   */
  recycle?: Omit<RecycleOptions, 'maxHeapBytes'>;
  /**
   * How long a recycle waits for the accepted events to finish and the tenants to be released.
   * Past it the old runtime is killed (what it still ran rejects with `WorkerKilledError`) and the
   * fresh one takes the calls that waited, so one stuck handler cannot hold every tenant back.
   * @default 30_000
   */
  closeTimeoutMs?: number;
}

/** The dispatches in flight of every `LocalWorker` of this thread whose trace only `end` and `error` subscribers wait for. */
const pending = new PendingTraces();

/**
 * The trace of the call being accepted right now, during the synchronous part of `dispatch`,
 * `dispatchNoWait` or `runScript`: a handler that starts inside it never waited.
 */
let accepting: Trace | undefined;

/**
 * Times the handlers of traced calls (the probe is the call's {@link Trace}): its queue wait and
 * handling time. A handler started synchronously by the call that accepted it (its tenant was idle)
 * started when the call was accepted: one clock read fewer per dispatch.
 */
const TIMING: HandlerWatch = {
  started(probe) {
    const trace = probe as Trace;
    if (typeof trace === 'number')
      pending.started(trace, trace === accepting ? pending.acceptedAt(trace) : performance.now());
    else trace.startedAt = trace === accepting ? trace.acceptedAt : performance.now();
  },
  returned: () => undefined,
  ended(probe) {
    const trace = probe as Trace;
    if (typeof trace === 'number') pending.ended(trace, performance.now());
    else trace.handlingMs = performance.now() - trace.startedAt!;
  },
};

/** Publishes the end of a traced call (once its slot, if it had one, is no longer the one being accepted). */
function endTrace(trace: Trace, ok: boolean, value: unknown): void {
  // A slot freed here may be taken by the next call before the accepting one returns.
  if (trace === accepting) accepting = undefined;
  traceClose(pending, trace, ok, value);
}

/** The `traceparent` a trace carries to the handler. */
function traceparentOf(trace: Trace | undefined): string | undefined {
  return typeof trace === 'object' ? trace.traceparent : undefined;
}

/** The tenant's key (checked once per tenant object, see `checkedTenantKey`), or why it is no tenant id. */
function keyOrError(tenant: TenantId): string | Error {
  try {
    return checkedTenantKey(tenant);
  } catch (error) {
    return error as Error;
  }
}

/**
 * A {@link WorkerLike} that runs a `defineWorker` definition in this thread: for tests, small
 * deployments, and as the reference the thread and process topologies are checked against.
 * Events are passed by reference (nothing is cloned).
 *
 * @example
 * ```ts
 * const worker = new LocalWorker(counter, { id: 0 });
 * await worker.dispatch({ kind: 'guild', id: '81384788765712384' }, { type: 'ping' });
 * await worker.close();
 * ```
 */
export class LocalWorker<S = unknown, E = unknown, R = unknown>
  extends EventEmitter<WorkerLikeEvents>
  implements WorkerLike<E, Awaited<R>>
{
  readonly id: number;
  readonly size = 1;
  readonly #definition: WorkerDefinition<S, E, R>;
  readonly #store: KvStore;
  readonly #workerData: unknown;
  readonly #timeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #guards: TenantGuards | undefined;
  readonly #recycle: RecyclePolicy | undefined;
  #runtime: TenantRuntime<S, E, R>;
  #bornAt = performance.now();
  #ageTimer: NodeJS.Timeout | undefined;
  /** Set while the worker recycles: calls wait for it, in order. */
  #gate: Promise<void> | undefined;
  #recycles = 0;
  readonly #base = { handled: 0, failed: 0 };
  #state: 'open' | 'closing' | 'closed' | 'killed' = 'open';
  #killed!: () => void;
  readonly #whenKilled = new Promise<void>((resolve) => (this.#killed = resolve));

  constructor(definition: WorkerDefinition<S, E, R>, options: LocalWorkerOptions = {}) {
    super();
    if (!isWorkerDefinition(definition)) {
      throw new InvalidArgumentError('Expected a worker definition made by defineWorker(), got something else.');
    }
    checkObject('options', options);
    const { id = 0, store = new MemoryKvStore(), workerData, timeoutMs = Infinity, closeTimeoutMs = 30_000 } = options;
    this.#timeoutMs = checkInteger('timeoutMs', timeoutMs, 1, true);
    this.#closeTimeoutMs = checkInteger('closeTimeoutMs', closeTimeoutMs, 1, true);
    if (!Number.isSafeInteger(id) || id < 0)
      throw new InvalidArgumentError(`Expected \`id\` to be an integer >= 0, got ${String(id)}.`);
    this.id = id;
    this.#guards = TenantGuards.create(id, options);
    this.#recycle = recyclePolicy(options.recycle, false);
    this.#definition = definition;
    this.#store = store;
    this.#workerData = workerData;
    this.#runtime = this.#newRuntime();
  }

  #newRuntime(): TenantRuntime<S, E, R> {
    const runtime = new TenantRuntime(this.#definition, {
      workerId: this.id,
      workerData: this.#workerData,
      kv: (tenant) => tenantKv(this.#store, tenant),
      watch: TIMING,
    });
    // Startup runs before the first event; a failure is reported to the events that wait for it.
    runtime.start().catch(() => undefined);
    this.#bornAt = performance.now();
    if (this.#recycle !== undefined && this.#recycle.maxAgeMs !== Infinity) {
      this.#ageTimer = setTimeout(() => this.#recycleNow('maxAgeMs'), this.#recycle.maxAgeMs);
      this.#ageTimer.unref();
    }
    return runtime;
  }

  dispatch(tenant: TenantId, event: E, options: DispatchOptions = {}): Promise<Awaited<R>> {
    return this.#call(tenant, 'event', event, options, (runtime, signal, trace) =>
      runtime.dispatch(tenant, event, signal, traceparentOf(trace), trace),
    );
  }

  dispatchNoWait(tenant: TenantId, event: E): void {
    const checked = checkedTenantKey(tenant);
    if (this.#gate !== undefined && this.#state !== 'open') throw this.#refusal();
    const key = this.#admit(tenant, checked);
    const trace = traceOpen(pending, this, tenant, 'event', event, true, undefined);
    const onError = (error: unknown): void => {
      this.#done(key);
      if (trace !== undefined) endTrace(trace, false, error);
      this.emit('dispatchError', { workerId: this.id, tenant, error: error as Error, event });
    };
    if (key instanceof Error) {
      // A tenant over its own budget is that tenant's problem, reported per event; the caller's loop goes on.
      queueMicrotask(() => onError(key));
      return;
    }
    const onDone = (): void => {
      this.#done(key);
      if (trace !== undefined) endTrace(trace, true, undefined);
    };
    if (this.#gate === undefined) {
      const outer = accepting;
      accepting = trace;
      try {
        this.#runtime.dispatchNoWait(tenant, event, onError, onDone, traceparentOf(trace), trace);
      } catch (error) {
        this.#done(key);
        throw error;
      } finally {
        accepting = outer;
      }
      return;
    }
    void this.#gate.then(() => {
      try {
        this.#runtime.dispatchNoWait(tenant, event, onError, onDone, traceparentOf(trace), trace);
      } catch (error) {
        onError(error);
      }
    });
  }

  runScript(
    tenant: TenantId,
    name: string,
    code: string,
    event: E,
    options: DispatchOptions = {},
  ): Promise<Awaited<R>> {
    return this.#call(tenant, 'script', event, options, (runtime, signal, trace) =>
      runtime.runScript(tenant, name, code, event, signal, traceparentOf(trace), trace),
    );
  }

  /**
   * The admission every waited call shares (tenant, `traceparent`, the tenant's guards), then its
   * trace and deadline around `run`, on the current runtime (or the next one, during a recycle).
   */
  #call(
    tenant: TenantId,
    op: 'event' | 'script',
    event: E,
    options: DispatchOptions,
    run: (
      runtime: TenantRuntime<S, E, R>,
      signal: AbortSignal | undefined,
      trace: Trace | undefined,
    ) => Promise<Awaited<R>>,
  ): Promise<Awaited<R>> {
    const checked = keyOrError(tenant);
    if (checked instanceof Error) return Promise.reject(checked);
    let traceparent: string | undefined;
    try {
      traceparent = checkTraceparent(options.traceparent);
    } catch (error) {
      return Promise.reject(error);
    }
    const key = this.#admit(tenant, checked);
    if (key instanceof Error) return Promise.reject(key);
    const trace = traceOpen(pending, this, tenant, op, event, false, traceparent);
    const outer = accepting;
    accepting = trace;
    try {
      return this.#withDeadline(
        tenant,
        key,
        options,
        (signal) => this.#current(signal, (runtime) => run(runtime, signal, trace)),
        true,
        trace,
      );
    } finally {
      accepting = outer;
    }
  }

  /** The tenant's key when its guards let the call in (it then counts until {@link #done}), else why not. */
  #admit(tenant: TenantId, key: string): string | Error {
    return this.#guards?.admit(key, tenant) ?? key;
  }

  #done(key: string | Error): void {
    if (typeof key === 'string') this.#guards?.done(key);
    if (this.#recycle !== undefined && this.#gate === undefined && this.#state === 'open') {
      if (this.#runtime.stats().handled >= this.#recycle.maxEvents) this.#recycleNow('maxEvents');
    }
  }

  /** Runs `run` on the current runtime, or on the next one once a recycle under way is over. */
  #current<T>(signal: AbortSignal | undefined, run: (runtime: TenantRuntime<S, E, R>) => Promise<T>): Promise<T> {
    if (this.#gate === undefined) return run(this.#runtime);
    // Closed or killed while it recycles: nothing new is taken for the runtime to come.
    if (this.#state !== 'open') return Promise.reject(this.#refusal());
    // Held in order; the caller's signal (and deadline) still settles the call at once.
    return raceSignal(
      this.#gate.then(() => run(this.#runtime)),
      signal,
    );
  }

  /**
   * Runs `run` with the caller's signal, aborted too at the call's deadline (then it rejects with
   * `HandlerTimeoutError`, a strike against the tenant when `quarantine` is set). `counted`: the call
   * was admitted by the tenant's guards (a handoff or adoption is not, and is never a strike).
   */
  #withDeadline<T>(
    tenant: TenantId,
    key: string,
    options: DispatchOptions,
    run: (signal: AbortSignal | undefined) => Promise<T>,
    counted = true,
    trace?: Trace,
  ): Promise<T> {
    const { signal } = options;
    let timeoutMs: number;
    try {
      timeoutMs =
        options.timeoutMs === undefined ? this.#timeoutMs : checkInteger('timeoutMs', options.timeoutMs, 1, true);
    } catch (error) {
      if (counted) this.#done(key);
      if (trace !== undefined) endTrace(trace, false, error);
      return Promise.reject(error);
    }
    // The trace ends in the same callbacks as the call (no promise of its own per dispatch).
    if (timeoutMs === Infinity) {
      return run(signal).then(
        (value) => {
          if (counted) this.#done(key);
          if (trace !== undefined) endTrace(trace, true, value);
          return value;
        },
        (error: unknown) => {
          if (counted) this.#done(key);
          if (trace !== undefined) endTrace(trace, false, error);
          throw error;
        },
      );
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (counted) this.#done(key);
    };
    return run(controller.signal).then(
      (value) => {
        done();
        if (trace !== undefined) endTrace(trace, true, value);
        return value;
      },
      (error: unknown) => {
        done();
        if (!timedOut) {
          if (trace !== undefined) endTrace(trace, false, error);
          throw error;
        }
        const timeout = new HandlerTimeoutError(`The handler for tenant ${key} did not finish within ${timeoutMs} ms.`);
        const quarantined = counted ? this.#guards?.strike(key, tenant, timeout) : undefined;
        // Before the caller hears of its timeout.
        if (quarantined !== undefined) queueMicrotask(() => this.emit('quarantine', quarantined));
        if (trace !== undefined) endTrace(trace, false, timeout);
        throw timeout;
      },
    );
  }

  dropTenant(tenant: TenantId, options: DispatchOptions = {}): Promise<void> {
    const invalid = keyOrError(tenant);
    if (invalid instanceof Error) return Promise.reject(invalid);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The drop'));
    return raceSignal(
      this.#current(signal, (runtime) => runtime.dropTenant(tenant)),
      signal,
      'The drop',
    );
  }

  /**
   * Runs the definition's `onBroadcast(message, ctx)` and resolves with one entry: `fulfilled`
   * with what it returned, `rejected` with what it threw, `BroadcastUnsupportedError` without the
   * hook, or `BroadcastTimeoutError` past `timeoutMs`.
   */
  broadcast<T = unknown>(message: unknown, options: BroadcastOptions = {}): Promise<BroadcastResult<T>[]> {
    let timeoutMs: number;
    try {
      checkObject('options', options);
      timeoutMs = checkInteger('timeoutMs', options.timeoutMs ?? DEFAULT_BROADCAST_TIMEOUT_MS, 1, true);
      if (this.#state !== 'open') throw this.#refusal();
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The broadcast'));
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== Infinity) {
      timer = setTimeout(
        () =>
          controller.abort(
            new BroadcastTimeoutError(`Worker ${this.id} did not answer the broadcast within ${timeoutMs} ms.`),
          ),
        timeoutMs,
      );
      timer.unref();
    }
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    return this.#current(controller.signal, (runtime) => runtime.broadcast(message, controller.signal)).then(
      (value) => {
        settle();
        return [{ workerId: this.id, status: 'fulfilled', value: value as T }];
      },
      (reason: unknown) => {
        settle();
        if (signal?.aborted === true) throw abortErrorFrom(signal, 'The broadcast');
        const why = reason instanceof AbortError && controller.signal.aborted ? controller.signal.reason : reason;
        return [{ workerId: this.id, status: 'rejected', reason: why }];
      },
    );
  }

  /** Lifts `tenant`'s quarantine (see the `quarantine` option); `true` when it was quarantined. */
  release(tenant: TenantId): boolean {
    return this.#guards?.release(checkedTenantKey(tenant)) ?? false;
  }

  /** Counters for status boards; `handled` and `failed` keep counting across recycles. */
  stats(): WorkerStats & { recycles: number } {
    const stats = this.#runtime.stats();
    return {
      ...stats,
      handled: this.#base.handled + stats.handled,
      failed: this.#base.failed + stats.failed,
      recycles: this.#recycles,
    };
  }

  /** A limit of `recycle` was passed: hold new calls, finish and release everything, start a fresh runtime. */
  #recycleNow(reason: RecycleReason): void {
    if (this.#gate !== undefined || this.#state !== 'open') return;
    clearTimeout(this.#ageTimer);
    const old = this.#runtime;
    const bornAt = this.#bornAt;
    this.#gate = (async () => {
      // A kill in the middle stops waiting for the close; the held calls then meet the killed runtime.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        if (this.#closeTimeoutMs !== Infinity) timer = setTimeout(() => resolve(true), this.#closeTimeoutMs);
      });
      const overdue = await Promise.race([old.close().then(() => false), this.#whenKilled.then(() => false), late]);
      clearTimeout(timer);
      // Killed: the old runtime stays the current one (and keeps its own counters).
      if (this.#state === 'killed') return;
      if (overdue)
        old.kill(
          new WorkerKilledError(
            `Worker ${this.id} did not finish its events and release its tenants within ${this.#closeTimeoutMs} ms (closeTimeoutMs) while it was recycled.`,
          ),
        );
      const { handled, failed } = old.stats();
      this.#base.handled += handled;
      this.#base.failed += failed;
      this.#runtime = this.#newRuntime();
      this.#recycles++;
      this.emit('recycled', {
        workerId: this.id,
        reason,
        handled,
        ageMs: Math.round(performance.now() - bornAt),
        heapUsed: undefined,
      });
    })().finally(() => {
      this.#gate = undefined;
    });
  }

  #refusal(): WorkerKilledError {
    return new WorkerKilledError(
      `Worker ${this.id} was ${this.#state === 'killed' ? 'killed' : 'closed'}; it accepts no more events.`,
    );
  }

  // Live resharding (WorkerPool.resize)

  heldTenants(): TenantId[] {
    return this.#runtime.heldTenants();
  }

  handOffTenant(tenant: TenantId, options: DispatchOptions = {}): Promise<TenantHandoff | undefined> {
    const key = keyOrError(tenant);
    if (key instanceof Error) return Promise.reject(key);
    return this.#withDeadline(
      tenant,
      key,
      { timeoutMs: Infinity, ...options },
      (signal) =>
        raceSignal(
          this.#current(signal, (runtime) => runtime.handOffTenant(tenant)),
          signal,
          'The handoff',
        ),
      false,
    );
  }

  adoptTenant(tenant: TenantId, handoff: TenantHandoff, options: DispatchOptions = {}): Promise<void> {
    const key = keyOrError(tenant);
    if (key instanceof Error) return Promise.reject(key);
    return this.#withDeadline(
      tenant,
      key,
      { timeoutMs: Infinity, ...options },
      (signal) =>
        raceSignal(
          this.#current(signal, (runtime) => runtime.adoptTenant(tenant, handoff)),
          signal,
          'The adoption',
        ),
      false,
    );
  }

  async kill(reason?: unknown): Promise<void> {
    this.#state = 'killed';
    clearTimeout(this.#ageTimer);
    this.#killed();
    this.#runtime.kill(reason);
  }

  async close(): Promise<void> {
    if (this.#state === 'open') this.#state = 'closing';
    clearTimeout(this.#ageTimer);
    if (this.#gate !== undefined) await this.#gate;
    await this.#runtime.close();
    if (this.#state === 'closing') this.#state = 'closed';
  }

  /** Calls {@link LocalWorker.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
