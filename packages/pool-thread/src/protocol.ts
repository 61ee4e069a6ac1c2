/**
 * The one protocol shared by the main side (`ThreadWorker`) and the thread side (`ThreadHost`).
 *
 * Two channels connect them:
 * - piscina tasks (main → thread, answered by the task's result): `init`, `batch`, `close`.
 *   Events that arrive in the same tick travel as one `batch`, in parallel arrays.
 * - a `MessagePort` pair made for every thread (the `init` task carries one end): the thread
 *   sends `settled` results of events that outlived their batch and `kv` calls; the main side
 *   answers `kv` calls.
 *
 * Everything here is structured-cloneable data.
 * @internal
 */
import type { MessagePort } from 'node:worker_threads';
import type { SerializedError, TenantId } from '@switchyard/core';

/** Bumped whenever a message changes shape. */
export const PROTOCOL_VERSION = 1;

/** What a batch item asks the thread to do. */
export const Op = {
  /** Handle an event; someone waits for its result. */
  Event: 0,
  /** Handle an event; only a failure is reported (the value is not sent back). */
  EventNoWait: 1,
  /** Run a script: the payload is `[name, code, event]`. */
  Script: 2,
  /** Drop the tenant's state after its queued events. */
  Drop: 3,
  /** Nothing to do: the item was aborted before its batch left (main side only; never sent as work). */
  Skip: 4,
  /** Settled on the main side (never sent). */
  Done: 5,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** Added to an `Event` or `Script` op when the item may be cancelled later (the thread gives it an AbortSignal). */
export const CANCELLABLE = 8;

/** How many items a batch may carry at most, so an item is addressed as `batch * MAX_BATCH_ITEMS + index`. */
export const MAX_BATCH_ITEMS = 1 << 20;

/** The first task every thread runs: load the definition, run `startup`. */
export interface InitTask {
  readonly type: 'init';
  readonly version: number;
  /** The user's module: a file URL. */
  readonly url: string;
  readonly workerId: number;
  /** The thread's end of the side channel. */
  readonly port: MessagePort;
}

/** The answer to {@link InitTask}. */
export type InitResult =
  { readonly ok: true; readonly stats: ThreadStatsTuple } | { readonly ok: false; readonly error: SerializedError };

/** Events and control that arrived in the same tick, as parallel arrays (cheap to clone). */
export interface BatchTask {
  readonly type: 'batch';
  /** Increasing per worker. */
  readonly id: number;
  /** One {@link Op} (maybe `| CANCELLABLE`) per item. */
  readonly ops: readonly number[];
  /** The tenant of each item, as `tenantKey()` (`guild:123`). */
  readonly tenants: readonly string[];
  /** The event of each item (`[name, code, event]` for scripts, `undefined` for drops). */
  readonly payloads: readonly unknown[];
  /** Items of earlier batches whose callers gave up: `batch * MAX_BATCH_ITEMS + index` each. */
  readonly cancels: readonly number[];
}

/**
 * The answer to {@link BatchTask}: every item that settled while the batch was in the thread
 * (normally all of them). Items still running are listed in `pending` and arrive later in
 * {@link SettledMessage}s, so one slow handler never holds back the results of the others.
 */
export interface BatchResult {
  /** The value of each settled `Event`/`Script` item (`undefined` for the others). */
  readonly values: unknown[];
  /** Indexes of the items that failed, ascending. */
  readonly failed: number[];
  /** The errors of `failed`, in the same order. */
  readonly errors: SerializedError[];
  /** Indexes of the items still running, ascending, or `null` when every item settled. */
  readonly pending: number[] | null;
  readonly stats: ThreadStatsTuple;
}

/** Asks the thread to close its runtime gracefully (dropTenant hooks run). */
export interface CloseTask {
  readonly type: 'close';
}

export type ThreadTask = InitTask | BatchTask | CloseTask;

/**
 * `[tenants held, events handled, events failed, snapshot number]` as the thread counts them.
 * Answers and side-channel messages travel on different ports and may arrive out of order: the
 * main side keeps the snapshot with the highest number.
 */
export type ThreadStatsTuple = readonly [tenants: number, handled: number, failed: number, seq: number];

/** Thread → main: results of items that outlived their batch, flat: `batch, index, ok (1|0), value or error`. */
export interface SettledMessage {
  readonly type: 'settled';
  readonly items: unknown[];
  readonly stats: ThreadStatsTuple;
}

/** The operations of `ctx.kv`. */
export type KvOp = 'get' | 'set' | 'delete' | 'list';

/** Thread → main: one `ctx.kv` call. `arg` is the value for `set`, the prefix for `list`. */
export interface KvRequest {
  readonly type: 'kv';
  readonly id: number;
  readonly op: KvOp;
  readonly tenant: string;
  readonly key: string;
  readonly arg?: unknown;
}

/** Main → thread: the answer to a {@link KvRequest}. */
export type KvReply =
  | { readonly type: 'kv'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'kv'; readonly id: number; readonly ok: false; readonly error: SerializedError };

/** Messages the thread sends over the side channel. */
export type ThreadMessage = SettledMessage | KvRequest;

/** Parses a `tenantKey()` back into a tenant id (the key was made from a validated tenant). */
export function parseTenantKey(key: string): TenantId {
  const colon = key.indexOf(':');
  return { kind: key.slice(0, colon) as TenantId['kind'], id: key.slice(colon + 1) };
}
