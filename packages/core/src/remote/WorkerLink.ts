import type { TenantId } from '../tenants/TenantId.js';

/**
 * What an item asks the worker to do. `broadcast` is for the worker, not a tenant: its `key` is
 * `''`, its `tenant` undefined, its payload the message for `onBroadcast`. `handoff` and `adopt`
 * move a tenant during a resize (`TenantHost.run` maps them onto `TenantRuntime.handOffTenant` /
 * `adoptTenant`).
 */
export type LinkOp = 'event' | 'script' | 'drop' | 'broadcast' | 'handoff' | 'adopt';

/**
 * One accepted call as a link sends it. Ids come from the runtime's counter and are unique for
 * the runtime's life (across incarnations).
 */
export interface LinkItem {
  readonly id: number;
  readonly op: LinkOp;
  /** The tenant; `undefined` for a broadcast. */
  readonly tenant: TenantId | undefined;
  /** `tenantKey(tenant)`: `guild:123` (`''` for a broadcast). */
  readonly key: string;
  /**
   * The event; `[name, code, event]` for scripts; the `TenantHandoff` for adopt; `undefined` for
   * drops and handoffs; the message for broadcasts.
   */
  readonly payload: unknown;
  /** Someone waits for the value (`dispatch`, `runScript`, `dropTenant`); only a failure matters otherwise. */
  readonly waited: boolean;
  /** The caller may give up on it later (a signal or a deadline): the worker must be able to cancel it. */
  readonly cancellable: boolean;
  /** The W3C `traceparent` the worker exposes as `ctx.traceparent` (events and scripts), when the dispatch carries one. */
  readonly traceparent?: string | undefined;
  /**
   * The worker reports how long the handler of this event or script ran, with its result
   * ({@link LinkHost.settle}'s `handlingMs`): set while someone listens on the dispatch channels or
   * observes dispatch timings (metrics, tracing).
   */
  readonly timed?: boolean;
}

/** An incarnation's own counters (they start from zero in every incarnation). */
export interface IncarnationStats {
  tenants: number;
  handled: number;
  failed: number;
  /** The incarnation's V8 heap in use (bytes), when it reports it: what `recycle.maxHeapBytes` checks. */
  heapUsed?: number;
}

/** A `ctx.kv` call the worker made; the runtime serves it from its store. */
export interface KvCall {
  readonly op: 'get' | 'set' | 'delete' | 'list';
  /** `tenantKey()` of the tenant whose storage is used. */
  readonly tenant: string;
  readonly key: string;
  /** The value for `set`, the prefix for `list`. */
  readonly arg?: unknown;
}

/** What the runtime hands one incarnation: the link reports everything through it. */
export interface LinkHost {
  /** The runtime's worker id. */
  readonly workerId: number;
  /** The incarnation is up and takes items (again, after {@link LinkHost.interrupted}). */
  ready(stats?: IncarnationStats): void;
  /**
   * Item `id` finished: `value` is its result (`ok`) or the error, already rebuilt (`!ok`). For a
   * timed item ({@link LinkItem.timed}) whose handler ran, `handlingMs` is how long it ran (measured
   * where it ran; `undefined` or `NaN`: not timed) and `at` when its result arrived here
   * (`performance.now()`, read once per message).
   */
  settle(id: number, ok: boolean, value: unknown, handlingMs?: number, at?: number): void;
  /**
   * The incarnation's newest counters: with results, and with liveness answers, so that `heapUsed`
   * is checked against `recycle.maxHeapBytes` on an idle worker too.
   */
  stats(stats: IncarnationStats): void;
  /** The link has room again after `busy()` said it had none. */
  resume(): void;
  /** Serves a `ctx.kv` call (checks that the tenant is this worker's); resolves with the store's answer. */
  kv(call: KvCall): Promise<unknown>;
  /** The incarnation answered a liveness probe. */
  alive(): void;
  /**
   * The link to the incarnation dropped, but the incarnation may come back (a socket that can
   * reconnect): in-flight events fail with `WorkerCrashedError` and it counts as one failure;
   * new events wait until `ready()` is called again. A link that gives up on it calls `lost()`.
   */
  interrupted(cause: unknown): void;
  /**
   * The incarnation died, hung or misbehaved. `retry: false` means it can never start (a module
   * that cannot be loaded): the worker is then killed instead of restarted.
   */
  lost(cause: unknown, options?: { retry?: boolean }): void;
}

/**
 * One life of a worker (one thread, one process): the small object a topology provides. The
 * runtime drives it like undici drives `connectH1`'s `{ write, resume, destroy, busy }`.
 */
export interface Incarnation {
  /** Sends items to the worker, in order. Called only after `ready()` and while `busy()` is false. */
  send(items: readonly LinkItem[]): void;
  /** True while the link cannot take more now; it calls `host.resume()` when it can. */
  busy(): boolean;
  /**
   * The caller of item `id` gave up: abort its signal in the worker so it never starts if it has
   * not. The worker reports the item in every case: failed with `AbortError` when it never started,
   * with `HandlerStillRunningError` at once when its handler was running, then again when it ends.
   * Returns `true` when the worker is certain to see the cancel before it could start the item (a
   * flag in memory shared with the worker): the caller can be told at once. `false` when only the
   * worker's answer tells whether the item started (a message in transit).
   */
  cancel(id: number): boolean;
  /** Sends a liveness probe; the worker answers with `host.alive()`. */
  ping(): void;
  /**
   * The id of the item whose handler runs synchronously in the incarnation now (`0`: none), when
   * the link can tell even while the worker is stuck or after it died (memory shared with it, or its
   * last word): what a crash or hang is attributed to. Without it, or when it says `0`, the oldest
   * call in flight is blamed.
   */
  running?(): number;
  /** Graceful end: the worker finishes what it holds, releases its tenants, then exits. Resolves once it is gone. */
  close(): Promise<void>;
  /** Abrupt end; resolves once nothing of the incarnation runs any more. */
  kill(): Promise<void>;
  /** Whether the incarnation keeps the process alive: `true` while events are unfinished, `false` when idle. */
  ref?(active: boolean): void;
}

/** A transport: starts incarnations of one worker. */
export interface WorkerLink {
  /** Starts one incarnation; it reports `ready`, results and its end through `host`. */
  start(host: LinkHost): Incarnation;
}
