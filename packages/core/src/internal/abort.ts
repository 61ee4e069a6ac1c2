import { AbortError } from '../errors/SwitchyardError.js';

/**
 * What the runtime reads of a dispatch's signal: an `AbortSignal` fits. `aborted` is read right
 * before the event would start; an event whose signal aborted by then never runs.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The `AbortError` to reject with when `signal` aborted; its cause is `signal.reason`. @internal */
export function abortErrorFrom(signal: { readonly reason: unknown }, what = 'The operation'): AbortError {
  return new AbortError(`${what} was aborted.`, { cause: signal.reason });
}

/**
 * Races `promise` against `signal`: rejects with an `AbortError` (cause: `signal.reason`) when the
 * signal aborts first, and removes its listener once settled. `onAbort` runs before the rejection.
 * @internal
 */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: CancelSignal | undefined,
  what?: string,
  onAbort?: () => void,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    onAbort?.();
    return Promise.reject(abortErrorFrom(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const listener = (): void => {
      onAbort?.();
      reject(abortErrorFrom(signal, what));
    };
    signal.addEventListener('abort', listener, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', listener);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', listener);
        reject(error);
      },
    );
  });
}
