import { EventEmitter } from 'node:events';
import { HandlerTimeoutError, InvalidArgumentError } from '../errors/errors.js';
import { abortErrorFrom, raceSignal } from '../internal/abort.js';
import { checkInteger } from '../internal/options.js';
import type { KvStore } from '../kv/KvStore.js';
import { MemoryKvStore, tenantKv } from '../kv/MemoryKvStore.js';
import type { WorkerDefinition } from './defineWorker.js';
import { isWorkerDefinition } from './defineWorker.js';
import type { TenantId } from './TenantId.js';
import { assertTenantId } from './TenantId.js';
import { TenantRuntime } from './TenantRuntime.js';
import { checkTraceparent, traced, traceEnd, traceStart } from '../tracing/channels.js';
import type { DispatchOptions, TenantHandoff, WorkerLike, WorkerLikeEvents, WorkerStats } from './WorkerLike.js';

/** Options of {@link LocalWorker}. */
export interface LocalWorkerOptions {
  /**
   * The worker's id (its position in a pool).
   * @default 0
   */
  id?: number;
  /**
   * Where `ctx.kv` stores tenants' data.
   * @default new MemoryKvStore()
   */
  store?: KvStore;
  /**
   * Exposed to the definition's hooks as `ctx.workerData`.
   * @default undefined
   */
  workerData?: unknown;
  /**
   * The deadline of every waited call that does not pass its own `timeoutMs`: past it the call
   * rejects with `HandlerTimeoutError` (a handler already running here cannot be stopped).
   * @default Infinity (no deadline)
   */
  timeoutMs?: number;
}

function validTenant(tenant: TenantId): Error | undefined {
  try {
    assertTenantId(tenant);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/**
 * A {@link WorkerLike} that runs a `defineWorker` definition in this thread: for tests, small
 * deployments, and as the reference the thread and process topologies are checked against.
 * Events are passed by reference (nothing is cloned).
 *
 * @example
 * ```ts
 * const worker = new LocalWorker(counter, { id: 0 });
 * await worker.dispatch({ kind: 'guild', id: '81384788765712384' }, { type: 'ping' });
 * await worker.close();
 * ```
 */
export class LocalWorker<S = unknown, E = unknown, R = unknown>
  extends EventEmitter<WorkerLikeEvents>
  implements WorkerLike<E, Awaited<R>>
{
  readonly id: number;
  readonly size = 1;
  readonly #runtime: TenantRuntime<S, E, R>;
  readonly #timeoutMs: number;

  constructor(definition: WorkerDefinition<S, E, R>, options: LocalWorkerOptions = {}) {
    super();
    if (!isWorkerDefinition(definition)) {
      throw new InvalidArgumentError('Expected a worker definition made by defineWorker(), got something else.');
    }
    const { id = 0, store = new MemoryKvStore(), workerData, timeoutMs = Infinity } = options;
    this.#timeoutMs = checkInteger('timeoutMs', timeoutMs, 1, true);
    if (!Number.isSafeInteger(id) || id < 0)
      throw new InvalidArgumentError(`Expected \`id\` to be an integer >= 0, got ${String(id)}.`);
    this.id = id;
    this.#runtime = new TenantRuntime(definition, {
      workerId: id,
      workerData,
      kv: (tenant) => tenantKv(store, tenant),
    });
    // Startup runs before the first event; a failure is reported to the events that wait for it.
    this.#runtime.start().catch(() => undefined);
  }

  dispatch(tenant: TenantId, event: E, options: DispatchOptions = {}): Promise<Awaited<R>> {
    const invalid = validTenant(tenant);
    if (invalid !== undefined) return Promise.reject(invalid);
    let traceparent: string | undefined;
    try {
      traceparent = checkTraceparent(options.traceparent);
    } catch (error) {
      return Promise.reject(error);
    }
    const trace = traceStart(this, tenant, 'event', event, false, traceparent);
    return traced(
      this.#withDeadline(tenant, options, (signal) =>
        this.#runtime.dispatch(tenant, event, signal, trace?.traceparent),
      ),
      trace,
    );
  }

  dispatchNoWait(tenant: TenantId, event: E): void {
    assertTenantId(tenant);
    const trace = traceStart(this, tenant, 'event', event, true, undefined);
    this.#runtime.dispatchNoWait(
      tenant,
      event,
      (error) => {
        if (trace !== undefined) traceEnd(trace, false, error);
        this.emit('dispatchError', { workerId: this.id, tenant, error: error as Error, event });
      },
      trace === undefined ? undefined : () => traceEnd(trace, true, undefined),
      trace?.traceparent,
    );
  }

  runScript(
    tenant: TenantId,
    name: string,
    code: string,
    event: E,
    options: DispatchOptions = {},
  ): Promise<Awaited<R>> {
    const invalid = validTenant(tenant);
    if (invalid !== undefined) return Promise.reject(invalid);
    let traceparent: string | undefined;
    try {
      traceparent = checkTraceparent(options.traceparent);
    } catch (error) {
      return Promise.reject(error);
    }
    const trace = traceStart(this, tenant, 'script', event, false, traceparent);
    return traced(
      this.#withDeadline(tenant, options, (signal) =>
        this.#runtime.runScript(tenant, name, code, event, signal, trace?.traceparent),
      ),
      trace,
    );
  }

  /** Runs `run` with the caller's signal, aborted too at the call's deadline (then it rejects with `HandlerTimeoutError`). */
  #withDeadline<T>(
    tenant: TenantId,
    options: DispatchOptions,
    run: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const { signal } = options;
    let timeoutMs: number;
    try {
      timeoutMs =
        options.timeoutMs === undefined ? this.#timeoutMs : checkInteger('timeoutMs', options.timeoutMs, 1, true);
    } catch (error) {
      return Promise.reject(error);
    }
    if (timeoutMs === Infinity) return run(signal);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    return run(controller.signal).then(
      (value) => {
        done();
        return value;
      },
      (error: unknown) => {
        done();
        if (!timedOut) throw error;
        throw new HandlerTimeoutError(
          `The handler for tenant ${tenant.kind}:${tenant.id} did not finish within ${timeoutMs} ms.`,
        );
      },
    );
  }

  dropTenant(tenant: TenantId, options: DispatchOptions = {}): Promise<void> {
    const invalid = validTenant(tenant);
    if (invalid !== undefined) return Promise.reject(invalid);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The drop'));
    return raceSignal(this.#runtime.dropTenant(tenant), signal, 'The drop');
  }

  stats(): WorkerStats {
    return this.#runtime.stats();
  }

  // Live resharding (WorkerPool.resize)

  heldTenants(): TenantId[] {
    return this.#runtime.heldTenants();
  }

  handOffTenant(tenant: TenantId, options: DispatchOptions = {}): Promise<TenantHandoff | undefined> {
    const invalid = validTenant(tenant);
    if (invalid !== undefined) return Promise.reject(invalid);
    return this.#withDeadline(tenant, { timeoutMs: Infinity, ...options }, (signal) =>
      raceSignal(this.#runtime.handOffTenant(tenant), signal, 'The handoff'),
    );
  }

  adoptTenant(tenant: TenantId, handoff: TenantHandoff, options: DispatchOptions = {}): Promise<void> {
    const invalid = validTenant(tenant);
    if (invalid !== undefined) return Promise.reject(invalid);
    return this.#withDeadline(tenant, { timeoutMs: Infinity, ...options }, (signal) =>
      raceSignal(this.#runtime.adoptTenant(tenant, handoff), signal, 'The adoption'),
    );
  }

  async kill(reason?: unknown): Promise<void> {
    this.#runtime.kill(reason);
  }

  close(): Promise<void> {
    return this.#runtime.close();
  }

  /** Calls {@link LocalWorker.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
