import type { WorkerStats } from '@switchyard/core';
import { StatusInvalidArgumentError } from '../errors/errors.js';
import type { PrefixFormat } from '../format/formatPrefix.js';
import { compilePrefix } from '../internal/compilePrefix.js';
import { formatRate } from '../format/progress.js';
import { RateMeter } from '../internal/RateMeter.js';
import { describeValue, messageOf } from '../internal/describe.js';
import type { Row } from '../board/Row.js';

/** One worker as {@link StatusBoard.watch} sees it: any core `WorkerLike` (local, thread, process, or a pool). */
export interface WatchedWorker {
  readonly id: number;
  stats(): WorkerStats;
}

/** A core `WorkerPool` of any topology, as {@link StatusBoard.watch} sees it: one row per worker. */
export interface WatchedWorkerPool {
  readonly workers: readonly WatchedWorker[];
}

/** What a core job `Pool` reports from `stats()` (the fields the board shows). */
export interface JobPoolStats {
  /** Workers in the pool. */
  workers: number;
  /** Workers stopped but still finishing their last call. */
  stopping?: number;
  /** Job calls that ended. */
  iterations: number;
  /** Job calls that failed. */
  failures: number;
}

/** A core job `Pool` as {@link StatusBoard.watch} sees it: one row for the pool. */
export interface WatchedJobPool {
  stats(): JobPoolStats;
}

/** What {@link StatusBoard.watch} accepts. */
export type WatchTarget = WatchedWorkerPool | WatchedWorker | WatchedJobPool;

/** Options of {@link StatusBoard.watch}. */
export interface WatchOptions {
  /**
   * How often the target's counters are read, in milliseconds. Reading is cheap, and the board
   * redraws only when a row's text changed.
   * @default 1000
   */
  intervalMs?: number;
  /**
   * The rows' prefix: a printf-like template formatted with the worker's id (`%d`, `%2d`, ...), or
   * a function of the id. A job pool's row is formatted with id 0.
   * @default 'worker %d:' for workers, 'pool:' for a job pool
   */
  prefix?: PrefixFormat;
}

/** What a watch needs from its board. @internal */
export interface WatchHost {
  addRow(prefix: string, text: string): Row;
  clock(): number;
  rateWindowMs: number;
  stopped(watch: StatusWatch): void;
}

interface Sampler {
  row: Row;
  sample(now: number): void;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

function hasStats(value: unknown): value is { stats(): unknown } {
  return isObject(value) && typeof value['stats'] === 'function';
}

function readStats<K extends string>(source: { stats(): unknown }, keys: readonly K[]): Record<K, number> {
  const stats: unknown = source.stats();
  if (!isObject(stats)) throw new TypeError(`stats() returned ${describeValue(stats)}`);
  for (const key of keys) {
    if (typeof stats[key] !== 'number') throw new TypeError(`stats().${key} is ${describeValue(stats[key])}`);
  }
  return stats as Record<K, number>;
}

const WORKER_KEYS = ['tenants', 'queued', 'handled', 'failed'] as const;
const POOL_KEYS = ['workers', 'iterations', 'failures'] as const;

function workerSampler(worker: WatchedWorker, row: Row, meter: RateMeter): Sampler {
  return {
    row,
    sample(now) {
      try {
        const s = readStats(worker, WORKER_KEYS);
        const rate = meter.sample(now, s.handled);
        row.set(
          `${s.tenants} tenants · ${s.queued} queued · ${s.handled} handled · ${s.failed} failed · ${formatRate(rate)}`,
        );
      } catch (error) {
        row.set(`stats unavailable: ${messageOf(error)}`);
      }
    },
  };
}

function jobPoolSampler(pool: WatchedJobPool, row: Row, meter: RateMeter): Sampler {
  return {
    row,
    sample(now) {
      try {
        const s: Record<(typeof POOL_KEYS)[number], number> & { stopping?: unknown } = readStats(pool, POOL_KEYS);
        const stopping = typeof s.stopping === 'number' ? s.stopping : 0; // optional: 0 when a pool does not report it
        const rate = meter.sample(now, s.iterations);
        row.set(
          `${s.workers} workers · ${stopping} stopping · ${s.iterations} iterations · ${s.failures} failures · ${formatRate(rate)}`,
        );
      } catch (error) {
        row.set(`stats unavailable: ${messageOf(error)}`);
      }
    },
  };
}

/**
 * A live view of a worker pool on a board, from {@link StatusBoard.watch}: it reads the target's
 * counters every `intervalMs` until {@link stop} (or the board's `close()`). Its rows stay on the
 * board with their last values.
 */
export class StatusWatch {
  readonly #samplers: Sampler[];
  readonly #host: WatchHost;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @internal Use {@link StatusBoard.watch}. */
  constructor(target: WatchTarget, options: WatchOptions, host: WatchHost) {
    if (!isObject(options))
      throw new StatusInvalidArgumentError(
        `Expected the watch options to be an object, got ${describeValue(options)}.`,
      );
    const { intervalMs = 1000 } = options;
    if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new StatusInvalidArgumentError(
        `Expected \`intervalMs\` to be a finite number > 0, got ${describeValue(intervalMs)}.`,
      );
    }
    this.#host = host;
    this.#samplers = this.#build(target, options);
    this.#sampleAll();
    this.#timer = setInterval(() => this.#sampleAll(), intervalMs);
    this.#timer.unref?.();
  }

  /** True once {@link stop} was called (directly or by the board's `close()`). */
  get stopped(): boolean {
    return this.#timer === undefined;
  }

  /** How many rows the watch shows (one per worker, or one for a job pool). */
  get rows(): number {
    return this.#samplers.length;
  }

  /** Reads the counters one last time and stops watching; the rows stay with those values. Idempotent. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sampleAll();
    this.#host.stopped(this);
  }

  /** Calls {@link stop}. */
  [Symbol.dispose](): void {
    this.stop();
  }

  #sampleAll(): void {
    const now = this.#host.clock();
    for (const sampler of this.#samplers) sampler.sample(now);
  }

  #build(target: WatchTarget, options: WatchOptions): Sampler[] {
    const meter = (): RateMeter => new RateMeter(this.#host.rateWindowMs);
    if (isObject(target) && Array.isArray(target['workers'])) {
      const workers = target['workers'] as unknown[];
      if (workers.length === 0)
        throw new StatusInvalidArgumentError(
          'Expected the worker pool to watch to have at least one worker, got none.',
        );
      for (const [index, worker] of workers.entries()) {
        if (!hasStats(worker)) {
          throw new StatusInvalidArgumentError(
            `Expected worker ${index} of the pool to have a stats() method, got ${describeValue(worker)}.`,
          );
        }
      }
      const prefix = compilePrefix(options.prefix ?? 'worker %d:', 'prefix');
      // Format every prefix before adding any row: a throwing prefix function adds none.
      const prefixes = (workers as WatchedWorker[]).map((worker, index) =>
        prefix(typeof worker.id === 'number' ? worker.id : index),
      );
      return (workers as WatchedWorker[]).map((worker, index) =>
        workerSampler(worker, this.#host.addRow(prefixes[index]!, ''), meter()),
      );
    }
    if (hasStats(target)) {
      let probe: unknown;
      try {
        probe = target.stats();
      } catch (error) {
        throw new StatusInvalidArgumentError(
          "Expected the watch target's stats() to return its counters, but it threw.",
          { cause: error },
        );
      }
      if (isObject(probe) && typeof probe['handled'] === 'number') {
        const worker = target as WatchedWorker;
        const id = typeof worker.id === 'number' ? worker.id : 0;
        const prefix = compilePrefix(options.prefix ?? 'worker %d:', 'prefix');
        return [workerSampler(worker, this.#host.addRow(prefix(id), ''), meter())];
      }
      if (isObject(probe) && typeof probe['iterations'] === 'number') {
        const prefix = compilePrefix(options.prefix ?? 'pool:', 'prefix');
        return [jobPoolSampler(target as WatchedJobPool, this.#host.addRow(prefix(0), ''), meter())];
      }
      throw new StatusInvalidArgumentError(
        `Expected the watch target's stats() to return worker counters ({ handled, ... }) or job pool counters ({ iterations, ... }), got ${describeValue(probe)}.`,
      );
    }
    throw new StatusInvalidArgumentError(
      `Expected a WorkerPool (with \`workers\`), a WorkerLike or a job Pool (with \`stats()\`) to watch, got ${describeValue(target)}.`,
    );
  }
}
