import type { WorkerPoolOptions } from '@switchyard/core';
import { MemoryKvStore, WorkerPool } from '@switchyard/core';
import { InvalidProcessOptionError, WorkerStartError } from '../errors/errors.js';
import type { HubOptions } from '../hub/Hub.js';
import { createHub, Hub } from '../hub/Hub.js';
import type { ProcessWorkerOptions } from './ProcessWorker.js';
import { ProcessWorker } from './ProcessWorker.js';

/** Options of {@link createProcessPool}: those of every {@link ProcessWorker}, plus how many and which hub. */
export interface ProcessPoolOptions extends Omit<ProcessWorkerOptions, 'id' | 'workers' | 'hub'> {
  /** How many worker processes (tenants are sharded over them with `shardFor`). */
  workers: number;
  /**
   * The hub the workers connect to: a {@link Hub} you created (and close yourself), or options for
   * the one the pool creates (and closes with the pool).
   * @default a hub on 127.0.0.1, random port, random secret
   */
  hub?: Hub | HubOptions;
  /**
   * The pool's own id (when pools are nested).
   * @default 0
   */
  id?: WorkerPoolOptions['id'];
}

/**
 * A `WorkerPool` of {@link ProcessWorker}s together with its {@link Hub}. `kill()` and `close()`
 * stop every worker process, and close the hub when the pool created it.
 */
export class ProcessPool<E = unknown, R = unknown> extends WorkerPool<ProcessWorker<E, R>> {
  /** The hub the workers are connected to. */
  readonly hub: Hub;
  readonly #ownsHub: boolean;

  constructor(
    workers: readonly ProcessWorker<E, R>[],
    hub: Hub,
    ownsHub: boolean,
    options: WorkerPoolOptions<ProcessWorker<E, R>> = {},
    make?: (id: number, total: number) => ProcessWorker<E, R>,
  ) {
    // What resize() adds: a worker process started with the new pool size, connected before it gets tenants.
    const factory =
      make === undefined
        ? options.factory
        : async (id: number, total: number): Promise<ProcessWorker<E, R>> => {
            const worker = make(id, total);
            try {
              await worker.start();
            } catch (error) {
              await worker.kill();
              throw error;
            }
            return worker;
          };
    super(workers, { ...options, factory });
    this.hub = hub;
    this.#ownsHub = ownsHub;
  }

  override async kill(reason?: unknown): Promise<void> {
    await super.kill(reason);
    if (this.#ownsHub) await this.hub.close();
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.#ownsHub) await this.hub.close();
  }
}

/**
 * Starts `workers` worker processes connected to a hub, and resolves with their pool once every
 * one of them has connected. Each process runs `node <entry> --worker-id <i> --process-workers <n>`
 * with the hub's URL and its own secret token in its environment (never on its command line).
 * Rejects with `WorkerStartError` (naming the workers that did not connect) when some did not
 * within `startTimeoutMs`; the ones that did are killed.
 *
 * @example
 * ```ts
 * // worker.js: export const worker = defineWorker({ createTenant: () => ({ n: 0 }), onEvent: (s) => ++s.n });
 * const pool = await createProcessPool({ workers: 2, module: fileURLToPath(new URL('./worker.js', import.meta.url)) });
 * pool.on('crash', ({ workerId, cause }) => console.warn(`worker ${workerId} crashed`, cause));
 * await pool.dispatch({ kind: 'guild', id: '81384788765712384' }, { type: 'ping' });
 * await pool.close();
 * ```
 */
export async function createProcessPool<E = unknown, R = unknown>(
  options: ProcessPoolOptions,
): Promise<ProcessPool<E, R>> {
  if (options === null || typeof options !== 'object')
    throw new InvalidProcessOptionError(
      `Expected pool options to be an object, got ${options === null ? 'null' : typeof options}.`,
    );
  const { workers: count, hub: hubOption, id, store = new MemoryKvStore(), ...workerOptions } = options;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1)
    throw new InvalidProcessOptionError(`Expected \`workers\` to be an integer >= 1, got ${String(count)}.`);
  const ownsHub = !(hubOption instanceof Hub);
  const hub = hubOption instanceof Hub ? hubOption : await createHub(hubOption ?? {});
  let workers: ProcessWorker<E, R>[];
  const make = (i: number, total: number): ProcessWorker<E, R> =>
    new ProcessWorker<E, R>({ ...workerOptions, store, id: i, workers: total, hub });
  try {
    workers = Array.from({ length: count }, (_, i) => make(i, count));
  } catch (error) {
    if (ownsHub) await hub.close();
    throw error;
  }
  const started = await Promise.allSettled(workers.map((worker) => worker.start()));
  const failed = started.flatMap((result, i) =>
    result.status === 'rejected' ? [{ id: i, reason: result.reason as Error }] : [],
  );
  if (failed.length > 0) {
    await Promise.allSettled(workers.map((worker) => worker.kill()));
    if (ownsHub) await hub.close();
    const names = failed.map(({ id: workerId }) => workerId).join(', ');
    const details = failed
      .map(({ id: workerId, reason }) => `worker ${workerId}: ${reason?.message ?? String(reason)}`)
      .join('\n');
    throw new WorkerStartError(
      `${failed.length === 1 ? 'Worker' : 'Workers'} ${names} of ${count} did not connect to the hub:\n${details}`,
      {
        workerIds: failed.map(({ id: workerId }) => workerId),
        cause: failed[0]!.reason,
      },
    );
  }
  return new ProcessPool<E, R>(workers, hub, ownsHub, id === undefined ? {} : { id }, make);
}
