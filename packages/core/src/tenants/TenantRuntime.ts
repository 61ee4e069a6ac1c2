import {
  BroadcastUnsupportedError,
  InvalidArgumentError,
  ScriptsUnsupportedError,
  WorkerKilledError,
} from '../errors/errors.js';
import { markUserError } from '../errors/serialize.js';
import type { CancelSignal } from '../internal/abort.js';
import { abortErrorFrom, raceSignal } from '../internal/abort.js';
import { isPromiseLike } from '../internal/values.js';
import type { TenantKv } from '../kv/KvStore.js';
import type { TenantContext, WorkerContext, WorkerDefinition } from './defineWorker.js';
import type { TenantId } from './TenantId.js';
import { cachedTenantKey } from './TenantId.js';
import type { JobSettle } from './TenantQueue.js';
import { TenantQueue } from './TenantQueue.js';
import type { TenantHandoff, WorkerStats } from './WorkerLike.js';

export type { CancelSignal } from '../internal/abort.js';

/** Options of {@link TenantRuntime}. */
export interface TenantRuntimeOptions {
  /** The id of the worker the runtime runs in. */
  workerId: number;
  /**
   * Gives each tenant its key-value storage (`ctx.kv`).
   */
  kv: (tenant: TenantId) => TenantKv;
  /**
   * Data the pool was created with, exposed as `ctx.workerData`.
   * @default undefined
   */
  workerData?: unknown;
  /**
   * Told when the handler of a call given a `probe` starts, when its synchronous part returns, and
   * when it ends (the probe is passed back as is): how a host names the event running when its
   * thread dies, and how handlers are timed.
   * @default undefined
   */
  watch?: HandlerWatch;
}

/**
 * Follows the handlers of the calls given a probe (`TenantRuntime.dispatch(..., probe)`): each
 * method receives that probe. `started` is called right before the handler, `returned` once its
 * synchronous part returned or threw, `ended` once it finished (its promise settled).
 */
export interface HandlerWatch {
  started(probe: unknown): void;
  returned(probe: unknown): void;
  ended(probe: unknown): void;
}

interface TenantEntry<S> {
  readonly tenant: TenantId;
  readonly queue: TenantQueue;
  readonly ctx: TenantCtx;
  hasState: boolean;
  state: S | undefined;
}

/**
 * A tenant's context: the worker's fields, the tenant, and its kv made on first use. A runtime
 * holds one per tenant, most of them idle: this keeps an idle tenant small.
 */
class TenantCtx implements TenantContext {
  /** The `traceparent` of the tenant's event running now (set by the runtime before it starts). */
  traceparent: string | undefined = undefined;
  readonly #worker: WorkerContext;
  readonly #makeKv: (tenant: TenantId) => TenantKv;
  #kv: TenantKv | undefined;

  constructor(
    worker: WorkerContext,
    readonly tenant: TenantId,
    makeKv: (tenant: TenantId) => TenantKv,
  ) {
    this.#worker = worker;
    this.#makeKv = makeKv;
  }

  get workerId(): number {
    return this.#worker.workerId;
  }

  get signal(): AbortSignal {
    return this.#worker.signal;
  }

  get workerData(): unknown {
    return this.#worker.workerData;
  }

  get kv(): TenantKv {
    return (this.#kv ??= this.#makeKv(this.tenant));
  }
}

/**
 * The worker-side engine every topology runs: it keeps each tenant's state, creates it on the
 * tenant's first event, runs one tenant's events strictly in order (each tenant has its own
 * small queue: a backlog of synchronous handlers runs in one loop, with no promise per event) and
 * different tenants' events concurrently. `LocalWorker` drives it directly; the
 * thread and process entries drive it from messages.
 */
export class TenantRuntime<S = unknown, E = unknown, R = unknown> {
  readonly #definition: WorkerDefinition<S, E, R>;
  readonly #options: TenantRuntimeOptions;
  readonly #controller = new AbortController();
  readonly #tenants = new Map<string, TenantEntry<S>>();
  readonly #inflight = new Set<(error: unknown) => void>();
  readonly #context: WorkerContext;
  readonly #kvFor: (tenant: TenantId) => TenantKv;
  readonly #watch: HandlerWatch | undefined;
  #started: Promise<void> | undefined;
  #startupDone = false;
  #state: 'open' | 'closing' | 'killed' = 'open';
  #queued = 0;
  #withState = 0;
  #handled = 0;
  #failed = 0;

  constructor(definition: WorkerDefinition<S, E, R>, options: TenantRuntimeOptions) {
    this.#definition = definition;
    this.#options = options;
    this.#kvFor = (tenant) => options.kv(tenant);
    this.#watch = options.watch;
    this.#context = Object.freeze({
      workerId: options.workerId,
      signal: this.#controller.signal,
      workerData: options.workerData,
    });
  }

  /** Aborts when the runtime is killed or closed. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Runs the definition's `startup` hook once; events wait for it. Safe to call more than once. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      try {
        await this.#definition.startup?.(this.#context);
      } catch (error) {
        throw markUserError(error);
      }
      this.#startupDone = true;
    })();
    return this.#started;
  }

  /**
   * Handles `event` for `tenant` after the tenant's earlier events; `traceparent` becomes
   * `ctx.traceparent`; `probe` is handed to the `watch` option's methods when the handler runs.
   */
  dispatch(
    tenant: TenantId,
    event: E,
    signal?: CancelSignal,
    traceparent?: string,
    probe?: unknown,
  ): Promise<Awaited<R>> {
    return this.#run(
      tenant,
      signal,
      (state, ctx) => this.#definition.onEvent(state, event, ctx),
      true,
      traceparent,
      probe,
    );
  }

  /** Runs a script in `tenant`'s state through the definition's script engine. */
  runScript(
    tenant: TenantId,
    name: string,
    code: string,
    event: E,
    signal?: CancelSignal,
    traceparent?: string,
    probe?: unknown,
  ): Promise<Awaited<R>> {
    const engine = this.#definition.scriptEngine;
    if (engine === undefined) return Promise.reject(new ScriptsUnsupportedError());
    // The engine is framework code: what it raises (limits, timeouts) keeps its class across boundaries.
    return this.#run(
      tenant,
      signal,
      (state, ctx) => engine.run(state, { name, code }, event, ctx),
      false,
      traceparent,
      probe,
    );
  }

  /**
   * Runs the definition's `onBroadcast(message, ctx)` once, after `startup`, beside the tenants'
   * events. Rejects with `BroadcastUnsupportedError` when the definition has none.
   */
  broadcast(message: unknown, signal?: CancelSignal): Promise<unknown> {
    const refused = this.#refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const hook = this.#definition.onBroadcast;
    if (hook === undefined) return Promise.reject(new BroadcastUnsupportedError());
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The broadcast'));
    const run = async (): Promise<unknown> => {
      if (!this.#startupDone) await this.start();
      if (signal?.aborted) throw abortErrorFrom(signal, 'The broadcast');
      try {
        return await hook.call(this.#definition, message, this.#context);
      } catch (error) {
        throw markUserError(error);
      }
    };
    return raceSignal(run(), signal, 'The broadcast');
  }

  /** Forgets `tenant`'s state once its queued events are done, calling the `dropTenant` hook. */
  dropTenant(tenant: TenantId): Promise<void> {
    const refused = this.#refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const key = cachedTenantKey(tenant);
    const entry = this.#tenants.get(key);
    if (entry === undefined) return Promise.resolve();
    return entry.queue.enqueue(() => this.#release(entry)).then(() => this.#forget(key, entry));
  }

  /**
   * Forgets a tenant's entry unless events arrived for the tenant after it was released. Its queue
   * is idle and empty, so it is left to the garbage collector (killing it would build an error per tenant).
   */
  #forget(key: string, entry: TenantEntry<S>): void {
    if (!entry.hasState && !entry.queue.busy && entry.queue.queued === 0 && this.#tenants.get(key) === entry)
      this.#tenants.delete(key);
  }

  // ---------------------------------------------------------------------------------------------
  // Live resharding: a tenant leaves this worker (handoff) or arrives from another (adopt)
  // ---------------------------------------------------------------------------------------------

  /** The tenants this runtime holds state or accepted events for (dropped ones are forgotten). */
  heldTenants(): TenantId[] {
    return Array.from(this.#tenants.values(), (entry) => entry.tenant);
  }

  /**
   * After `tenant`'s queued events: exports its state with the definition's `exportTenant` (when
   * it has one), releases it (`dropTenant` hooks, also when the export fails) and forgets it.
   * Resolves with the exported data, or `undefined` when there was no state to carry.
   */
  handOffTenant(tenant: TenantId): Promise<TenantHandoff | undefined> {
    const refused = this.#refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const key = cachedTenantKey(tenant);
    const entry = this.#tenants.get(key);
    if (entry === undefined) return Promise.resolve(undefined);
    const exportTenant = this.#definition.exportTenant;
    return entry.queue
      .enqueue(async () => {
        let handoff: TenantHandoff | undefined;
        try {
          if (entry.hasState && exportTenant !== undefined) {
            try {
              handoff = { data: await exportTenant(entry.state as S, entry.ctx) };
            } catch (error) {
              throw markUserError(error);
            }
          }
        } finally {
          await this.#release(entry);
        }
        return handoff;
      })
      .finally(() => this.#forget(key, entry)) as Promise<TenantHandoff | undefined>;
  }

  /**
   * Takes over a tenant another worker handed off: before its next event, its state is built by the
   * definition's `importTenant` from `handoff.data` (a state it already had here is released first).
   */
  adoptTenant(tenant: TenantId, handoff: TenantHandoff): Promise<void> {
    const refused = this.#refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const importTenant = this.#definition.importTenant;
    if (importTenant === undefined)
      return Promise.reject(
        new InvalidArgumentError('Expected a definition with `importTenant` to adopt a handed-off tenant.'),
      );
    const entry = this.#entry(tenant);
    return entry.queue.enqueue(async () => {
      if (!this.#startupDone) await this.start();
      await this.#release(entry);
      let state: S;
      try {
        state = await importTenant(handoff.data, entry.ctx);
      } catch (error) {
        throw markUserError(error);
      }
      entry.state = state;
      entry.hasState = true;
      if (this.#state !== 'killed') this.#withState++;
    }) as Promise<void>;
  }

  /** Counters for status boards. */
  stats(): WorkerStats {
    return {
      id: this.#options.workerId,
      tenants: this.#withState,
      queued: this.#queued,
      handled: this.#handled,
      failed: this.#failed,
    };
  }

  /** Stops at once: queued events reject with `WorkerKilledError`, the worker signal aborts. */
  kill(reason?: unknown): void {
    if (this.#state === 'killed') return;
    this.#state = 'killed';
    this.#controller.abort(reason ?? new WorkerKilledError(`Worker ${this.#options.workerId} was killed.`));
    const error = new WorkerKilledError(`Worker ${this.#options.workerId} was killed while the event was in flight.`, {
      cause: reason,
    });
    for (const fail of [...this.#inflight]) fail(error);
    // Waiting no-wait events are told too (waited ones were just rejected above).
    for (const entry of this.#tenants.values()) entry.queue.kill(reason);
    this.#tenants.clear();
    this.#withState = 0;
  }

  /** Accepts nothing new, finishes every accepted event, releases every tenant, then aborts the signal. */
  async close(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    for (;;) {
      const busy = [...this.#tenants.values()].filter((entry) => entry.queue.busy || entry.queue.queued > 0);
      if (busy.length === 0) break;
      await Promise.all(busy.map((entry) => entry.queue.idle()));
    }
    for (const entry of this.#tenants.values()) {
      try {
        await this.#release(entry);
      } catch {
        // A failing dropTenant hook must not keep the worker from closing.
      }
    }
    this.kill(new WorkerKilledError(`Worker ${this.#options.workerId} was closed.`));
  }

  #refusal(): WorkerKilledError | undefined {
    if (this.#state === 'open') return undefined;
    return new WorkerKilledError(
      `Worker ${this.#options.workerId} was ${this.#state === 'killed' ? 'killed' : 'closed'}; it accepts no more events.`,
      {
        cause: this.#state === 'killed' ? this.signal.reason : undefined,
      },
    );
  }

  #entry(tenant: TenantId): TenantEntry<S> {
    const key = cachedTenantKey(tenant);
    let entry = this.#tenants.get(key);
    if (entry === undefined) {
      entry = {
        tenant,
        queue: new TenantQueue(),
        ctx: new TenantCtx(this.#context, tenant, this.#kvFor),
        hasState: false,
        state: undefined,
      };
      this.#tenants.set(key, entry);
    }
    return entry;
  }

  /**
   * Handles `event` for `tenant` without a promise for the caller: the cheap path for
   * fire-and-forget events, and for hosts that report results themselves. Throws
   * `WorkerKilledError` at once when the runtime was killed or closed; `onError` receives the
   * handler's error, `onDone` the handler's value when it succeeded. A handler that returns
   * synchronously is reported before this returns when the tenant was idle, and a tenant's backlog
   * of synchronous handlers runs in one loop.
   */
  dispatchNoWait(
    tenant: TenantId,
    event: E,
    onError: (error: unknown) => void,
    onDone?: (value: Awaited<R>) => void,
    traceparent?: string,
    probe?: unknown,
  ): void {
    const refused = this.#refusal();
    if (refused !== undefined) throw refused;
    this.#queued++;
    this.#push(
      this.#entry(tenant),
      undefined,
      (state, ctx) => this.#definition.onEvent(state, event, ctx),
      true,
      traceparent,
      probe,
      (ok, value) => {
        this.#queued--;
        if (ok) onDone?.(value as Awaited<R>);
        else onError(value);
      },
    );
  }

  #run(
    tenant: TenantId,
    signal: CancelSignal | undefined,
    handle: (state: S, ctx: TenantContext) => R | Promise<R>,
    userCode = true,
    traceparent?: string,
    probe?: unknown,
  ): Promise<Awaited<R>> {
    const refused = this.#refusal();
    if (refused !== undefined) return Promise.reject(refused);
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The dispatch'));
    this.#queued++;
    // The caller's promise settles with the job, or earlier when its signal aborts or the
    // worker is killed (a running handler cannot be stopped, but nobody waits for it in vain).
    return new Promise<Awaited<R>>((resolve, reject) => {
      const fail = (error: unknown): void => {
        signal?.removeEventListener('abort', onAbort);
        this.#inflight.delete(fail);
        reject(error);
      };
      const onAbort = (): void => fail(abortErrorFrom(signal!, 'The dispatch'));
      this.#inflight.add(fail);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#push(this.#entry(tenant), signal, handle, userCode, traceparent, probe, (ok, value) => {
        this.#queued--;
        if (!ok) return fail(value);
        signal?.removeEventListener('abort', onAbort);
        this.#inflight.delete(fail);
        resolve(value as Awaited<R>);
      });
    });
  }

  /** Queues `handle` on the tenant's own queue, after the tenant's earlier events; `settle` is told how it ended. */
  #push(
    entry: TenantEntry<S>,
    signal: CancelSignal | undefined,
    handle: (state: S, ctx: TenantContext) => R | Promise<R>,
    userCode: boolean,
    traceparent: string | undefined,
    probe: unknown,
    settle: JobSettle,
  ): void {
    entry.queue.push(() => {
      // An event whose signal aborted while it waited never runs.
      if (signal?.aborted) throw abortErrorFrom(signal, 'The dispatch');
      entry.ctx.traceparent = traceparent;
      // Warm path: no promise of our own when the tenant exists and the handler is synchronous.
      if (this.#startupDone && entry.hasState) return this.#invoke(entry, handle, userCode, probe);
      return this.#prepare(entry).then(() => {
        // Aborted while the tenant's state was being created: the handler still never runs.
        if (signal?.aborted) throw abortErrorFrom(signal, 'The dispatch');
        return this.#invoke(entry, handle, userCode, probe);
      });
    }, settle);
  }

  async #prepare(entry: TenantEntry<S>): Promise<void> {
    if (!this.#startupDone) await this.start();
    if (!entry.hasState) {
      try {
        entry.state = await this.#definition.createTenant(entry.tenant, entry.ctx);
      } catch (error) {
        throw markUserError(error);
      }
      entry.hasState = true;
      if (this.#state !== 'killed') this.#withState++;
    }
  }

  /**
   * Calls `handle`, counting it. What user code throws is marked (`markUserError`), so that a handler
   * cannot pass its error off as one the framework raised once it crosses a thread or socket.
   */
  #invoke(
    entry: TenantEntry<S>,
    handle: (state: S, ctx: TenantContext) => R | Promise<R>,
    userCode: boolean,
    probe: unknown,
  ): R | Promise<R> {
    const watch = probe === undefined ? undefined : this.#watch;
    let result: R | Promise<R>;
    watch?.started(probe);
    try {
      result = handle(entry.state as S, entry.ctx);
    } catch (error) {
      this.#handled++;
      this.#failed++;
      if (watch !== undefined) {
        watch.returned(probe);
        watch.ended(probe);
      }
      throw userCode ? markUserError(error) : error;
    }
    watch?.returned(probe);
    if (isPromiseLike(result)) {
      return (result as Promise<R>).then(
        (value) => {
          this.#handled++;
          watch?.ended(probe);
          return value;
        },
        (error: unknown) => {
          this.#handled++;
          this.#failed++;
          watch?.ended(probe);
          throw userCode ? markUserError(error) : error;
        },
      );
    }
    this.#handled++;
    watch?.ended(probe);
    return result;
  }

  async #release(entry: TenantEntry<S>): Promise<void> {
    if (!entry.hasState) return;
    const state = entry.state as S;
    entry.hasState = false;
    entry.state = undefined;
    this.#withState--;
    try {
      await this.#definition.dropTenant?.(state, entry.ctx);
    } finally {
      await this.#definition.scriptEngine?.dropTenant?.(state, entry.ctx);
    }
  }
}
