import { EventEmitter } from 'node:events';
import {
  HandlerStillRunningError,
  BackpressureError,
  BroadcastTimeoutError,
  HandlerTimeoutError,
  InvalidArgumentError,
  ProtocolError,
  WorkerCrashedError,
  WorkerHungError,
  WorkerKilledError,
  WorkerUnavailableError,
} from '../errors/errors.js';
import { AbortError } from '../errors/SwitchyardError.js';
import { abortErrorFrom } from '../internal/abort.js';
import { assertCloneable } from '../internal/cloneable.js';
import { Deque } from '../internal/Deque.js';
import { checkInteger, checkObject, checkStore, DEFAULT_BROADCAST_TIMEOUT_MS } from '../internal/options.js';
import type { KvStore } from '../kv/KvStore.js';
import { MemoryKvStore } from '../kv/MemoryKvStore.js';
import type { QuarantineOptions, RecycleOptions, RecyclePolicy, TenantLimits } from '../tenants/TenantGuards.js';
import { recyclePolicy, recycleReason, TenantGuards } from '../tenants/TenantGuards.js';
import type { TenantId } from '../tenants/TenantId.js';
import { checkedTenantKey, parseTenantKey, shardFor, tenantKey } from '../tenants/TenantId.js';
import type {
  BroadcastOptions,
  BroadcastResult,
  DispatchOptions,
  QuarantineInfo,
  RecycleInfo,
  RecycleReason,
  TenantHandoff,
  WorkerCrashInfo,
  WorkerLike,
  WorkerLikeEvents,
  WorkerStats,
} from '../tenants/WorkerLike.js';
import { checkTraceparent, tracing } from '../tracing/channels.js';
import type { Trace } from '../tracing/PendingTraces.js';
import { PendingTraces, traceClose, traceOpen } from '../tracing/PendingTraces.js';
import type { RestartOptions, RestartPolicy } from './restart.js';
import { restartDelay, restartPolicy } from './restart.js';
import type { Incarnation, IncarnationStats, KvCall, LinkHost, LinkItem, LinkOp, WorkerLink } from './WorkerLink.js';

/**
 * The options every topology built on {@link RemoteWorker} shares (`ThreadWorkerOptions` and
 * `ProcessWorkerOptions` extend them): one word for one bound everywhere.
 */
export interface RemoteWorkerOptions {
  /**
   * The worker's id (its position in a pool), exposed as `ctx.workerId`.
   * @default 0
   */
  id?: number;
  /**
   * How many workers the pool has. When set, a `ctx.kv` call for a tenant this worker does not
   * serve (`shardFor(tenant.id, workers) !== id`) is refused with `ProtocolError`.
   * @default undefined (no ownership check)
   */
  workers?: number | undefined;
  /**
   * Where `ctx.kv` stores tenants' data. It lives on this side; the worker's calls are served here.
   * @default new MemoryKvStore()
   */
  store?: KvStore;
  /**
   * How many events may be accepted and not finished at once (waiting here, in flight, or held
   * while the worker restarts). Beyond it `dispatch` rejects and `dispatchNoWait` throws
   * `BackpressureError`.
   * @default 100_000
   */
  maxQueue?: number;
  /**
   * How many events may be in the worker and not finished at once; the others wait here and
   * travel together once there is room. It bounds the worker's backlog, and what a crash fails at
   * once (events still waiting here go to the next incarnation). Four transfers' worth by default,
   * so the worker has the next one while the results of the last travel back.
   * @default 4096
   */
  maxInFlight?: number;
  /**
   * The most events one transfer carries. `1` sends every event on its own (no batching).
   * @default 1024
   */
  maxBatchSize?: number;
  /**
   * How a crashed worker is restarted.
   * @default { backoff: (failures) => Math.min(failures, 5) * 3000, maxConsecutiveFailures: 10, stableAfterMs: 30_000 }
   */
  restart?: RestartOptions;
  /**
   * A worker that does not answer a liveness probe within this many ms is treated as hung (a
   * handler in `while (true) {}`, a stopped process): it is terminated, its in-flight events fail
   * with `WorkerCrashedError` (cause `WorkerHungError`), and it restarts. `Infinity` disables probes.
   * @default 10_000
   */
  livenessTimeoutMs?: number;
  /**
   * The deadline of every waited call that does not pass its own `timeoutMs`.
   * @default Infinity (no deadline)
   */
  timeoutMs?: number;
  /**
   * A handler still running this long after its call timed out gets its worker restarted (its
   * other in-flight events fail with `WorkerCrashedError`, cause `HandlerTimeoutError`).
   * @default 30_000
   */
  timeoutKillAfterMs?: number;
  /**
   * How long `close()` waits for accepted events and the worker's own shutdown before it kills it.
   * @default 30_000
   */
  closeTimeoutMs?: number;
  /**
   * Quarantines a poison tenant: the crashes, hangs and hard timeouts of its events are counted
   * against it, and after `strikes` within `windowMs` its events are refused with
   * `TenantQuarantinedError` for `durationMs` (`release(tenant)` lifts it); the worker emits
   * `quarantine`. Other tenants are unaffected.
   * @default undefined (no quarantine)
   */
  quarantine?: QuarantineOptions;
  /**
   * Per-tenant budgets: a tenant over them is refused with `TenantBackpressureError` (a
   * `dispatchNoWait` event with a `dispatchError`), other tenants are unaffected.
   * @default undefined (no per-tenant limit)
   */
  tenantLimits?: TenantLimits;
  /**
   * Restarts the worker gracefully once a limit is passed: it stops sending to the incarnation,
   * which finishes what it holds and releases its tenants (`dropTenant` hooks), then starts a new
   * one; events that arrived meanwhile are delivered to it in order. Emits `recycled`.
   * @default undefined (never recycled)
   */
  recycle?: RecycleOptions;
}

/** Where a {@link RemoteWorker} is in its life; the same names on every topology. */
export type RemoteWorkerState =
  'starting' | 'running' | 'recycling' | 'restarting' | 'closing' | 'closed' | 'killed' | 'unavailable';

/** {@link WorkerStats} plus where the worker is in its life. */
export interface RemoteWorkerStats extends WorkerStats {
  state: RemoteWorkerState;
  /** How many times the worker was restarted after a crash. */
  restarts: number;
  /** How many times it was recycled (see the `recycle` option). */
  recycles: number;
  /** Consecutive failures so far. */
  failures: number;
  /** Events in the worker and not finished. */
  inFlight: number;
}

type Lifecycle = 'open' | 'closing' | 'closed' | 'killed' | 'unavailable';

const enum Stage {
  Waiting,
  Sent,
  /** Its caller gave up; the worker was asked to cancel it, and the caller is told once the worker answers. */
  Cancelling,
  /** Its caller was told; it stays in flight (it holds a place in the worker) until the worker reports its end. */
  Abandoned,
  Settled,
}

/** The traced calls in flight that only `end`/`error` subscribers (metrics) wait for, of every remote worker. */
const pendingTraces = new PendingTraces();

/**
 * How many remote workers of this thread hold calls (queued or in flight): while another one does,
 * its results may be about to arrive in this same turn of the event loop (see `#scheduleFlush`).
 */
let activeWorkers = 0;
/** The remote worker of this thread (its serial) whose results were settled last: the callers they resumed dispatch next. */
let resultsFrom = 0;
let serials = 0;

/** One accepted call: what the link sends, and who waits for it. */
class Call implements LinkItem {
  stage = Stage.Waiting;
  onAbort: (() => void) | undefined = undefined;
  /** The deadline, then (once abandoned past it) the hard limit. */
  timer: NodeJS.Timeout | undefined = undefined;
  /** What the caller is rejected with once the worker answered a cancel ({@link Stage.Cancelling}). */
  pending: Error | undefined = undefined;
  /** Counted in its tenant's budget until it settles. */
  guarded = false;
  /** The `switchyard:dispatch:*` message (or its slot in {@link pendingTraces}), when the dispatch is traced. */
  trace: Trace | undefined = undefined;
  traceparent: string | undefined = undefined;
  constructor(
    readonly id: number,
    readonly op: LinkOp,
    readonly tenant: TenantId | undefined,
    readonly key: string,
    readonly payload: unknown,
    readonly resolve: ((value: any) => void) | undefined,
    readonly reject: ((error: unknown) => void) | undefined,
    readonly signal: AbortSignal | undefined,
    readonly cancellable: boolean,
  ) {}

  get waited(): boolean {
    return this.resolve !== undefined;
  }

  get timed(): boolean {
    return this.trace !== undefined;
  }
}

/** One incarnation as the runtime sees it. */
interface Life {
  readonly host: LinkHost;
  handle: Incarnation | undefined;
  ready: boolean;
  dead: boolean;
  readyAt: number;
  /** When the probe still unanswered was sent (`undefined`: none is). */
  probeSentAt: number | undefined;
  stats: IncarnationStats;
  probe: NodeJS.Timeout | undefined;
  /** Set once it is being recycled: nothing more is sent to it. */
  recycling: RecycleReason | undefined;
  /** The recycle has begun closing it (it runs once). */
  retiring: boolean;
  ageTimer: NodeJS.Timeout | undefined;
}

/** The `type` field of a call's event, when it is an object with a string `type`. */
function eventType(call: Call | undefined): string | undefined {
  if (call === undefined || (call.op !== 'event' && call.op !== 'script')) return undefined;
  const event = call.op === 'script' ? (call.payload as unknown[])[2] : call.payload;
  const type = (event as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}

/** The call a crash or hang is blamed on: the one whose handler was running, when the link could tell, else the oldest in flight. */
interface Suspect {
  readonly call: Call | undefined;
  /** The worker said this call's handler was running (not a guess from the in-flight order). */
  readonly running: boolean;
}

function describeCall({ call, running }: Suspect): string {
  if (call === undefined) return '';
  const type = eventType(call);
  const which = running ? 'the event running' : 'the oldest event in flight';
  if (call.op === 'broadcast') return ` (${running ? 'the call running' : 'the oldest call in flight'}: a broadcast)`;
  return ` (${which}: ${call.op}${type === undefined ? '' : ` '${type}'`} of tenant ${call.key})`;
}

/**
 * The master side of every remote topology: a {@link WorkerLike} over a small {@link WorkerLink}.
 * It owns everything that mentions neither a thread, a process nor a socket: admission (tenant,
 * state, cloneable event, room), the buffer and the in-flight table, batching, abort before and
 * after sending, deadlines, crash handling (fail in-flight, restart with backoff or give up),
 * stats across incarnations, `ctx.kv` serving with the shard-ownership check, liveness probes,
 * and `close()`/`kill()`. `ThreadWorker` and `ProcessWorker` are this class with their links.
 *
 * @example
 * ```ts
 * class MyWorker extends RemoteWorker {
 *   constructor(options: MyOptions) { super(new MyLink(options), options); }
 * }
 * ```
 */
export class RemoteWorker<E = unknown, R = unknown> extends EventEmitter<WorkerLikeEvents> implements WorkerLike<E, R> {
  readonly id: number;
  readonly size = 1;
  readonly #link: WorkerLink;
  /** The pool sizes whose shard `id` this worker serves (`ctx.kv` check); two during a resize. */
  #shardSizes: readonly number[] | undefined;
  /** Tenants sent to the current incarnation (it may hold their state): what a resize moves. */
  readonly #held = new Map<string, TenantId>();
  /** Handoffs waiting until nothing of their tenant is here or in the worker, by tenant key. */
  readonly #quietWaiters = new Map<string, Array<{ resolve: () => void; reject: (error: Error) => void }>>();
  readonly #store: KvStore;
  readonly #maxQueue: number;
  readonly #maxInFlight: number;
  readonly #maxBatchSize: number;
  readonly #restart: RestartPolicy;
  readonly #livenessTimeoutMs: number;
  readonly #timeoutMs: number;
  readonly #killAfterMs: number;
  readonly #closeTimeoutMs: number;
  readonly #guards: TenantGuards | undefined;
  readonly #recycle: RecyclePolicy | undefined;
  #recycles = 0;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #lifecycle: Lifecycle = 'open';
  #life: Life | undefined;
  #everReady = false;
  #startError: unknown;
  #restartTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #restarts = 0;
  #ids = 0;
  readonly #waiting = new Deque<Call>();
  /** Calls sent to the worker and not reported back, abandoned ones included (they hold a place there). */
  readonly #inflight = new Map<number, Call>();
  #queued = 0;
  #flushScheduled = false;
  /** Tells this worker apart in {@link resultsFrom}. */
  readonly #serial = ++serials;
  /** A flush is queued for after this turn's microtasks (once, however many results settled). */
  #flushSoon = false;
  readonly #base = { handled: 0, failed: 0 };
  #drainWaiters: Array<() => void> = [];
  #closing: Promise<void> | undefined;
  #killing: Promise<void> | undefined;
  /** The recycle under way, from the moment the old incarnation is asked to close. */
  #retirement: Promise<void> | undefined;

  /**
   * @param link - Starts the incarnations.
   * @param options - The shared options.
   * @param deferStart - Wait for {@link RemoteWorker.start} instead of starting on the next tick.
   */
  constructor(link: WorkerLink, options: RemoteWorkerOptions = {}, deferStart = false) {
    super();
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError(`Expected an options object, got ${options === null ? 'null' : typeof options}.`);
    const {
      id = 0,
      workers,
      store = new MemoryKvStore(),
      maxQueue = 100_000,
      maxInFlight = 4096,
      maxBatchSize = 1024,
      restart,
      livenessTimeoutMs = 10_000,
      timeoutMs = Infinity,
      timeoutKillAfterMs = 30_000,
      closeTimeoutMs = 30_000,
      quarantine,
      tenantLimits,
      recycle,
    } = options;
    this.id = checkInteger('id', id, 0);
    const size = workers === undefined ? undefined : checkInteger('workers', workers, 1);
    if (size !== undefined && this.id >= size)
      throw new InvalidArgumentError(`Expected \`id\` to be below \`workers\` (${size}), got ${this.id}.`);
    this.#shardSizes = size === undefined ? undefined : [size];
    this.#store = checkStore(store);
    this.#maxQueue = checkInteger('maxQueue', maxQueue, 1, true);
    this.#maxInFlight = checkInteger('maxInFlight', maxInFlight, 1);
    this.#maxBatchSize = checkInteger('maxBatchSize', maxBatchSize, 1);
    this.#restart = restartPolicy(restart);
    this.#livenessTimeoutMs = checkInteger('livenessTimeoutMs', livenessTimeoutMs, 10, true);
    this.#timeoutMs = checkInteger('timeoutMs', timeoutMs, 1, true);
    this.#killAfterMs = checkInteger('timeoutKillAfterMs', timeoutKillAfterMs, 0, true);
    this.#closeTimeoutMs = checkInteger('closeTimeoutMs', closeTimeoutMs, 1, true);
    this.#guards = TenantGuards.create(this.id, { quarantine, tenantLimits });
    this.#recycle = recyclePolicy(recycle);
    this.#link = link;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => undefined);
    // Started on the next tick, so a subclass finishes its constructor first.
    if (!deferStart) process.nextTick(() => void this.start());
  }

  /**
   * Starts the first incarnation (topologies that defer it; others start on their own) and
   * resolves like {@link RemoteWorker.ready}. Events dispatched before wait for it.
   */
  start(): Promise<void> {
    if (this.#lifecycle === 'open' && this.#life === undefined && this.#restartTimer === undefined) this.#startLife();
    return this.#ready;
  }

  /** Settles when the first incarnation is up; rejects when the worker could not start at all. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Where the worker is in its life. */
  get state(): RemoteWorkerState {
    if (this.#lifecycle !== 'open') return this.#lifecycle;
    if (this.#life?.recycling !== undefined) return 'recycling';
    if (this.#life?.ready === true && !this.#life.dead) return 'running';
    return this.#everReady || this.#failures > 0 ? 'restarting' : 'starting';
  }

  /** Consecutive failures so far (from 1 again after a crash of a worker that ran `stableAfterMs`). */
  get failures(): number {
    return this.#failures;
  }

  dispatch(tenant: TenantId, event: E, options?: DispatchOptions): Promise<R> {
    return this.#call('event', tenant, event, options);
  }

  dispatchNoWait(tenant: TenantId, event: E): void {
    const key = checkedTenantKey(tenant);
    this.#admit('event', event);
    const call = new Call(++this.#ids, 'event', tenant, key, event, undefined, undefined, undefined, false);
    if (this.#guards !== undefined) {
      // A tenant over its own budget is that tenant's problem, reported per event; the caller's loop goes on.
      const refused = this.#guards.admit(key, tenant);
      if (refused !== undefined) {
        queueMicrotask(() => this.emit('dispatchError', { workerId: this.id, tenant, error: refused, event }));
        return;
      }
      call.guarded = true;
    }
    call.trace = traceOpen(pendingTraces, this, tenant, 'event', event, true, undefined);
    this.#accept(call, undefined);
  }

  runScript(tenant: TenantId, name: string, code: string, event: E, options?: DispatchOptions): Promise<R> {
    if (typeof name !== 'string' || typeof code !== 'string') {
      return Promise.reject(
        new InvalidArgumentError(
          `Expected the script \`name\` and \`code\` to be strings, got ${typeof name} and ${typeof code}.`,
        ),
      );
    }
    return this.#call('script', tenant, [name, code, event], options);
  }

  dropTenant(tenant: TenantId, options?: DispatchOptions): Promise<void> {
    return this.#call('drop', tenant, undefined, options);
  }

  // ---------------------------------------------------------------------------------------------
  // Control plane: broadcast, quarantine release
  // ---------------------------------------------------------------------------------------------

  /**
   * Delivers `message` to the worker's `onBroadcast` hook and resolves with one entry. A worker
   * that is restarting or recycling gets it once it is back, if that is before `timeoutMs`.
   */
  broadcast<T = unknown>(message: unknown, options: BroadcastOptions = {}): Promise<BroadcastResult<T>[]> {
    let timeoutMs: number;
    try {
      checkObject('options', options);
      timeoutMs = checkInteger('timeoutMs', options.timeoutMs ?? DEFAULT_BROADCAST_TIMEOUT_MS, 1, true);
      this.#admit('broadcast', message, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    return new Promise((resolve, reject) => {
      const call = new Call(
        ++this.#ids,
        'broadcast',
        undefined,
        '',
        message,
        (value: T) => resolve([{ workerId: this.id, status: 'fulfilled', value }]),
        (reason: unknown) => {
          // The caller's own abort rejects the call; anything else is this worker's entry.
          if (signal?.aborted === true && reason instanceof AbortError) reject(reason);
          else resolve([{ workerId: this.id, status: 'rejected', reason }]);
        },
        signal,
        signal !== undefined || timeoutMs !== Infinity,
      );
      this.#accept(call, timeoutMs);
    });
  }

  /** Lifts `tenant`'s quarantine (see the `quarantine` option); `true` when it was quarantined. */
  release(tenant: TenantId): boolean {
    const key = checkedTenantKey(tenant);
    return this.#guards?.release(key) ?? false;
  }

  // ---------------------------------------------------------------------------------------------
  // Live resharding (WorkerPool.resize)
  // ---------------------------------------------------------------------------------------------

  /** The tenants sent to the current incarnation and those waiting here: what a resize may move. */
  heldTenants(): TenantId[] {
    const tenants = new Map(this.#held);
    for (const call of this.#waiting.toArray())
      if (call.stage === Stage.Waiting && call.tenant !== undefined) tenants.set(call.key, call.tenant);
    return [...tenants.values()];
  }

  /**
   * Hands `tenant` off once nothing of it is left here or in the worker: calls waiting, sent, being
   * cancelled, and abandoned ones whose handler still runs there (their place is held until the
   * worker reports their end, or the worker is restarted past `timeoutKillAfterMs`). Exporting while
   * such a handler runs could move a state it is still changing. Rejects with the incarnation's end
   * (`ERR_WORKER_CRASHED`, ...) when the worker holding the tenant's state dies meanwhile.
   */
  handOffTenant(tenant: TenantId, options: DispatchOptions = {}): Promise<TenantHandoff | undefined> {
    let key: string;
    try {
      key = checkedTenantKey(tenant);
    } catch (error) {
      return Promise.reject(error);
    }
    const call = (): Promise<TenantHandoff | undefined> =>
      this.#call('handoff', tenant, undefined, { timeoutMs: Infinity, ...options });
    if (!this.#holdsCallsOf(key)) return call();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The handoff'));
    return new Promise<void>((resolve, reject) => {
      // The caller's signal (a resize's handoffTimeoutMs) ends the wait: the waiter leaves the list.
      const onAbort = (): void => {
        const waiters = this.#quietWaiters.get(key);
        const at = waiters?.indexOf(waiter) ?? -1;
        if (at >= 0) waiters!.splice(at, 1);
        if (waiters?.length === 0) this.#quietWaiters.delete(key);
        reject(abortErrorFrom(signal!, 'The handoff'));
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiters = this.#quietWaiters.get(key);
      if (waiters === undefined) this.#quietWaiters.set(key, [waiter]);
      else waiters.push(waiter);
    }).then(call);
  }

  adoptTenant(tenant: TenantId, handoff: TenantHandoff, options: DispatchOptions = {}): Promise<void> {
    return this.#call('adopt', tenant, handoff, { timeoutMs: Infinity, ...options });
  }

  reshard(sizes: readonly number[]): void {
    if (this.#shardSizes !== undefined) this.#shardSizes = [...sizes];
  }

  /** Whether a call of the tenant `key` waits here or holds a place in the worker (abandoned ones included). */
  #holdsCallsOf(key: string): boolean {
    for (const call of this.#inflight.values()) if (call.key === key) return true;
    for (const call of this.#waiting.toArray()) if (call.stage === Stage.Waiting && call.key === key) return true;
    return false;
  }

  /** The incarnation dies: a handoff waiting for a tenant whose state it held has nothing to carry. */
  #failHandoffs(error: Error): void {
    if (this.#quietWaiters.size === 0) return;
    for (const [key, waiters] of this.#quietWaiters) {
      if (!this.#held.has(key)) continue;
      this.#quietWaiters.delete(key);
      for (const { reject } of waiters) reject(error);
    }
  }

  /**
   * Lets the handoffs waiting for their tenant to be quiet (see {@link handOffTenant}) go on: the
   * one of `key` (a call of it just ended), or every one (the in-flight table was emptied).
   */
  #wakeQuiet(key?: string): void {
    if (this.#quietWaiters.size === 0) return;
    if (key !== undefined) {
      const waiters = this.#quietWaiters.get(key);
      if (waiters === undefined || this.#holdsCallsOf(key)) return;
      this.#quietWaiters.delete(key);
      for (const { resolve } of waiters) resolve();
      return;
    }
    for (const [quiet, waiters] of this.#quietWaiters) {
      if (this.#holdsCallsOf(quiet)) continue;
      this.#quietWaiters.delete(quiet);
      for (const { resolve } of waiters) resolve();
    }
  }

  /** Counters for status boards; `handled` and `failed` keep counting across restarts. */
  stats(): RemoteWorkerStats {
    const life = this.#life;
    const live = life !== undefined && !life.dead;
    return {
      id: this.id,
      tenants: live ? life.stats.tenants : 0,
      queued: this.#queued,
      handled: this.#base.handled + (live ? life.stats.handled : 0),
      failed: this.#base.failed + (live ? life.stats.failed : 0),
      state: this.state,
      restarts: this.#restarts,
      recycles: this.#recycles,
      failures: this.#failures,
      inFlight: this.#inflight.size,
    };
  }

  /**
   * Stops at once: ends the incarnation, then rejects every accepted event with
   * `WorkerKilledError` (so a rejected event can no longer run). Resolves when that is done.
   */
  kill(reason?: unknown): Promise<void> {
    if (this.#killing !== undefined) return this.#killing;
    if (this.#lifecycle === 'closed') return Promise.resolve();
    this.#lifecycle = 'killed';
    this.#clearRestart();
    const life = this.#life;
    const live = life !== undefined && !life.dead;
    if (live) this.#stopProbe(life);
    this.#killing = (async () => {
      await life?.handle?.kill().catch(() => undefined);
      const error = new WorkerKilledError(`Worker ${this.id} was killed.`, { cause: reason });
      if (live) this.#bury(life, error);
      this.#failWaiting(error);
      this.#rejectReady(this.#startError ?? error);
      this.#resolveDrained();
    })();
    return this.#killing;
  }

  /**
   * Stops gracefully: refuses new events (`WorkerKilledError`), finishes every accepted one (a
   * restart included, when the worker crashed meanwhile), lets the worker release its tenants
   * (`dropTenant` hooks), then ends it. After `closeTimeoutMs` it kills instead.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#lifecycle === 'killed') return this.kill();
    if (this.#lifecycle === 'unavailable') {
      this.#closing = this.kill().then(() => {
        this.#lifecycle = 'closed';
      });
      return this.#closing;
    }
    this.#lifecycle = 'closing';
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      if (this.#closeTimeoutMs !== Infinity) timer = setTimeout(() => resolve('timeout'), this.#closeTimeoutMs);
    });
    this.#closing = Promise.race([this.#close(), timedOut]).then(async (outcome) => {
      clearTimeout(timer);
      if (outcome === 'timeout' && !this.#wasKilled()) {
        await this.kill(new WorkerKilledError(`Worker ${this.id} did not close within ${this.#closeTimeoutMs} ms.`));
        this.#lifecycle = 'closed';
      }
    });
    return this.#closing;
  }

  /** Calls {@link RemoteWorker.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    // Never started (a topology that defers its start): nothing can deliver what waits.
    if (this.#life === undefined)
      this.#failWaiting(new WorkerKilledError(`Worker ${this.id} was closed before it started.`));
    this.#flush();
    if (this.#queued > 0) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    // A recycle under way closes the incarnation itself (and starts no other, nothing being held).
    if (this.#retirement !== undefined) await this.#retirement;
    if (this.#wasKilled()) return;
    const life = this.#life;
    if (life !== undefined && !life.dead && life.ready) {
      this.#stopProbe(life);
      try {
        await life.handle!.close();
      } catch {
        // A worker that dies while closing has nothing left to finish.
      }
    }
    if (this.#wasKilled()) return;
    this.#lifecycle = 'closed';
    this.#clearRestart();
    if (life !== undefined && !life.dead) {
      this.#bury(life, new WorkerKilledError(`Worker ${this.id} was closed.`));
      await life.handle?.kill().catch(() => undefined);
    }
    this.#rejectReady(new WorkerKilledError(`Worker ${this.id} was closed before it started.`));
  }

  /** Read through a method: the compiler cannot see that kill() may run while close() awaits. */
  #wasKilled(): boolean {
    return this.#lifecycle === 'killed';
  }

  // ---------------------------------------------------------------------------------------------
  // Admission
  // ---------------------------------------------------------------------------------------------

  #admit(op: LinkOp, payload: unknown, signal?: AbortSignal): void {
    switch (this.#lifecycle) {
      case 'open':
        break;
      case 'unavailable':
        throw new WorkerUnavailableError(
          `Worker ${this.id} failed ${this.#failures} times in a row and was not restarted; it accepts no more events.`,
        );
      case 'killed':
        throw new WorkerKilledError(`Worker ${this.id} was killed; it accepts no more events.`);
      default:
        throw new WorkerKilledError(`Worker ${this.id} was closed; it accepts no more events.`);
    }
    if (signal?.aborted)
      throw abortErrorFrom(signal, op === 'drop' ? 'The drop' : op === 'broadcast' ? 'The broadcast' : 'The dispatch');
    if (op === 'broadcast') {
      // The control plane is not held back by the data plane's bound.
      assertCloneable(payload, 'The broadcast message');
      return;
    }
    if (op === 'event' || op === 'script' || op === 'adopt') assertCloneable(payload);
    // A resize's handoffs are bounded by the pool; refusing one would strand the tenant's state.
    if (this.#queued >= this.#maxQueue && op !== 'handoff' && op !== 'adopt') {
      throw new BackpressureError(
        `Worker ${this.id} already holds ${this.#queued} unfinished events (maxQueue ${this.#maxQueue}); slow down or raise \`maxQueue\`.`,
      );
    }
  }

  #call<T>(op: LinkOp, tenant: TenantId, payload: unknown, options: DispatchOptions = {}): Promise<T> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    let key: string;
    let traceparent: string | undefined;
    try {
      key = checkedTenantKey(tenant);
      if (options.timeoutMs !== undefined) checkInteger('timeoutMs', options.timeoutMs, 1, true);
      traceparent = checkTraceparent(options.traceparent);
      this.#admit(op, payload, signal);
      if (this.#guards !== undefined) {
        const refused = this.#guards.admit(key, tenant, op !== 'drop');
        if (refused !== undefined) throw refused;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const cancellable = signal !== undefined || timeoutMs !== Infinity;
    return new Promise<T>((resolve, reject) => {
      const call = new Call(++this.#ids, op, tenant, key, payload, resolve, reject, signal, cancellable);
      call.guarded = this.#guards !== undefined && op !== 'drop';
      if (op === 'event' || op === 'script') {
        const trace = traceOpen(
          pendingTraces,
          this,
          tenant,
          op,
          op === 'event' ? payload : (payload as unknown[])[2],
          false,
          traceparent,
        );
        call.trace = trace;
        // A message (not a slot) when the caller carried a trace or a start subscriber could set one.
        if (typeof trace === 'object') call.traceparent = trace.traceparent;
      }
      this.#accept(call, timeoutMs);
    });
  }

  #accept(call: Call, timeoutMs: number | undefined): void {
    if (call.signal !== undefined) {
      const what = call.op === 'broadcast' ? 'The broadcast' : 'The dispatch';
      call.onAbort = () => this.#giveUpOn(call, abortErrorFrom(call.signal!, what));
      call.signal.addEventListener('abort', call.onAbort, { once: true });
    }
    if (timeoutMs !== undefined && timeoutMs !== Infinity) {
      call.timer = setTimeout(() => this.#timedOut(call, timeoutMs), timeoutMs);
      call.timer.unref();
    }
    this.#waiting.push(call);
    if (this.#queued++ === 0) this.#setActive(true);
    this.#scheduleFlush();
  }

  // ---------------------------------------------------------------------------------------------
  // Sending
  // ---------------------------------------------------------------------------------------------

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // After every microtask of this turn, so that callers resumed by one transfer's results dispatch
    // again before the next transfer leaves, and share it. But calls made by callers that another
    // worker's results resumed, while another worker holds calls, leave after the results that
    // arrived in this turn of the event loop (the check phase follows the poll phase that delivered
    // them): otherwise, with callers that call every worker, each worker got one transfer per results
    // message, and the calls per transfer halved at every round trip down to one. Callers that stay
    // with one worker (or a worker alone) keep the next tick: waiting would only idle its thread.
    if (resultsFrom !== this.#serial && resultsFrom !== 0 && activeWorkers > (this.#queued > 0 ? 1 : 0))
      setImmediate(this.#flushNow);
    else process.nextTick(this.#flushNow);
  }

  readonly #flushNow = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  /** Schedules a flush once the microtasks queued now have run (callers resumed by results dispatch first). */
  #flushAfterMicrotasks(): void {
    if (this.#flushSoon) return;
    this.#flushSoon = true;
    queueMicrotask(() => {
      this.#flushSoon = false;
      this.#scheduleFlush();
    });
  }

  /** Sends what waits while the incarnation is up and has room; what cannot go merges into the next transfer. */
  #flush(): void {
    const life = this.#life;
    if (life === undefined || !life.ready || life.dead || life.recycling !== undefined) return;
    const handle = life.handle!;
    while (this.#waiting.length > 0 && this.#inflight.size < this.#maxInFlight && !handle.busy()) {
      const room = Math.min(this.#maxBatchSize, this.#maxInFlight - this.#inflight.size);
      const batch: Call[] = [];
      while (batch.length < room) {
        const call = this.#waiting.shift();
        if (call === undefined) break;
        if (call.stage !== Stage.Waiting) continue;
        call.stage = Stage.Sent;
        this.#inflight.set(call.id, call);
        if (call.tenant !== undefined) this.#held.set(call.key, call.tenant);
        batch.push(call);
      }
      if (batch.length === 0) break;
      if (tracing()) {
        const now = performance.now();
        for (const { trace } of batch) {
          if (typeof trace === 'number') pendingTraces.sent(trace, now);
          else if (trace !== undefined) trace.sentAt = now;
        }
      }
      handle.send(batch);
      if (life.dead) return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Settling
  // ---------------------------------------------------------------------------------------------

  #settle(id: number, ok: boolean, value: unknown, handlingMs?: number, at?: number): void {
    resultsFrom = this.#serial;
    const call = this.#inflight.get(id);
    if (call === undefined) return;
    const { trace } = call;
    if (trace !== undefined && handlingMs !== undefined && !Number.isNaN(handlingMs) && at !== undefined) {
      // Its start here: the arrival of its result minus how long it ran there.
      if (typeof trace === 'number') {
        pendingTraces.started(trace, at - handlingMs);
        pendingTraces.ended(trace, at);
      } else {
        trace.handlingMs = handlingMs;
        trace.startedAt = at - handlingMs;
      }
    }
    // A cancelled handler that had already started: the caller is told now, the place is held until it ends.
    const stillRunning = !ok && value instanceof HandlerStillRunningError;
    switch (call.stage) {
      case Stage.Sent:
        this.#inflight.delete(id);
        this.#finish(call, ok, value);
        break;
      case Stage.Cancelling:
        if (stillRunning) call.stage = Stage.Abandoned;
        else this.#inflight.delete(id);
        this.#finish(call, false, call.pending, stillRunning ? Stage.Abandoned : Stage.Settled);
        break;
      default:
        if (stillRunning) return;
        this.#inflight.delete(id);
        if (call.timer !== undefined) clearTimeout(call.timer);
        call.stage = Stage.Settled;
    }
    if (this.#inflight.size === 0) this.#recycleWhenEmpty();
    if (this.#waiting.length > 0) this.#flushAfterMicrotasks();
    this.#wakeQuiet(call.key);
  }

  /** Tells the caller and stops counting the call as queued; `stage` is where the call goes (a place held in the worker, or none). */
  #finish(call: Call, ok: boolean, value: unknown, stage = Stage.Settled): void {
    call.stage = stage;
    if (call.trace !== undefined) {
      traceClose(pendingTraces, call.trace, ok, value);
      // Its slot may be another call's from now on: a later report of the handler (one that ran on
      // after its call was given up) must not time it.
      call.trace = undefined;
    }
    if (call.op === 'handoff' && ok) this.#held.delete(call.key);
    if (call.onAbort !== undefined) call.signal!.removeEventListener('abort', call.onAbort);
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.timer = undefined;
    if (call.guarded) this.#guards!.done(call.key);
    this.#settled();
    this.#wakeQuiet(call.key);
    if (call.resolve !== undefined) {
      if (ok) call.resolve(value);
      else call.reject!(value);
    } else if (!ok) {
      this.emit('dispatchError', {
        workerId: this.id,
        tenant: call.tenant!,
        error: value as Error,
        event: call.payload,
      });
    }
  }

  #settled(): void {
    if (--this.#queued === 0) {
      this.#setActive(false);
      this.#resolveDrained();
    }
  }

  #resolveDrained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * The caller gave up (abort, deadline). One still waiting here never leaves. One in the worker is
   * cancelled there: where the link guarantees the worker sees the cancel before it could start the
   * event (shared memory), the caller is told at once; otherwise (`prompt: false`, an abort over a
   * socket) once the worker answered, so that an aborted event never runs after its caller was
   * told. A deadline is never late: `prompt` tells the caller at once, and the event may then still
   * start in the worker if the cancel was in transit.
   */
  #giveUpOn(call: Call, error: Error, prompt = false): boolean {
    if (call.stage === Stage.Waiting) {
      this.#finish(call, false, error);
      return true;
    }
    if (call.stage !== Stage.Sent) return false;
    const exact = this.#life?.handle?.cancel(call.id) ?? true;
    if (exact || prompt) this.#finish(call, false, error, Stage.Abandoned);
    else {
      call.stage = Stage.Cancelling;
      call.pending = error;
      if (call.onAbort !== undefined) call.signal!.removeEventListener('abort', call.onAbort);
      if (call.timer !== undefined) clearTimeout(call.timer);
      call.timer = undefined;
    }
    return true;
  }

  #timedOut(call: Call, timeoutMs: number): void {
    call.timer = undefined;
    if (call.op === 'broadcast') {
      // A slow onBroadcast costs its entry, never a restart (a hung worker is caught by liveness).
      this.#giveUpOn(
        call,
        new BroadcastTimeoutError(`Worker ${this.id} did not answer the broadcast within ${timeoutMs} ms.`),
      );
      return;
    }
    const wasSent = call.stage === Stage.Sent;
    const life = this.#life;
    const error = new HandlerTimeoutError(
      `The ${call.op === 'drop' ? 'drop' : 'handler'} for tenant ${call.key} did not finish within ${timeoutMs} ms.`,
    );
    if (!this.#giveUpOn(call, error, true) || !wasSent || this.#killAfterMs === Infinity || life === undefined) return;
    // The worker was told to cancel it; a handler that runs on past the hard limit costs a restart.
    call.timer = setTimeout(() => {
      call.timer = undefined;
      if (life === this.#life && !life.dead && this.#inflight.get(call.id) === call) {
        this.#lost(
          life,
          new HandlerTimeoutError(
            `The handler for tenant ${call.key} was still running ${timeoutMs + this.#killAfterMs} ms after it was called; worker ${this.id} is restarted.`,
          ),
          true,
          { call, running: true },
        );
      }
    }, this.#killAfterMs);
    call.timer.unref();
  }

  #failWaiting(error: Error): void {
    for (const call of this.#waiting.drain()) if (call.stage === Stage.Waiting) this.#finish(call, false, error);
  }

  /** Keeps the process alive while events are unfinished, and only then. */
  #setActive(active: boolean): void {
    activeWorkers += active ? 1 : -1;
    const timer = this.#restartTimer;
    if (active) timer?.ref();
    else timer?.unref();
    const life = this.#life;
    if (life !== undefined && !life.dead) life.handle?.ref?.(active);
  }

  // ---------------------------------------------------------------------------------------------
  // Incarnations: start, liveness, crash, restart
  // ---------------------------------------------------------------------------------------------

  #startLife(): void {
    this.#restartTimer = undefined;
    const life: Life = {
      host: undefined as unknown as LinkHost,
      handle: undefined,
      ready: false,
      dead: false,
      readyAt: 0,
      probeSentAt: undefined,
      stats: { tenants: 0, handled: 0, failed: 0 },
      probe: undefined,
      recycling: undefined,
      retiring: false,
      ageTimer: undefined,
    };
    const current = (): boolean => this.#life === life && !life.dead;
    (life as { host: LinkHost }).host = {
      workerId: this.id,
      ready: (stats) => {
        if (!current() || life.ready) return;
        life.ready = true;
        life.readyAt = performance.now();
        if (stats !== undefined) life.stats = stats;
        this.#everReady = true;
        life.handle!.ref?.(this.#queued > 0);
        this.#startProbe(life);
        this.#startAgeTimer(life);
        this.#resolveReady();
        // Back after an interruption in the middle of a recycle: what it held was failed, so it retires now.
        if (life.recycling !== undefined) this.#recycleWhenEmpty();
        this.#flush();
      },
      settle: (id, ok, value, handlingMs, at) => {
        if (current()) this.#settle(id, ok, value, handlingMs, at);
      },
      stats: (stats) => {
        if (!current()) return;
        life.stats = stats;
        if (this.#recycle !== undefined && life.ready && life.recycling === undefined) {
          const reason = recycleReason(this.#recycle, stats.handled, stats.heapUsed);
          if (reason !== undefined) this.#recycleLife(life, reason);
        }
      },
      resume: () => {
        if (current() && this.#waiting.length > 0) this.#flushAfterMicrotasks();
      },
      kv: (call) => (current() ? this.#serveKv(call) : Promise.reject(new WorkerKilledError('The worker is gone.'))),
      alive: () => {
        if (current()) life.probeSentAt = undefined;
      },
      interrupted: (cause) => {
        if (current() && life.ready) this.#interrupted(life, cause);
      },
      lost: (cause, options) => this.#lost(life, cause, options?.retry ?? true),
    };
    this.#life = life;
    try {
      life.handle = this.#link.start(life.host);
    } catch (error) {
      life.dead = true;
      this.#startError = error;
      void this.kill(error);
    }
  }

  /**
   * One probe at a time: a worker is hung when its probe stays unanswered for `livenessTimeoutMs`.
   * Before saying so, the answers that arrived while this thread was itself busy are read first
   * (a timer runs before pending I/O), so a slow master does not take its worker for a hung one.
   */
  #startProbe(life: Life): void {
    if (this.#livenessTimeoutMs === Infinity) return;
    const every = Math.max(5, Math.floor(this.#livenessTimeoutMs / 4));
    const silentFor = (): number =>
      life.dead || life.probeSentAt === undefined ? 0 : performance.now() - life.probeSentAt;
    life.probeSentAt = undefined;
    life.probe = setInterval(() => {
      if (life.dead) return;
      if (life.probeSentAt === undefined) {
        life.probeSentAt = performance.now();
        life.handle!.ping();
        return;
      }
      if (silentFor() <= this.#livenessTimeoutMs) return;
      setImmediate(() => {
        const silent = silentFor();
        if (silent <= this.#livenessTimeoutMs) return;
        const suspect = this.#suspect(life);
        this.#lost(
          life,
          new WorkerHungError(
            `Worker ${this.id} did not answer its liveness probe for ${Math.round(silent)} ms (livenessTimeoutMs ${this.#livenessTimeoutMs})${describeCall(suspect)}; it is treated as hung and terminated.`,
          ),
          true,
          suspect,
        );
      });
    }, every);
    life.probe.unref();
  }

  #stopProbe(life: Life): void {
    if (life.probe !== undefined) clearInterval(life.probe);
    life.probe = undefined;
  }

  /** Ends `life`: its in-flight events fail with `error`, its counters join the base. */
  #bury(life: Life, error: Error): void {
    life.dead = true;
    this.#stopProbe(life);
    clearTimeout(life.ageTimer);
    // The incarnation's tenant states died with it.
    this.#failHandoffs(error);
    this.#held.clear();
    this.#base.handled += life.stats.handled;
    this.#base.failed += life.stats.failed;
    this.#endInflight(error);
  }

  /**
   * The one crash function: the incarnation died, hung or misbehaved. Fails what was in flight
   * with `WorkerCrashedError`, then restarts after the backoff or gives up, and emits one `crash`.
   */
  #lost(life: Life, cause: unknown, retry = true, suspect: Suspect = this.#suspect(life)): void {
    if (life !== this.#life || life.dead) return;
    life.recycling = undefined;
    const uptime = life.ready ? performance.now() - life.readyAt : 0;
    this.#failInflight(life, cause, suspect);
    this.#bury(life, new WorkerCrashedError(`Worker ${this.id} crashed.`, { cause }));
    const gone = (life.handle?.kill() ?? Promise.resolve()).catch(() => undefined);
    const { call } = suspect;
    const info = this.#crashInfo(cause, this.#failures, call);
    // Emitted after `crash`: the tenant whose event was running takes the strike.
    const quarantined = call?.tenant === undefined ? undefined : this.#guards?.strike(call.key, call.tenant, cause);
    if (quarantined !== undefined) this.#quarantined(quarantined);
    if (!retry && !this.#everReady) {
      // It can never start (a module that cannot be loaded): a configuration error, not a crash to retry.
      this.#startError = cause;
      void this.kill(cause);
      return;
    }
    if (this.#lifecycle !== 'open' && !(this.#lifecycle === 'closing' && this.#queued > 0)) {
      this.emit('crash', info);
      return;
    }
    if (uptime >= this.#restart.stableAfterMs) this.#failures = 0;
    info.failures = ++this.#failures;
    let giveUpCause = cause;
    if (this.#failures < this.#restart.maxConsecutiveFailures) {
      try {
        info.restartInMs = restartDelay(this.#restart, this.#failures);
      } catch (error) {
        giveUpCause = error;
      }
    }
    this.emit('crash', info);
    if (info.restartInMs === undefined) {
      this.#giveUp(giveUpCause, gone, info);
      return;
    }
    this.#restarts++;
    const timer = setTimeout(() => {
      void gone.then(() => {
        if (this.#restartTimer === timer) this.#startLife();
      });
    }, info.restartInMs);
    if (this.#queued === 0) timer.unref();
    this.#restartTimer = timer;
  }

  /** The link dropped but the incarnation may come back: in-flight events fail, and it counts as a failure. */
  #interrupted(life: Life, cause: unknown): void {
    if (performance.now() - life.readyAt >= this.#restart.stableAfterMs) this.#failures = 0;
    // The last failure allowed: give the incarnation up like any other crash.
    if (this.#failures + 1 >= this.#restart.maxConsecutiveFailures) return this.#lost(life, cause);
    const suspect = this.#suspect(life);
    life.ready = false;
    this.#stopProbe(life);
    this.#failInflight(life, cause, suspect);
    const info = this.#crashInfo(cause, ++this.#failures, suspect.call);
    // It comes back as soon as it reconnects (the link calls lost() if it does not).
    info.restartInMs = 0;
    this.emit('crash', info);
  }

  #crashInfo(cause: unknown, failures: number, suspect: Call | undefined): WorkerCrashInfo {
    return {
      workerId: this.id,
      cause,
      failures,
      restartInMs: undefined,
      tenant: suspect?.tenant,
      eventType: eventType(suspect),
    };
  }

  /**
   * The call a crash or hang of `life` is blamed on: the one whose handler the worker says was
   * running (a link reads it from memory shared with the worker, or from the worker's last word),
   * else the oldest in flight.
   */
  #suspect(life: Life): Suspect {
    const id = life.handle?.running?.() ?? 0;
    const running = id === 0 ? undefined : this.#inflight.get(id);
    if (running !== undefined) return { call: running, running: true };
    return { call: this.#inflight.values().next().value, running: false };
  }

  #failInflight(life: Life, cause: unknown, suspect: Suspect): void {
    const error = new WorkerCrashedError(
      `Worker ${this.id} crashed while the event was in flight${describeCall(suspect)}; it may or may not have run. Retry if the handler is idempotent.`,
      { cause },
    );
    this.#endInflight(error);
  }

  /** Nothing in flight will be reported any more: callers still waiting get `error` (or the reason they gave up). */
  #endInflight(error: Error): void {
    this.#failHandoffs(error);
    const calls = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const call of calls) {
      if (call.stage === Stage.Sent) this.#finish(call, false, error);
      else if (call.stage === Stage.Cancelling) this.#finish(call, false, call.pending);
      else {
        if (call.timer !== undefined) clearTimeout(call.timer);
        call.stage = Stage.Settled;
      }
    }
    this.#wakeQuiet();
  }

  /** Refuses new events at once; fails the held ones and emits `fatal` once the incarnation is gone. */
  #giveUp(cause: unknown, gone: Promise<void>, info: WorkerCrashInfo): void {
    this.#lifecycle = 'unavailable';
    const error = new WorkerUnavailableError(
      `Worker ${this.id} failed ${this.#failures} times in a row and will not be restarted.`,
      { cause },
    );
    void gone.then(() => {
      if (this.#wasKilled()) return;
      this.#failWaiting(error);
      this.#rejectReady(error);
      this.emit('fatal', { ...info, cause });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Quarantine and recycling
  // ---------------------------------------------------------------------------------------------

  /** A tenant was just quarantined: its events still waiting here are refused too, and `quarantine` follows `crash`. */
  #quarantined(info: QuarantineInfo): void {
    const key = tenantKey(info.tenant);
    const error = this.#guards!.admit(key, info.tenant);
    if (error !== undefined) {
      for (let i = 0; i < this.#waiting.length; i++) {
        const call = this.#waiting.at(i)!;
        if (call.key === key && call.stage === Stage.Waiting && call.op !== 'drop') this.#finish(call, false, error);
      }
    }
    queueMicrotask(() => this.emit('quarantine', info));
  }

  #startAgeTimer(life: Life): void {
    // Once per incarnation: a reconnect (ready again) does not restart its age.
    if (this.#recycle === undefined || this.#recycle.maxAgeMs === Infinity || life.ageTimer !== undefined) return;
    life.ageTimer = setTimeout(() => {
      if (life === this.#life && !life.dead && life.recycling === undefined) this.#recycleLife(life, 'maxAgeMs');
    }, this.#recycle.maxAgeMs);
    life.ageTimer.unref();
  }

  /** A limit of `recycle` was passed: nothing more goes to `life`; it retires once it holds nothing. */
  #recycleLife(life: Life, reason: RecycleReason): void {
    // A closing worker ends the incarnation anyway.
    if (this.#lifecycle !== 'open') return;
    life.recycling = reason;
    clearTimeout(life.ageTimer);
    if (this.#inflight.size === 0) this.#recycleWhenEmpty();
  }

  #recycleWhenEmpty(): void {
    const life = this.#life;
    if (life === undefined || life.dead || !life.ready || life.recycling === undefined || life.retiring) return;
    life.retiring = true;
    const retirement = this.#retire(life, life.recycling).finally(() => {
      if (this.#retirement === retirement) this.#retirement = undefined;
    });
    this.#retirement = retirement;
  }

  /**
   * Closes a recycled incarnation gracefully (it finishes what it holds and runs its tenants'
   * `dropTenant` hooks), then starts the next one, which receives what waited meanwhile. One that
   * does not close within `closeTimeoutMs` is treated as hung.
   */
  async #retire(life: Life, reason: RecycleReason): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      if (this.#closeTimeoutMs !== Infinity) timer = setTimeout(() => resolve(true), this.#closeTimeoutMs);
    });
    const closed = life.handle!.close().then(
      () => false,
      () => false,
    );
    const late = await Promise.race([closed, timedOut]);
    clearTimeout(timer);
    // It crashed, or the worker was killed, meanwhile: that path took over.
    if (life !== this.#life || life.dead) return;
    if (late) {
      this.#lost(
        life,
        new WorkerHungError(
          `Worker ${this.id} did not finish its events and release its tenants within ${this.#closeTimeoutMs} ms (closeTimeoutMs) while it was recycled.`,
        ),
      );
      return;
    }
    const info: RecycleInfo = {
      workerId: this.id,
      reason,
      handled: life.stats.handled,
      ageMs: Math.round(performance.now() - life.readyAt),
      heapUsed: life.stats.heapUsed,
    };
    this.#bury(life, new WorkerKilledError(`Worker ${this.id} was recycled.`));
    await life.handle!.kill().catch(() => undefined);
    this.#recycles++;
    this.emit('recycled', info);
    if (this.#lifecycle === 'open' || (this.#lifecycle === 'closing' && this.#queued > 0)) this.#startLife();
  }

  #clearRestart(): void {
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // ctx.kv, served from the store on this side
  // ---------------------------------------------------------------------------------------------

  #serveKv(call: KvCall): Promise<unknown> {
    try {
      const tenant = parseTenantKey(call.tenant);
      const sizes = this.#shardSizes;
      if (sizes !== undefined && !sizes.some((size) => shardFor(tenant.id, size) === this.id))
        throw new ProtocolError(
          `Worker ${this.id} asked for the kv of tenant ${call.tenant}, which it does not serve.`,
        );
      switch (call.op) {
        case 'get':
          return this.#store.get(tenant, call.key);
        case 'set':
          return this.#store.set(tenant, call.key, call.arg);
        case 'delete':
          return this.#store.delete(tenant, call.key);
        case 'list':
          return this.#store.list(tenant, typeof call.arg === 'string' ? call.arg : '');
        default:
          throw new ProtocolError(`Unknown kv operation ${JSON.stringify(call.op)}.`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
