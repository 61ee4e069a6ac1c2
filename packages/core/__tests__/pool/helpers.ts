import { setImmediate as realSetImmediate } from 'node:timers';
import type { Job } from '../../src/pool/Job.js';

// Captured when this module loads, before any test installs fake timers.
const immediate = realSetImmediate;

/** One real turn of the event loop (immune to fake timers). */
export function turn(): Promise<void> {
  return new Promise((resolve) => immediate(resolve));
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Lets a test wait for a condition on state that jobs change: every change calls `notify()`, and
 * `until(check)` resolves the first time `check()` holds (no polling, no sleeps).
 */
export class Probe {
  readonly #waiters = new Set<{ check: () => boolean; resolve: () => void }>();

  notify(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.check()) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.add({ check, resolve }));
  }
}

/** One call of a {@link GatedJob}: it runs until the test releases (or fails) it. */
export interface GatedCall {
  readonly index: number;
  readonly signal: AbortSignal;
  ended: boolean;
  release(): void;
  fail(error: unknown): void;
}

/**
 * A job whose every call blocks until the test releases it, ignoring its signal unless
 * `honourSignal` is set (then an abort rejects the call with `signal.reason`).
 */
export class GatedJob {
  readonly calls: GatedCall[] = [];
  readonly probe = new Probe();
  readonly log: string[] = [];
  readonly #honourSignal: boolean;

  constructor(options: { honourSignal?: boolean } = {}) {
    this.#honourSignal = options.honourSignal ?? false;
  }

  readonly job: Job = (signal) => {
    const gate = deferred();
    const call: GatedCall = {
      index: this.calls.length,
      signal,
      ended: false,
      release: () => gate.resolve(),
      fail: (error) => gate.reject(error),
    };
    if (this.#honourSignal) signal.addEventListener('abort', () => gate.reject(signal.reason), { once: true });
    this.calls.push(call);
    this.log.push(`start:${call.index}`);
    this.probe.notify();
    return gate.promise.finally(() => {
      call.ended = true;
      this.log.push(`end:${call.index}`);
      this.probe.notify();
    });
  };

  /** Calls started and not ended. */
  get inFlight(): GatedCall[] {
    return this.calls.filter((call) => !call.ended);
  }

  /** Resolves once `n` calls are in flight at the same time. */
  untilInFlight(n: number): Promise<void> {
    return this.probe.until(() => this.inFlight.length >= n);
  }

  /**
   * Resolves once `check()` holds (checked when calls start and end), one event-loop turn later:
   * by then the pool has handled the end of every call that ended (it does so in microtasks).
   */
  async until(check: () => boolean): Promise<void> {
    await this.probe.until(check);
    await turn();
  }

  /** Resolves once `n` calls started in total. */
  untilStarted(n: number): Promise<void> {
    return this.probe.until(() => this.calls.length >= n);
  }
}

/** A synchronous job that counts its calls per signal (that is, per worker). */
export class CountingJob {
  readonly perSignal = new Map<AbortSignal, number>();
  readonly probe = new Probe();
  total = 0;

  readonly job: Job = (signal) => {
    this.total++;
    this.perSignal.set(signal, (this.perSignal.get(signal) ?? 0) + 1);
    this.probe.notify();
  };

  untilTotal(n: number): Promise<void> {
    return this.probe.until(() => this.total >= n);
  }
}
