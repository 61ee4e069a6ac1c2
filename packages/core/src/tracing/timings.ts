import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '../errors/errors.js';

/**
 * Told how long one dispatch waited and how long its handler ran, when it ends (milliseconds).
 * `waitMs` runs from the dispatch's acceptance to its handler's start: buffered in the master, in
 * transit, and behind the tenant's earlier events in the worker (when no handler ran — refused,
 * aborted or timed out while it waited, its worker crashed — until it ended). `handlingMs` is `NaN`
 * when no handler ran; measured where the handler ran. Called synchronously on the dispatching
 * thread, so it should cost a few array operations; what it throws is rethrown on the next tick
 * (an uncaught exception, as a `diagnostics_channel` subscriber's is), never into the dispatch.
 */
export type DispatchTimingObserver = (worker: object, workerId: number, waitMs: number, handlingMs: number) => void;

/** Every observer of this thread, replaced (not changed) when one comes or goes: ending dispatches iterate a snapshot. */
let observers: readonly DispatchTimingObserver[] = [];

/**
 * Tells `observer` the queue wait and handling time of every dispatch (events and scripts, waited
 * or not) that ends on a worker of this thread, of any topology: the cheap path of the
 * `switchyard:dispatch:*` channels for metrics, with no message object per dispatch. Returns the
 * function that stops it. `@switchyard/metrics` builds its histograms on it.
 *
 * @example
 * ```ts
 * const stop = observeDispatchTimings((worker, workerId, waitMs, handlingMs) => histogram.observe(handlingMs));
 * ```
 */
export function observeDispatchTimings(observer: DispatchTimingObserver): () => void {
  if (typeof observer !== 'function')
    throw new InvalidArgumentError(`Expected the observer to be a function, got ${typeof observer}.`);
  observers = [...observers, observer];
  let observing = true;
  return () => {
    if (!observing) return;
    observing = false;
    observers = observers.filter((o) => o !== observer);
  };
}

/** Whether some observer listens. @internal */
export function timingsObserved(): boolean {
  return observers.length > 0;
}

/**
 * Tells every observer about one dispatch, accepted at `acceptedAt`, that ends now: its handler
 * started at `startedAt` and ran `handlingMs`, both `NaN` when no handler ran (it waited until now).
 * @internal
 */
export function observeTimings(
  worker: object,
  workerId: number,
  acceptedAt: number,
  startedAt: number,
  handlingMs: number,
): void {
  const waitMs = Math.max(0, (Number.isNaN(startedAt) ? performance.now() : startedAt) - acceptedAt);
  const current = observers;
  for (let i = 0; i < current.length; i++) {
    try {
      current[i]!(worker, workerId, waitMs, handlingMs);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
}
