import type { TenantId } from './TenantId.js';

/** Options every dispatching call accepts. */
export interface DispatchOptions {
  /** Aborting it rejects the call with `AbortError`; an event aborted before it started never runs. */
  signal?: AbortSignal;
  /**
   * Rejects the call with `HandlerTimeoutError` (`ERR_HANDLER_TIMEOUT`) when its handler has not
   * finished this many ms after the call; an event that had not started by then never runs.
   * @default the worker's `timeoutMs` (none unless configured)
   */
  timeoutMs?: number;
  /**
   * A W3C `traceparent` (`00-<trace id>-<span id>-<flags>`) carried to the worker with the event and
   * exposed to the handler as `ctx.traceparent`. A `switchyard:dispatch:start` subscriber may set one instead.
   * @default undefined
   */
  traceparent?: string;
}

/** Options of `broadcast`. */
export interface BroadcastOptions {
  /** Aborting it rejects the whole call with `AbortError`. */
  signal?: AbortSignal;
  /**
   * How long to wait for every worker (ms). A worker restarting or recycling gets the message
   * once it is back, if that is before the deadline; the workers that have not answered by then
   * get a `rejected` entry with `BroadcastTimeoutError` (`ERR_BROADCAST_TIMEOUT`) and the call
   * resolves with the entries it has.
   * @default 30_000
   */
  timeoutMs?: number;
}

/** One worker's answer to a `broadcast`, shaped like a `Promise.allSettled` entry. */
export type BroadcastResult<T = unknown> =
  { workerId: number; status: 'fulfilled'; value: T } | { workerId: number; status: 'rejected'; reason: unknown };

/** A tenant was quarantined: it crashed, hung or overran its hard deadline `strikes` times within `windowMs`. */
export interface QuarantineInfo {
  workerId: number;
  tenant: TenantId;
  /** The strikes counted within the window (the option's `strikes`). */
  strikes: number;
  /** The last of them: the crash, hang or timeout that tipped it. */
  error: unknown;
  /** How long its events are refused unless `release(tenant)` is called first. */
  durationMs: number;
}

/** Why a worker was recycled: the limit of `recycle` that was passed. */
export type RecycleReason = 'maxEvents' | 'maxAgeMs' | 'maxHeapBytes';

/** A worker was recycled: it finished what it held, released its tenants and started afresh. */
export interface RecycleInfo {
  workerId: number;
  reason: RecycleReason;
  /** Events the recycled incarnation handled. */
  handled: number;
  /** How long it ran (ms). */
  ageMs: number;
  /** Its heap in bytes, when it reported it (threads and processes). */
  heapUsed: number | undefined;
}

/** What a worker (or a pool, summed) reports for status boards and metrics. */
export interface WorkerStats {
  /** The worker's id (for a pool: the pool's id). */
  id: number;
  /** Tenants whose state is held. */
  tenants: number;
  /** Events accepted but not finished (queued or running). */
  queued: number;
  /** Events whose handler finished, successfully or not. */
  handled: number;
  /** Events whose handler threw. */
  failed: number;
}

/**
 * A worker died (thread or process crash, a hung worker); its in-flight events were failed with
 * `WorkerCrashedError`. The same payload on every topology, for `crash` and `fatal`.
 */
export interface WorkerCrashInfo {
  workerId: number;
  cause: unknown;
  /** Consecutive failures so far, this one included. */
  failures: number;
  /** When the worker restarts (ms from now), or `undefined` when it gives up or is stopping. */
  restartInMs: number | undefined;
  /** The tenant of the oldest event in flight when it died, when one was. */
  tenant?: TenantId | undefined;
  /** That event's `type` field, when it is an object with a string `type`. */
  eventType?: string | undefined;
}

/** A `dispatchNoWait` event failed; nobody awaits it, so the failure is reported here. */
export interface DispatchErrorInfo {
  workerId: number;
  tenant: TenantId;
  error: Error;
  /** The event that failed, so the caller can tell which one it was. */
  event: unknown;
}

/** What a worker hands over when a tenant moves to another worker (`WorkerPool.resize`). */
export interface TenantHandoff {
  /** What the definition's `exportTenant` hook returned (structured-cloneable across boundaries). */
  readonly data: unknown;
}

/** Options of {@link WorkerPool.resize}. */
export interface ResizeOptions {
  /**
   * How long one tenant's handoff may take: its old worker finishing what it accepted for the
   * tenant, exporting and releasing it. Past it (a handler whose caller gave up still runs there)
   * the tenant moves without its state: it is listed in `failures` with `HandoffTimeoutError`
   * (`ERR_HANDOFF_TIMEOUT`), its held calls go to its new worker in order, and its old worker
   * releases the state once that handler ends. `Infinity` waits as long as the handler runs.
   * @default 30_000
   */
  handoffTimeoutMs?: number;
}

/** What the `resized` event reports (a {@link WorkerPool.resize} finished). */
export interface ResizeInfo {
  /** The number of workers before. */
  from: number;
  /** The number of workers after. */
  to: number;
  /** Tenants handed over from their old worker to their new one. */
  moved: number;
  /** Of them, those whose state was carried across (`exportTenant` → `importTenant`). */
  carried: number;
  /**
   * Tenants whose handoff or adoption failed (a throwing `exportTenant`, `importTenant` or
   * `dropTenant`, a crashed worker, a handoff past `handoffTimeoutMs` with `HandoffTimeoutError`):
   * their new worker creates their state again (their old one released it, or releases it once the
   * handler that held the handoff back ends).
   */
  failures: Array<{ tenant: TenantId; error: unknown }>;
  /** From the call to the end (the removed workers closed). */
  durationMs: number;
  /** The longest time an event waited in the pool for its tenant's handoff: the pause that tenant saw. */
  longestHoldMs: number;
}

/** The events a {@link WorkerLike} emits; a `WorkerPool` re-emits its workers' events unchanged. */
export interface WorkerLikeEvents {
  /** The worker crashed and is being restarted. */
  crash: [info: WorkerCrashInfo];
  /** The worker gave up (too many consecutive failures): its tenants' events are rejected. */
  fatal: [info: WorkerCrashInfo];
  /** A fire-and-forget event failed. */
  dispatchError: [info: DispatchErrorInfo];
  /** A tenant was quarantined (see the `quarantine` option); its events are refused for a while. */
  quarantine: [info: QuarantineInfo];
  /** The worker was recycled (see the `recycle` option); nothing it had accepted was lost. */
  recycled: [info: RecycleInfo];
  /** A `WorkerPool.resize` started moving tenants (pools only): new workers are up, calls of moving tenants are held. */
  resizing: [info: { from: number; to: number }];
  /** A `WorkerPool.resize` finished (pools only). */
  resized: [info: ResizeInfo];
}

/** A listener for one of the {@link WorkerLikeEvents}. */
export type WorkerLikeListener<K extends keyof WorkerLikeEvents> = (...args: WorkerLikeEvents[K]) => void;

/**
 * What every topology implements: one worker in this thread (`LocalWorker`), in a thread
 * (`ThreadWorker`), in a process (`ProcessWorker`), or a `WorkerPool` of any of them.
 *
 * @typeParam E - The events dispatched to tenants.
 * @typeParam R - What handling one event resolves to.
 */
export interface WorkerLike<E = unknown, R = unknown> {
  /** Position in its pool, from 0 (a pool's own id is 0 unless nested). */
  readonly id: number;
  /** How many workers this is: 1 for one worker, N for a pool. */
  readonly size: number;
  /** Handles `event` for `tenant` and resolves with what the handler returned (rejects with what it threw). */
  dispatch(tenant: TenantId, event: E, options?: DispatchOptions): Promise<R>;
  /**
   * Hands `event` over without waiting for it. Throws at once when the event cannot be accepted
   * (bad tenant or event, killed worker, full buffer); a handler failure is emitted as `dispatchError`,
   * and so is a refusal that concerns only its tenant (over its `tenantLimits`, or quarantined).
   */
  dispatchNoWait(tenant: TenantId, event: E): void;
  /** Runs `code` with the definition's script engine in `tenant`'s state. */
  runScript(tenant: TenantId, name: string, code: string, event: E, options?: DispatchOptions): Promise<R>;
  /** Forgets `tenant`'s state after the events already queued for it; the next event creates it again. */
  dropTenant(tenant: TenantId, options?: DispatchOptions): Promise<void>;
  /**
   * Delivers `message` to every worker (not to tenants): each one's `onBroadcast(message, ctx)`
   * answers. Resolves like `Promise.allSettled`, one entry per worker (one for a single worker).
   * Rejects only when the call itself is refused: a closed or killed worker (`ERR_WORKER_KILLED`),
   * bad options (`ERR_INVALID_ARGUMENT`), an aborted signal (`ABORT_ERR`).
   */
  broadcast<T = unknown>(message: unknown, options?: BroadcastOptions): Promise<BroadcastResult<T>[]>;
  /**
   * Lifts `tenant`'s quarantine before its `durationMs` ends, if it is
   * quarantined (returns `true` when it was). Its strikes start again from zero.
   */
  release(tenant: TenantId): boolean;
  /** Counters for status boards. */
  stats(): WorkerStats;
  // -------------------------------------------------------------------------------------------
  // Live resharding (used by `WorkerPool.resize`)
  // -------------------------------------------------------------------------------------------
  /**
   * The tenants this worker may hold state or accepted events for (a superset: tenants dropped
   * since may be listed). `WorkerPool.resize` moves only these (and those that receive events).
   */
  heldTenants(): TenantId[];
  /**
   * Hands `tenant` over to another worker: after every event accepted for it, exports its state
   * (the definition's `exportTenant`, when it has one), releases it (`dropTenant` hooks) and
   * forgets it. Resolves with the exported data, or `undefined` when there was no state to carry.
   * No deadline unless `options.timeoutMs` is given.
   */
  handOffTenant(tenant: TenantId, options?: DispatchOptions): Promise<TenantHandoff | undefined>;
  /**
   * Takes over a tenant handed off by another worker: its state is built by the definition's
   * `importTenant` from `handoff.data` before the tenant's next event here.
   */
  adoptTenant(tenant: TenantId, handoff: TenantHandoff, options?: DispatchOptions): Promise<void>;
  /**
   * The pool's size changes: from now on the worker serves the tenants with
   * `shardFor(id, n) === id` for any `n` of `sizes` (both sizes during a resize, one after).
   * Workers that check ownership (`ctx.kv` of a remote worker) follow it.
   */
  reshard?(sizes: readonly number[]): void;
  /** Stops abruptly: queued events reject with `WorkerKilledError`, the worker's signal aborts. */
  kill(reason?: unknown): Promise<void>;
  /** Stops gracefully: accepts nothing new, finishes what was accepted, then releases everything. */
  close(): Promise<void>;
  on<K extends keyof WorkerLikeEvents>(event: K, listener: WorkerLikeListener<K>): this;
  once<K extends keyof WorkerLikeEvents>(event: K, listener: WorkerLikeListener<K>): this;
  off<K extends keyof WorkerLikeEvents>(event: K, listener: WorkerLikeListener<K>): this;
}
