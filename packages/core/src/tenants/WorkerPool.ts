import { EventEmitter } from 'node:events';
import { InvalidArgumentError, WorkerKilledError } from '../errors/errors.js';
import { abortErrorFrom, raceSignal } from '../internal/abort.js';
import { RecentCache } from '../internal/RecentCache.js';
import type { TenantId } from './TenantId.js';
import { assertTenantId, shardFor } from './TenantId.js';
import type {
  BroadcastOptions,
  BroadcastResult,
  DispatchOptions,
  WorkerLike,
  WorkerLikeEvents,
  WorkerStats,
} from './WorkerLike.js';

/** The event type a {@link WorkerLike} accepts. */
export type WorkerEventOf<W> = W extends WorkerLike<infer E, any> ? E : never;
/** The result type a {@link WorkerLike} resolves with. */
export type WorkerResultOf<W> = W extends WorkerLike<any, infer R> ? R : never;

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /**
   * The pool's own id (when pools are nested).
   * @default 0
   */
  id?: number;
}

const FORWARDED = ['crash', 'fatal', 'dispatchError', 'quarantine', 'recycled'] as const;

/**
 * Aggregates workers of one topology and routes every call for a tenant to
 * `workers[shardFor(tenant.id, workers.length)]`, Discord's sharding formula, so a tenant's state
 * always lives in the same worker. A pool is itself a {@link WorkerLike}, and re-emits its
 * workers' `crash`, `fatal`, `dispatchError`, `quarantine` and `recycled` events (each carries the worker id).
 *
 * @example
 * ```ts
 * const pool = await WorkerPool.create(4, (id) => new LocalWorker(definition, { id }));
 * await pool.dispatch({ kind: 'guild', id: guildId }, event);
 * ```
 */
export class WorkerPool<W extends WorkerLike<any, any>>
  extends EventEmitter<WorkerLikeEvents>
  implements WorkerLike<WorkerEventOf<W>, WorkerResultOf<W>>
{
  readonly id: number;
  /** The workers, in shard order: worker `i` serves the tenants with `shardFor(id, size) === i`. */
  get workers(): readonly W[] {
    return this.#workers;
  }
  #workers: readonly W[];
  /** What {@link WorkerPool.create} built the workers with, for {@link WorkerPool.replace}. */
  #factory: ((id: number, total: number) => W | Promise<W>) | undefined;
  readonly #forwarders = new Map<W, Array<[(typeof FORWARDED)[number], (info: any) => void]>>();
  /** Shards of recently seen tenant ids: `shardFor` costs a BigInt per call. */
  readonly #shards = new RecentCache<string, number>(131_072);

  /**
   * Builds a pool of `count` workers with `factory(id, count)` (ids 0..count-1); if one fails to
   * start, the ones already started are killed and the error is rethrown.
   */
  static async create<W extends WorkerLike<any, any>>(
    count: number,
    factory: (id: number, total: number) => W | Promise<W>,
    options: WorkerPoolOptions = {},
  ): Promise<WorkerPool<W>> {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new InvalidArgumentError(`Expected \`count\` to be an integer >= 1, got ${String(count)}.`);
    const settled = await Promise.allSettled(Array.from({ length: count }, async (_, id) => factory(id, count)));
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) {
      await Promise.allSettled(
        settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.kill()] : [])),
      );
      throw failed.reason;
    }
    const pool = new WorkerPool(
      settled.map((result) => (result as PromiseFulfilledResult<W>).value),
      options,
    );
    pool.#factory = factory;
    return pool;
  }

  constructor(workers: readonly W[], options: WorkerPoolOptions = {}) {
    super();
    if (!Array.isArray(workers) || workers.length === 0) {
      throw new InvalidArgumentError(
        `Expected a non-empty array of workers, got ${Array.isArray(workers) ? 'an empty array' : typeof workers}.`,
      );
    }
    this.id = options.id ?? 0;
    this.#workers = Object.freeze([...workers]);
    for (const worker of this.#workers) this.#forward(worker);
  }

  #forward(worker: W): void {
    const listeners = FORWARDED.map(
      (event) => [event, (info: any) => this.emit(event, info)] as [typeof event, (info: any) => void],
    );
    for (const [event, listener] of listeners) worker.on(event, listener);
    this.#forwarders.set(worker, listeners);
  }

  /**
   * Puts a new worker in slot `index` (one that was killed or gave up, so a pool never keeps a dead
   * slot): `worker`, or one made by the factory of {@link WorkerPool.create}. The old worker is
   * killed (its events reject with `WorkerKilledError`) and no longer forwarded. Resolves with the new one.
   *
   * @example
   * ```ts
   * pool.on('fatal', ({ workerId }) => void pool.replace(workerId));
   * ```
   */
  async replace(index: number, worker?: W): Promise<W> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#workers.length)
      throw new InvalidArgumentError(
        `Expected \`index\` to be an integer from 0 to ${this.#workers.length - 1}, got ${String(index)}.`,
      );
    if (worker === undefined && this.#factory === undefined)
      throw new InvalidArgumentError(
        'Expected a worker: this pool was not made by WorkerPool.create(), so it has no factory.',
      );
    const next = worker ?? (await this.#factory!(index, this.#workers.length));
    const old = this.#workers[index]!;
    for (const [event, listener] of this.#forwarders.get(old) ?? []) old.off(event, listener);
    this.#forwarders.delete(old);
    const workers = [...this.#workers];
    workers[index] = next;
    this.#workers = Object.freeze(workers);
    this.#forward(next);
    await old.kill();
    return next;
  }

  /** How many workers the pool holds. */
  get size(): number {
    return this.workers.length;
  }

  /** The worker that serves `tenant`. Throws `InvalidTenantIdError` for a malformed tenant. */
  workerFor(tenant: TenantId): W {
    assertTenantId(tenant);
    let shard = this.#shards.get(tenant.id);
    if (shard === undefined) {
      shard = shardFor(tenant.id, this.workers.length);
      this.#shards.set(tenant.id, shard);
    }
    return this.#workers[shard]!;
  }

  dispatch(tenant: TenantId, event: WorkerEventOf<W>, options?: DispatchOptions): Promise<WorkerResultOf<W>> {
    try {
      return this.workerFor(tenant).dispatch(tenant, event, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  dispatchNoWait(tenant: TenantId, event: WorkerEventOf<W>): void {
    this.workerFor(tenant).dispatchNoWait(tenant, event);
  }

  runScript(
    tenant: TenantId,
    name: string,
    code: string,
    event: WorkerEventOf<W>,
    options?: DispatchOptions,
  ): Promise<WorkerResultOf<W>> {
    try {
      return this.workerFor(tenant).runScript(tenant, name, code, event, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  dropTenant(tenant: TenantId, options?: DispatchOptions): Promise<void> {
    try {
      return this.workerFor(tenant).dropTenant(tenant, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Delivers `message` to every worker's `onBroadcast` hook and resolves with one entry per
   * worker, in worker order, like `Promise.allSettled`. A worker that refuses it (killed, given up)
   * has a `rejected` entry; only when every worker refuses it as closed or killed does the call
   * reject, with `WorkerKilledError`.
   *
   * @example
   * ```ts
   * const answers = await pool.broadcast({ type: 'reload-config' }, { timeoutMs: 5000 });
   * const failed = answers.filter((entry) => entry.status === 'rejected');
   * ```
   */
  broadcast<T = unknown>(message: unknown, options: BroadcastOptions = {}): Promise<BroadcastResult<T>[]> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The broadcast'));
    const workers = this.#workers;
    const calls = workers.map((worker) => worker.broadcast<T>(message, options));
    const all = Promise.all(
      calls.map((call, index) =>
        call.then(
          (entries) => ({ entries, refused: undefined }),
          (reason: unknown) => ({
            entries: [{ workerId: workers[index]!.id, status: 'rejected', reason }] as BroadcastResult<T>[],
            refused: reason,
          }),
        ),
      ),
    ).then((answers) => {
      const refusals = answers.map((answer) => answer.refused);
      if (refusals.every((reason) => reason !== undefined)) {
        // Every worker refused the call itself: the same reason for all (bad options, aborted) or a closed pool.
        const first = refusals[0];
        if (!(first instanceof WorkerKilledError) || refusals.every((reason) => reason instanceof WorkerKilledError))
          throw first;
      }
      return answers.flatMap((answer) => answer.entries);
    });
    return raceSignal(all, signal, 'The broadcast');
  }

  /** Lifts `tenant`'s quarantine on the worker that serves it; `true` when it was quarantined. */
  release(tenant: TenantId): boolean {
    return this.workerFor(tenant).release(tenant);
  }

  /** The sum of every worker's counters (per-worker rows: `pool.workers.map((w) => w.stats())`). */
  stats(): WorkerStats {
    const total: WorkerStats = { id: this.id, tenants: 0, queued: 0, handled: 0, failed: 0 };
    for (const worker of this.workers) {
      const s = worker.stats();
      total.tenants += s.tenants;
      total.queued += s.queued;
      total.handled += s.handled;
      total.failed += s.failed;
    }
    return total;
  }

  async kill(reason?: unknown): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.kill(reason)));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }

  /** Calls {@link WorkerPool.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
