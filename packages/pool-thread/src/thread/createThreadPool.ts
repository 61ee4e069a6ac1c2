import type { EventOf, KvStore, ResultOf, WorkerDefinition } from '@switchyard/core';
import { InvalidArgumentError, MemoryKvStore, WorkerPool } from '@switchyard/core';
import type { ThreadWorkerOptions } from './ThreadWorker.js';
import { ThreadWorker } from './ThreadWorker.js';

/** Options of {@link createThreadPool}: every {@link ThreadWorkerOptions} field but `id`, plus the pool's size. */
export interface CreateThreadPoolOptions extends Omit<ThreadWorkerOptions, 'id' | 'store' | 'workers'> {
  /** How many worker threads (tenants are spread over them with `shardFor`). */
  workers: number;
  /**
   * Where `ctx.kv` stores tenants' data, shared by every worker of the pool.
   * @default new MemoryKvStore()
   */
  store?: KvStore;
}

/**
 * Starts `workers` worker threads running the definition exported by `filename` and returns them
 * as a `WorkerPool`, which routes each tenant to `workers[shardFor(tenant.id, workers)]`. Resolves
 * once every thread loaded the module and ran `startup`; if one cannot start, the others are
 * killed and the error is rethrown.
 *
 * @typeParam D - The definition's type (`typeof worker`), which types events and results.
 *
 * @example
 * ```ts
 * import type { worker } from './counter.js';
 * const pool = await createThreadPool<typeof worker>({ workers: 2, filename: new URL('./counter.js', import.meta.url) });
 * await pool.dispatch({ kind: 'guild', id: '81384788765712384' }, { type: 'ping' });
 * await pool.close();
 * ```
 */
export async function createThreadPool<D extends WorkerDefinition<any, any, any> = WorkerDefinition>(
  options: CreateThreadPoolOptions,
): Promise<WorkerPool<ThreadWorker<EventOf<D>, ResultOf<D>>>> {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(`Expected an options object, got ${options === null ? 'null' : typeof options}.`);
  const { workers, store = new MemoryKvStore(), ...rest } = options;
  if (!Number.isSafeInteger(workers) || workers < 1)
    throw new InvalidArgumentError(`Expected \`workers\` to be an integer >= 1, got ${String(workers)}.`);
  // `total` changes when the pool is resized: a worker checks `ctx.kv` ownership against it.
  return WorkerPool.create(workers, (id, total) =>
    ThreadWorker.create<EventOf<D>, ResultOf<D>>({ ...rest, store, id, workers: total }),
  );
}
