import type { ResizeInfo, WorkerCrashInfo, WorkerLike } from '@switchyard/core';
import { InvalidArgumentError, observeDispatchTimings } from '@switchyard/core';
import type { Registry } from 'prom-client';
import { Counter, Gauge, register as globalRegistry } from 'prom-client';
import { TimingHistogram } from './TimingHistogram.js';

/** Options of {@link WorkerMetrics}. */
export interface WorkerMetricsOptions {
  /**
   * Where the collectors are registered (serve it with `registry.metrics()`).
   * @default prom-client's global `register`
   */
  registry?: Registry;
  /**
   * Put before every metric name.
   * @default 'switchyard_'
   */
  prefix?: string;
  /**
   * The value of the `pool` label on every series, to tell several pools apart in one registry.
   * @default 'default'
   */
  pool?: string;
  /**
   * Upper bounds (seconds) of the buckets of the queue-wait and handling-time histograms.
   * @default [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  buckets?: number[];
  /**
   * `false`: no queue-wait and handling-time histograms, and nothing of the collector runs per
   * dispatch (every other metric is read when the registry is scraped). Timing each dispatch costs
   * two or three clock reads: on a trivial handler, a tenth to a quarter of the dispatch (see Overhead).
   * @default true
   */
  timings?: boolean;
}

/** What {@link WorkerMetrics.countBroadcast} counts: the entries of one `broadcast` result. */
export interface BroadcastOutcome {
  /** Workers whose `onBroadcast` answered. */
  fulfilled: number;
  /** Workers that did not (no handler, an error, the deadline). */
  rejected: number;
}

/** A worker's stats as every topology reports them; the remote ones add state, restarts and in-flight. */
interface AnyStats {
  tenants: number;
  queued: number;
  handled: number;
  failed: number;
  state?: string;
  restarts?: number;
  inFlight?: number;
}

const DEFAULT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Every value of the `state` label (`RemoteWorkerState`, and `local` for a `LocalWorker`). */
const STATES = ['starting', 'running', 'restarting', 'closing', 'closed', 'killed', 'unavailable', 'local'] as const;
const PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Prometheus collectors for one `WorkerLike` (a worker, or a `WorkerPool` of any topology),
 * registered in a prom-client registry. Per-worker gauges and counters are read from
 * `worker.stats()` when the registry is scraped (nothing runs between scrapes); dispatch timings
 * come from core's `observeDispatchTimings` (the cheap path of its `switchyard:dispatch:*`
 * diagnostics channels: no message per dispatch), which costs nothing until this observes; crash
 * and resize counters come from the pool's events. `close()` unregisters it all.
 *
 * Metric names (with the default prefix), labels `pool` and `worker` unless said otherwise:
 * `switchyard_worker_tenants`, `switchyard_worker_queued`, `switchyard_worker_in_flight`,
 * `switchyard_worker_state` (`state` label, 1 for the current one), `switchyard_worker_handled_total`,
 * `switchyard_worker_failed_total`, `switchyard_worker_restarts_total`, `switchyard_worker_crashes_total`,
 * `switchyard_dispatch_queue_wait_seconds` and `switchyard_dispatch_handling_seconds` (histograms),
 * `switchyard_pool_workers` (`pool`), `switchyard_resizes_total` (`pool`),
 * `switchyard_resize_moved_tenants_total` (`pool`), `switchyard_resize_last_pause_seconds` (`pool`),
 * `switchyard_broadcasts_total` (`pool`, `outcome`).
 *
 * @example
 * ```ts
 * const metrics = new WorkerMetrics(pool, { pool: 'bot' });
 * http.createServer(async (_, res) => res.end(await register.metrics())).listen(9464);
 * ```
 */
export class WorkerMetrics {
  readonly #target: WorkerLike<any, any>;
  readonly #registry: Registry;
  readonly #pool: string;
  readonly #names: string[] = [];
  /** The last counter values read per worker, to add only what is new (workers come and go). */
  readonly #seen = new WeakMap<object, { handled: number; failed: number; restarts: number }>();
  readonly #crashes: Counter<'pool' | 'worker'>;
  readonly #resizes: Counter<'pool'>;
  readonly #moved: Counter<'pool'>;
  readonly #lastPause: Gauge<'pool'>;
  readonly #broadcasts: Counter<'pool' | 'outcome'>;
  /** Stops observing dispatch timings (nothing to stop without `timings`). */
  readonly #unobserve: () => void = () => undefined;
  readonly #onCrash = (info: WorkerCrashInfo): void => this.#crashes.inc({ pool: this.#pool, worker: info.workerId });
  readonly #onResized = (info: ResizeInfo): void => {
    this.#resizes.inc({ pool: this.#pool });
    this.#moved.inc({ pool: this.#pool }, info.moved);
    this.#lastPause.set({ pool: this.#pool }, info.longestHoldMs / 1000);
  };
  #closed = false;
  #owned = new Set<object>();
  #ownedFrom: unknown;

  constructor(target: WorkerLike<any, any>, options: WorkerMetricsOptions = {}) {
    if (target === null || typeof target !== 'object' || typeof target.stats !== 'function')
      throw new InvalidArgumentError('Expected a WorkerLike (a worker or a WorkerPool) to collect metrics for.');
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError(`Expected an options object, got ${options === null ? 'null' : typeof options}.`);
    const {
      registry = globalRegistry,
      prefix = 'switchyard_',
      pool = 'default',
      buckets = DEFAULT_BUCKETS,
      timings = true,
    } = options;
    if (registry === null || typeof registry !== 'object' || typeof registry.registerMetric !== 'function')
      throw new InvalidArgumentError('Expected `registry` to be a prom-client Registry.');
    if (typeof prefix !== 'string' || (prefix !== '' && !PREFIX.test(prefix)))
      throw new InvalidArgumentError(`Expected \`prefix\` to be a Prometheus name prefix, got ${String(prefix)}.`);
    if (typeof pool !== 'string')
      throw new InvalidArgumentError(`Expected \`pool\` to be a string, got ${typeof pool}.`);
    if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b) => typeof b !== 'number' || !(b > 0)))
      throw new InvalidArgumentError('Expected `buckets` to be a non-empty array of positive numbers (seconds).');
    if (typeof timings !== 'boolean')
      throw new InvalidArgumentError(`Expected \`timings\` to be a boolean, got ${typeof timings}.`);
    this.#target = target;
    this.#registry = registry;
    this.#pool = pool;
    const registers = [registry];
    const name = (suffix: string): string => {
      const full = `${prefix}${suffix}`;
      this.#names.push(full);
      return full;
    };
    const perWorker = ['pool', 'worker'] as const;
    const read = (): Array<[{ pool: string; worker: number }, AnyStats, object]> =>
      this.#workers().map((worker) => [{ pool, worker: worker.id }, worker.stats() as AnyStats, worker]);
    const gauge = (suffix: string, help: string, value: (stats: AnyStats) => number | undefined): void => {
      new Gauge({
        name: name(suffix),
        help,
        labelNames: perWorker,
        registers,
        collect() {
          this.reset();
          for (const [labels, stats] of read()) {
            const v = value(stats);
            if (v !== undefined) this.set(labels, v);
          }
        },
      });
    };
    gauge('worker_tenants', 'Tenants whose state the worker holds.', (s) => s.tenants);
    gauge('worker_queued', 'Events accepted and not finished (queued or running).', (s) => s.queued);
    gauge(
      'worker_in_flight',
      'Events in the worker thread or process and not finished (remote workers).',
      (s) => s.inFlight,
    );
    new Gauge({
      name: name('worker_state'),
      help: 'Where the worker is in its life: 1 for its current state.',
      labelNames: ['pool', 'worker', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [labels, stats] of read())
          for (const state of STATES) this.set({ ...labels, state }, (stats.state ?? 'local') === state ? 1 : 0);
      },
    });
    const seen = this.#seen;
    const counter = (suffix: string, help: string, key: 'handled' | 'failed' | 'restarts'): void => {
      new Counter({
        name: name(suffix),
        help,
        labelNames: perWorker,
        registers,
        collect() {
          for (const [labels, stats, worker] of read()) {
            let last = seen.get(worker);
            if (last === undefined) seen.set(worker, (last = { handled: 0, failed: 0, restarts: 0 }));
            const now = stats[key] ?? 0;
            if (now > last[key]) this.inc(labels, now - last[key]);
            last[key] = now;
          }
        },
      });
    };
    counter('worker_handled_total', 'Events whose handler finished, successfully or not.', 'handled');
    counter('worker_failed_total', 'Events whose handler threw.', 'failed');
    counter('worker_restarts_total', 'Restarts after a crash (remote workers).', 'restarts');
    this.#crashes = new Counter({
      name: name('worker_crashes_total'),
      help: 'Crashes of the worker thread or process (hung ones included).',
      labelNames: perWorker,
      registers,
    });
    // Observed on every dispatch: counted in plain arrays, turned into series only when scraped.
    if (timings) {
      const queueWait = new TimingHistogram(
        name('dispatch_queue_wait_seconds'),
        "From a dispatch being accepted to its handler starting: buffered in the master, in transit, and behind the tenant's earlier events in the worker (a call that never reached a handler: until it settled).",
        buckets,
        pool,
      );
      const handling = new TimingHistogram(
        name('dispatch_handling_seconds'),
        'How long handlers ran, measured where they ran (the worker thread or process).',
        buckets,
        pool,
      );
      registry.registerMetric(queueWait as never);
      registry.registerMetric(handling as never);
      this.#unobserve = observeDispatchTimings((worker, workerId, waitMs, handlingMs) => {
        // Every worker of this thread is observed: only this target's count.
        if (!this.#owns(worker)) return;
        queueWait.observe(workerId, waitMs / 1000);
        if (handlingMs === handlingMs) handling.observe(workerId, handlingMs / 1000);
      });
    }
    new Gauge({
      name: name('pool_workers'),
      help: 'How many workers the pool has.',
      labelNames: ['pool'],
      registers,
      collect() {
        this.set({ pool }, target.size);
      },
    });
    this.#resizes = new Counter({
      name: name('resizes_total'),
      help: 'Finished pool resizes.',
      labelNames: ['pool'],
      registers,
    });
    this.#moved = new Counter({
      name: name('resize_moved_tenants_total'),
      help: 'Tenants moved between workers by resizes.',
      labelNames: ['pool'],
      registers,
    });
    this.#lastPause = new Gauge({
      name: name('resize_last_pause_seconds'),
      help: 'The longest time a call waited for its tenant to move, in the last resize.',
      labelNames: ['pool'],
      registers,
    });
    this.#broadcasts = new Counter({
      name: name('broadcasts_total'),
      help: 'Per-worker broadcast deliveries, by outcome.',
      labelNames: ['pool', 'outcome'],
      registers,
    });
    target.on('crash', this.#onCrash);
    target.on('resized', this.#onResized);
  }

  /**
   * Counts one broadcast's per-worker outcomes. The hook for `pool.broadcast(...)` results: call it
   * with the counts of `fulfilled` and `rejected` entries (until pools emit a broadcast event of their own).
   */
  countBroadcast(outcome: BroadcastOutcome): void {
    if (outcome === null || typeof outcome !== 'object')
      throw new InvalidArgumentError(`Expected { fulfilled, rejected }, got ${typeof outcome}.`);
    const { fulfilled, rejected } = outcome;
    for (const [label, count] of [
      ['fulfilled', fulfilled],
      ['rejected', rejected],
    ] as const) {
      if (!Number.isSafeInteger(count) || count < 0)
        throw new InvalidArgumentError(`Expected \`${label}\` to be an integer >= 0, got ${String(count)}.`);
      if (count > 0) this.#broadcasts.inc({ pool: this.#pool, outcome: label }, count);
    }
  }

  /** Stops listening and removes every collector from the registry. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unobserve();
    this.#target.off('crash', this.#onCrash);
    this.#target.off('resized', this.#onResized);
    for (const name of this.#names) this.#registry.removeSingleMetric(name);
  }

  /** The leaf workers of the target (a pool's workers, nested pools flattened). */
  #workers(): WorkerLike<any, any>[] {
    const out: WorkerLike<any, any>[] = [];
    const visit = (worker: WorkerLike<any, any>): void => {
      const inner = (worker as { workers?: readonly WorkerLike<any, any>[] }).workers;
      if (Array.isArray(inner)) for (const w of inner) visit(w);
      else out.push(worker);
    };
    visit(this.#target);
    return out;
  }

  /** Whether `worker` is one of the target's workers (the set is rebuilt when a resize or replace changed them). */
  #owns(worker: object): boolean {
    const current = (this.#target as { workers?: unknown }).workers ?? this.#target;
    if (current !== this.#ownedFrom) {
      this.#ownedFrom = current;
      this.#owned = new Set(this.#workers());
    }
    return this.#owned.has(worker);
  }
}
