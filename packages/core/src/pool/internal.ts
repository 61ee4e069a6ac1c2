import { AbortError } from '../errors/SwitchyardError.js';

// Helpers shared by the pool's modules. Not re-exported from the package index.

export { describeValue, isPromiseLike } from '../internal/values.js';

/** True for a finite number >= 0. @internal */
export function isNonNegativeFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** The `AbortError` for an aborted `signal`: its `cause` is `signal.reason`. @internal */
export function abortError(signal: AbortSignal, what: string): AbortError {
  return new AbortError(`${what} was aborted.`, { cause: signal.reason });
}

/**
 * Resolves after `ms` (a global `setTimeout`, so fake timers control it), or rejects with an
 * `AbortError` whose cause is `signal.reason` as soon as `signal` aborts. The timer is cleared and
 * the listener removed whichever happens first. @internal
 */
export function sleep(ms: number, signal: AbortSignal, what: string): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal, what));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal, what));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
