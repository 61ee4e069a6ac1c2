import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '../errors/errors.js';
import type { TenantId } from '../tenants/TenantId.js';

/**
 * What the `switchyard:dispatch:*` channels publish, one object per dispatch (the same object on
 * start, end and error, so a subscriber can keep its span in a `WeakMap` keyed by it).
 *
 * Like undici's `undici:request:create`, a `start` subscriber may set {@link DispatchMessage.traceparent}:
 * the worker receives it with the event, across a thread or process boundary, as `ctx.traceparent`.
 */
export interface DispatchMessage {
  /** The worker object that accepted the dispatch (a `LocalWorker`, `ThreadWorker`, `ProcessWorker`). */
  readonly worker: object;
  /** Its id. */
  readonly workerId: number;
  readonly tenant: TenantId;
  /** `event` for `dispatch` and `dispatchNoWait`, `script` for `runScript`. */
  readonly op: 'event' | 'script';
  /** The event (for a script: the event given to it). */
  readonly event: unknown;
  /** True for `dispatchNoWait`: nobody waits for the result, `end` or `error` still follows. */
  readonly noWait: boolean;
  /** The W3C `traceparent` carried to the worker: the caller's (`DispatchOptions.traceparent`), or one a `start` subscriber set. */
  traceparent: string | undefined;
  /** When the dispatch was accepted (`performance.now()`). */
  readonly acceptedAt: number;
  /** When it left the master for the worker's thread or process (`performance.now()`); a `LocalWorker` hands it over at once. */
  sentAt: number;
  /**
   * Set before `end`/`error` when its handler ran: when it started (`performance.now()` of this
   * thread). Measured on a `LocalWorker`; on a thread or process worker, the arrival of the result
   * here minus {@link DispatchMessage.handlingMs}. `startedAt - acceptedAt` is the call's queue wait:
   * buffered here, in transit, and behind the tenant's earlier events in the worker. A `LocalWorker`
   * handler started inside the call that accepted it (its tenant idle) has `startedAt === acceptedAt`.
   */
  startedAt: number | undefined;
  /**
   * Set before `end`/`error` when its handler ran: how long it ran (ms), measured where it ran (the
   * worker's thread or process). `undefined` when no handler ran or its end was never reported
   * (refused, aborted before it started, the worker crashed).
   */
  handlingMs: number | undefined;
  /** Set before `end`: what the handler returned. */
  result?: unknown;
  /** Set before `error`: why the dispatch failed. */
  error?: unknown;
}

/**
 * The diagnostics channels every topology publishes on, named like undici's. Publishing costs
 * nothing while nobody subscribes (`channel.hasSubscribers` is checked first).
 *
 * - `switchyard:dispatch:start` — a dispatch was accepted; set `message.traceparent` here to carry a trace.
 * - `switchyard:dispatch:end` — its handler finished (`message.result`).
 * - `switchyard:dispatch:error` — it failed (`message.error`): handler error, timeout, abort, crash.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * diagnosticsChannel.subscribe('switchyard:dispatch:start', (message) => console.log('start', message));
 * ```
 */
export const dispatchChannels = Object.freeze({
  start: channel('switchyard:dispatch:start'),
  end: channel('switchyard:dispatch:end'),
  error: channel('switchyard:dispatch:error'),
});

/** Whether anyone listens on one of the dispatch channels. @internal */
export function tracing(): boolean {
  return (
    dispatchChannels.start.hasSubscribers ||
    dispatchChannels.end.hasSubscribers ||
    dispatchChannels.error.hasSubscribers
  );
}

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** Checks a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`). @internal */
export function checkTraceparent(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !TRACEPARENT.test(value) || value.startsWith('ff'))
    throw new InvalidArgumentError(
      `Expected \`traceparent\` to be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value}.`,
    );
  return value;
}

/** A dispatch's message, accepted at `acceptedAt` (and sent then). @internal */
export function dispatchMessage(
  worker: { readonly id: number },
  tenant: TenantId,
  op: 'event' | 'script',
  event: unknown,
  noWait: boolean,
  traceparent: string | undefined,
  acceptedAt: number,
): DispatchMessage {
  return {
    worker,
    workerId: worker.id,
    tenant,
    op,
    event,
    noWait,
    traceparent,
    acceptedAt,
    sentAt: acceptedAt,
    startedAt: undefined,
    handlingMs: undefined,
    // Present from the start, so that every message keeps one shape.
    result: undefined,
    error: undefined,
  };
}

/**
 * Publishes `start` for a dispatch when someone listens or the caller carries a trace; returns the
 * message to settle later with {@link traceEnd}, or `undefined` when there is nothing to trace. @internal
 */
export function traceStart(
  worker: { readonly id: number },
  tenant: TenantId,
  op: 'event' | 'script',
  event: unknown,
  noWait: boolean,
  traceparent: string | undefined,
): DispatchMessage | undefined {
  if (traceparent === undefined && !tracing()) return undefined;
  const message = dispatchMessage(worker, tenant, op, event, noWait, traceparent, performance.now());
  if (!dispatchChannels.start.hasSubscribers) return message;
  dispatchChannels.start.publish(message);
  // A subscriber may have set it; one that set something malformed must not break the dispatch.
  if (message.traceparent !== undefined && !TRACEPARENT.test(String(message.traceparent)))
    message.traceparent = undefined;
  return message;
}

/** Publishes `end` (`ok`) or `error` for a traced dispatch. @internal */
export function traceEnd(message: DispatchMessage, ok: boolean, value: unknown): void {
  if (ok) {
    message.result = value;
    if (dispatchChannels.end.hasSubscribers) dispatchChannels.end.publish(message);
  } else {
    message.error = value;
    if (dispatchChannels.error.hasSubscribers) dispatchChannels.error.publish(message);
  }
}
