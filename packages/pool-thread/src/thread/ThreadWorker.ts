import type { ResourceLimits } from 'node:worker_threads';
import type { RemoteWorkerOptions, RemoteWorkerStats } from '@switchyard/core';
import { InvalidArgumentError, RemoteWorker, whyNotCloneable } from '@switchyard/core';
import { checkObject, moduleUrl } from '@switchyard/core/internal';
import { ThreadLink } from './ThreadLink.js';

/** Options of {@link ThreadWorker}: the shared {@link RemoteWorkerOptions}, plus what a thread needs. */
export interface ThreadWorkerOptions extends RemoteWorkerOptions {
  /**
   * The module the thread runs: a path (relative to the working directory) or a `file:` URL of a
   * JavaScript module exporting a `defineWorker(...)` definition (as `default`, `worker`, or its
   * only definition).
   */
  filename: string | URL;
  /**
   * Exposed to the definition's hooks as `ctx.workerData` (and as `workerData` of
   * `node:worker_threads`); cloned into every thread, so a `SharedArrayBuffer` inside is shared.
   * @default undefined
   */
  workerData?: unknown;
  /**
   * Heap and stack limits of the thread; exceeding them is a crash (`ERR_WORKER_OUT_OF_MEMORY`).
   * @default undefined (Node's defaults)
   */
  resourceLimits?: ResourceLimits;
}

/** {@link RemoteWorkerStats} plus the thread's id and how many transfers went to it. */
export interface ThreadWorkerStats extends RemoteWorkerStats {
  /** The current thread's `threadId`, when one runs. */
  threadId: number | undefined;
  /** Transfers sent to threads so far (one carries every event that waited). */
  batches: number;
}

function threadLink(options: ThreadWorkerOptions): ThreadLink {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(`Expected an options object, got ${options === null ? 'null' : typeof options}.`);
  const { filename, workerData, resourceLimits } = options;
  checkObject('resourceLimits', resourceLimits);
  const why = whyNotCloneable(workerData);
  if (why !== undefined) throw new InvalidArgumentError(`Expected \`workerData\` to be structured-cloneable: ${why}.`);
  return new ThreadLink({ url: moduleUrl(filename, 'filename').href, workerData, resourceLimits });
}

/**
 * A {@link WorkerLike} whose tenants live in one dedicated worker thread: core's `RemoteWorker`
 * over a thread link. The thread loads the module at `filename` and runs its `defineWorker`
 * definition with core's `TenantRuntime` (per-tenant order, tenants concurrent, `startup` before
 * the first event); the events that wait when the thread has room travel as one message.
 *
 * A thread that crashes (uncaught exception, `process.exit()`, out of memory) or stops answering
 * liveness probes (`while (true) {}`) fails the events in flight on it with `WorkerCrashedError`,
 * emits `crash`, and is restarted with backoff; after too many consecutive failures the worker
 * emits `fatal` and rejects with `WorkerUnavailableError`.
 *
 * @example
 * ```ts
 * const worker = await ThreadWorker.create<Event, number>({ filename: new URL('./counter.js', import.meta.url) });
 * await worker.dispatch({ kind: 'guild', id: '81384788765712384' }, { type: 'ping' });
 * await worker.close();
 * ```
 */
export class ThreadWorker<E = unknown, R = unknown> extends RemoteWorker<E, R> {
  readonly #link: ThreadLink;

  /** Starts the thread at once; events wait for it. Prefer {@link ThreadWorker.create}, which waits until it started. */
  constructor(options: ThreadWorkerOptions) {
    const link = threadLink(options);
    super(link, options);
    this.#link = link;
  }

  /**
   * Starts a worker and resolves once its thread loaded the module and ran `startup`. Rejects with
   * `ThreadStartError` (`ERR_THREAD_START`) when the module cannot be loaded or exports no
   * definition, and with `WorkerUnavailableError` when the thread keeps crashing at start.
   */
  static async create<E = unknown, R = unknown>(options: ThreadWorkerOptions): Promise<ThreadWorker<E, R>> {
    const worker = new ThreadWorker<E, R>(options);
    await worker.ready;
    return worker;
  }

  /** Counters for status boards (see {@link ThreadWorkerStats}). */
  override stats(): ThreadWorkerStats {
    const stats = super.stats();
    return {
      ...stats,
      threadId: stats.state === 'running' ? this.#link.threadId : undefined,
      batches: this.#link.batches,
    };
  }
}
