import { AbortError } from '@switchyard/core';
import { InvalidSimOptionError, SimWaitTimeoutError } from '../errors/errors.js';

/** Options of every `waitFor...()` method. */
export interface WaitOptions {
  /** How long to wait before rejecting with `ERR_DISCORD_SIM_WAIT_TIMEOUT`. @default 5000 */
  timeoutMs?: number;
  /** Rejects with an `AbortError` (cause: `signal.reason`) when aborted. @default none */
  signal?: AbortSignal;
}

interface Waiter<T> {
  predicate: (value: T) => boolean;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/**
 * Promises that resolve with the first value (already seen or still to come) that matches a
 * predicate. Every wait has a timeout and an optional abort signal, and leaves no timer behind.
 */
export class Waiters<T> {
  readonly #waiters = new Set<Waiter<T>>();

  /** Offers a new value to every pending wait. */
  notify(value: T): void {
    if (this.#waiters.size === 0) return;
    for (const waiter of this.#waiters) {
      let matched: boolean;
      try {
        matched = waiter.predicate(value);
      } catch (error) {
        // A predicate that throws ends its own wait with that error, whenever it throws.
        waiter.reject(error as Error);
        continue;
      }
      if (matched) waiter.resolve(value);
    }
  }

  /** Rejects every pending wait with `error` (the simulator closed). */
  rejectAll(error: Error): void {
    for (const waiter of this.#waiters) waiter.reject(error);
  }

  /** How many waits are pending. */
  get size(): number {
    return this.#waiters.size;
  }

  wait(predicate: (value: T) => boolean, options: WaitOptions, what: string, seen: Iterable<T> = []): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 5000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      return Promise.reject(
        new InvalidSimOptionError(`Expected \`timeoutMs\` to be a number >= 0, got ${String(timeoutMs)}.`),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    try {
      for (const value of seen) if (predicate(value)) return Promise.resolve(value);
    } catch (error) {
      return Promise.reject(error as Error);
    }

    return new Promise<T>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(waiter);
      };
      const waiter: Waiter<T> = {
        predicate,
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      const onAbort = (): void => {
        settle();
        reject(new AbortError(undefined, { cause: signal?.reason }));
      };
      const timer = setTimeout(() => {
        settle();
        reject(new SimWaitTimeoutError(`Timed out after ${timeoutMs} ms waiting for ${what}.`));
      }, timeoutMs);
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }
}
