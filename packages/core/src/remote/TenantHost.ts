import { getHeapStatistics } from 'node:v8';
import { HandlerStillRunningError, InvalidArgumentError, ResultNotCloneableError } from '../errors/errors.js';
import { AbortError } from '../errors/SwitchyardError.js';
import type { SerializedError } from '../errors/serialize.js';
import { deserializeError, serializeError } from '../errors/serialize.js';
import { assertCloneable } from '../internal/cloneable.js';
import type { TenantKv } from '../kv/KvStore.js';
import type { TenantContext, WorkerDefinition } from '../tenants/defineWorker.js';
import type { TenantId } from '../tenants/TenantId.js';
import type { TenantHandoff } from '../tenants/WorkerLike.js';
import { parseTenantKey, tenantKey } from '../tenants/TenantId.js';
import type { CancelSignal, HandlerWatch } from '../tenants/TenantRuntime.js';
import { TenantRuntime } from '../tenants/TenantRuntime.js';
import type { IncarnationStats, KvCall, LinkOp } from './WorkerLink.js';

/** A cancellable event on its way through the runtime: the host sees when its handler really runs and ends. */
class Tracked {
  constructor(
    readonly id: number,
    readonly event: unknown,
  ) {}
}

/** The probe of a timed item (see {@link TenantHost.run}): when its handler started, how long it ran. Other items' probe is their id. */
class Timed {
  startedAt = 0;
  /** `NaN` until the handler ended. */
  handlingMs = NaN;
  constructor(readonly id: number) {}
}

/** How long the handler of the item with this probe ran (ms), `NaN` when it was not timed or has not run. */
const handlingMsOf = (probe: number | Timed): number => (typeof probe === 'number' ? NaN : probe.handlingMs);

/**
 * The signal of a cancellable item whose cancel the master can also flag in shared memory: read
 * when the runtime is about to start the item, it sees a cancel that is still in transit as a message.
 */
class GatedSignal implements CancelSignal {
  constructor(
    readonly controller: AbortController,
    readonly cancelled: () => boolean,
  ) {}

  get aborted(): boolean {
    const { signal } = this.controller;
    if (!signal.aborted && this.cancelled()) this.controller.abort(new AbortError('The master aborted the dispatch.'));
    return signal.aborted;
  }

  get reason(): unknown {
    return this.controller.signal.reason;
  }

  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void {
    this.controller.signal.addEventListener(type, listener, options);
  }

  removeEventListener(type: 'abort', listener: () => void): void {
    this.controller.signal.removeEventListener(type, listener);
  }
}

/** What a turn's results look like when they leave the worker: flat arrays, cheap to clone or encode. */
export interface HostResults {
  /** Items that succeeded. */
  readonly ids: number[];
  /** Their values (`undefined` for items nobody waits for). */
  readonly values: unknown[];
  /** Items that failed. */
  readonly failedIds: number[];
  /** Their errors, serialized. */
  readonly errors: SerializedError[];
  readonly stats: IncarnationStats;
  /**
   * When some item of the turn was timed (see {@link TenantHost.run}): how long each handler ran
   * (ms), by position in `ids` then `failedIds`; `NaN` for the items that were not timed. One plain
   * array: a thread clones a `Float64Array` (a new `ArrayBuffer` on arrival) slower than a small array.
   */
  readonly handlingMs?: number[] | undefined;
}

/** Where a {@link TenantHost} sends what leaves the worker; the entry (thread, process) provides it. */
export interface TenantHostOutput {
  /** The results of one turn. May throw when a value cannot be sent: the host then sends them one by one. */
  results(results: HostResults): void;
  /** A `ctx.kv` call to the master; its answer comes back through {@link TenantHost.kvAnswer}. */
  kv(id: number, call: KvCall): void;
}

/** Options of {@link TenantHost}. */
export interface TenantHostOptions {
  workerId: number;
  /** Exposed as `ctx.workerData`. */
  workerData?: unknown;
  output: TenantHostOutput;
  /**
   * Where the host writes the id of the item whose handler runs synchronously now (`0`: none), in
   * slot 0. Over shared memory the master reads it when the thread dies or stops answering, to name
   * the event (and tenant) that was running rather than guess.
   * @default undefined
   */
  running?: Int32Array;
}

/**
 * The worker side of every remote topology, around core's {@link TenantRuntime}: it runs the items
 * the master sends (in arrival order, so a tenant's events keep their order across the boundary),
 * gives cancellable items an `AbortSignal` the master can abort, gathers the results of each turn
 * into one message, and carries `ctx.kv` calls to the master, which owns the store. The thread
 * entry and the process entry are thin wrappers that move its messages.
 */
export class TenantHost {
  readonly #runtime: TenantRuntime;
  readonly #output: TenantHostOutput;
  readonly #controllers = new Map<number, AbortController>();
  /** Cancellable items whose handler is running now. */
  readonly #running = new Set<number>();
  /** Items cancelled while their handler ran: reported when the handler really ends. */
  readonly #cancelledRunning = new Set<number>();
  readonly #kvCalls = new Map<number, { resolve: (value: any) => void; reject: (error: unknown) => void }>();
  #kvIds = 0;
  #ids: number[] = [];
  #values: unknown[] = [];
  #failedIds: number[] = [];
  #errors: SerializedError[] = [];
  #flushScheduled = false;
  #heapUsed = 0;
  #heapReadAt = -Infinity;
  /** By position in {@link #ids} and {@link #failedIds}: how long each timed handler ran, `NaN` for the others. */
  #idsMs: number[] = [];
  #failedMs: number[] = [];
  /** Items of this turn that were timed. */
  #timed = 0;
  readonly #runningSlot: Int32Array;

  constructor(definition: WorkerDefinition<any, any, any>, options: TenantHostOptions) {
    this.#output = options.output;
    this.#runningSlot = options.running ?? new Int32Array(1);
    const running = this.#runningSlot;
    // Every item's handler is watched (its probe: its id, or a Timed): the running slot, and the timed ones' clocks.
    const watch: HandlerWatch = {
      started: (probe) => {
        if (typeof probe === 'number') {
          Atomics.store(running, 0, probe);
          return;
        }
        const timed = probe as Timed;
        Atomics.store(running, 0, timed.id);
        timed.startedAt = performance.now();
      },
      returned: () => {
        Atomics.store(running, 0, 0);
      },
      ended: (probe) => {
        if (typeof probe === 'number') return;
        const timed = probe as Timed;
        timed.handlingMs = performance.now() - timed.startedAt;
      },
    };
    this.#runtime = new TenantRuntime(this.#trackingDefinition(definition), {
      workerId: options.workerId,
      workerData: options.workerData,
      kv: (tenant) => this.#kv(tenant),
      watch,
    });
  }

  /** The id of the item whose handler runs synchronously now, `0` when none does. */
  get running(): number {
    return Atomics.load(this.#runningSlot, 0);
  }

  /** Runs the definition's `startup`; a failure is reported to every event, as in `LocalWorker`. */
  async start(): Promise<void> {
    await this.#runtime.start().catch(() => undefined);
  }

  /** The runtime's counters, and the heap of this thread or process (what `recycle.maxHeapBytes` checks). */
  stats(): IncarnationStats {
    const { tenants, handled, failed } = this.#runtime.stats();
    const now = performance.now();
    // Read at most every few ms: it costs about a microsecond, and results leave many times as often.
    if (now - this.#heapReadAt >= 5) {
      this.#heapUsed = getHeapStatistics().used_heap_size;
      this.#heapReadAt = now;
    }
    return { tenants, handled, failed, heapUsed: this.#heapUsed };
  }

  /**
   * True when no accepted event is unfinished here and no cancellable item or `ctx.kv` call is
   * outstanding: nothing of the tenants' waits for this thread's event loop, so an entry may block
   * briefly waiting for the master's next message.
   */
  get idle(): boolean {
    return this.#controllers.size === 0 && this.#kvCalls.size === 0 && this.#runtime.stats().queued === 0;
  }

  /**
   * Runs one item the master sent. `payload` is `[name, code, event]` for scripts, the `TenantHandoff`
   * for adopt, the message for broadcasts (whose `key` is `''`). `cancelled`, for a cancellable item,
   * reads the master's cancel flag in shared memory (checked right before it starts). `traceparent`
   * is the W3C trace context of a traced event or script (the handler's `ctx.traceparent`). A
   * `timed` event or script reports how long its handler ran with its result (`HostResults.handlingMs`).
   */
  run(
    id: number,
    op: LinkOp,
    key: string,
    payload: unknown,
    waited: boolean,
    cancellable: boolean,
    cancelled?: () => boolean,
    traceparent?: string,
    timed = false,
  ): void {
    if (op === 'broadcast') return this.#broadcast(id, payload, cancellable, cancelled);
    const tenant = parseTenantKey(key);
    const probe = timed && (op === 'event' || op === 'script') ? new Timed(id) : id;
    const failed = (error: unknown): void => this.#fail(id, error, handlingMsOf(probe));
    if (op === 'event' && !cancellable) {
      // The promise-free path of the runtime, waited or not (the value goes back only when waited).
      const done = waited
        ? (value: unknown): void => this.#succeed(id, value, handlingMsOf(probe))
        : (): void => this.#succeed(id, undefined, handlingMsOf(probe));
      try {
        this.#runtime.dispatchNoWait(tenant, payload, failed, done, traceparent, probe);
      } catch (error) {
        failed(error);
      }
      return;
    }
    let signal: CancelSignal | undefined;
    if (cancellable) {
      const controller = new AbortController();
      this.#controllers.set(id, controller);
      signal = cancelled === undefined ? controller.signal : new GatedSignal(controller, cancelled);
    }
    let task: Promise<unknown>;
    if (op === 'event')
      task = this.#runtime.dispatch(
        tenant,
        cancellable ? new Tracked(id, payload) : payload,
        signal,
        traceparent,
        probe,
      );
    else if (op === 'drop') task = this.#runtime.dropTenant(tenant);
    else if (op === 'handoff') task = this.#runtime.handOffTenant(tenant);
    else if (op === 'adopt') task = this.#runtime.adoptTenant(tenant, payload as TenantHandoff);
    else {
      const [name, code, scriptEvent] = payload as [string, string, unknown];
      const event = cancellable ? new Tracked(id, scriptEvent) : scriptEvent;
      task = this.#runtime.runScript(tenant, name, code, event, signal, traceparent, probe);
    }
    task.then(
      (value) => {
        if (cancellable) this.#controllers.delete(id);
        this.#succeed(id, waited ? value : undefined, handlingMsOf(probe));
      },
      (error: unknown) => {
        if (cancellable) this.#controllers.delete(id);
        // Cancelled while its handler runs: reported once the handler really ends (see #trackingDefinition).
        if (!this.#cancelledRunning.has(id)) failed(error);
      },
    );
  }

  /** Runs the definition's `onBroadcast`, beside the tenants' events. */
  #broadcast(id: number, message: unknown, cancellable: boolean, cancelled?: () => boolean): void {
    let signal: CancelSignal | undefined;
    if (cancellable) {
      const controller = new AbortController();
      this.#controllers.set(id, controller);
      signal = cancelled === undefined ? controller.signal : new GatedSignal(controller, cancelled);
    }
    this.#runtime.broadcast(message, signal).then(
      (value) => {
        this.#controllers.delete(id);
        this.#succeed(id, value);
      },
      (error: unknown) => {
        this.#controllers.delete(id);
        this.#fail(id, error);
      },
    );
  }

  /**
   * The master gave up on item `id`: it never starts if it has not (reported as failed with the
   * abort). One whose handler runs is reported twice: `HandlerStillRunningError` at once, so the
   * master can tell its caller, then again when the handler really ends (the master restarts a
   * worker whose handler runs too long).
   */
  cancel(id: number, reason: unknown = 'cancelled by the caller'): void {
    if (this.#running.has(id) && !this.#cancelledRunning.has(id)) {
      this.#cancelledRunning.add(id);
      this.#fail(id, new HandlerStillRunningError());
    }
    this.#controllers.get(id)?.abort(reason);
  }

  /** Wraps `onEvent` so that the host knows when a cancellable event's handler starts and ends. */
  #trackingDefinition(definition: WorkerDefinition<any, any, any>): WorkerDefinition<any, any, any> {
    const ended = (id: number): void => {
      this.#running.delete(id);
      if (this.#cancelledRunning.delete(id)) this.#fail(id, new Error('The cancelled handler ended.'));
    };
    const track = (event: Tracked, run: (event: unknown) => unknown): unknown => {
      this.#running.add(event.id);
      let result: unknown;
      try {
        result = run(event.event);
      } catch (error) {
        ended(event.id);
        throw error;
      }
      if (result === null || typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') {
        ended(event.id);
        return result;
      }
      return Promise.resolve(result).finally(() => ended(event.id));
    };
    const engine = definition.scriptEngine;
    return {
      ...definition,
      onEvent: (state, event, ctx) =>
        event instanceof Tracked
          ? track(event, (inner) => definition.onEvent(state, inner, ctx))
          : definition.onEvent(state, event, ctx),
      ...(engine === undefined
        ? {}
        : {
            // Delegates (an engine may be a class instance: its methods are on its prototype).
            scriptEngine: {
              run: (state, script, event, ctx) =>
                event instanceof Tracked
                  ? track(event, (inner) => engine.run(state, script, inner, ctx))
                  : engine.run(state, script, event, ctx),
              ...(engine.dropTenant === undefined
                ? {}
                : { dropTenant: (state: unknown, ctx: TenantContext) => engine.dropTenant!(state, ctx) }),
            },
          }),
    };
  }

  /** The master's answer to `ctx.kv` call `id`. */
  kvAnswer(id: number, ok: boolean, value: unknown): void {
    const call = this.#kvCalls.get(id);
    if (call === undefined) return;
    this.#kvCalls.delete(id);
    if (ok) call.resolve(value);
    else call.reject(deserializeError(value as SerializedError));
  }

  /** Finishes every accepted item, runs every tenant's `dropTenant` hook, and sends the last results. */
  async close(): Promise<IncarnationStats> {
    await this.#runtime.close();
    this.#flush();
    return this.stats();
  }

  /**
   * The link to the master dropped: the master has failed what it sent, so cancellable items that
   * have not started never will, and pending kv calls reject with `reason`.
   */
  disconnected(reason: unknown): void {
    for (const controller of this.#controllers.values()) controller.abort(reason);
    this.#controllers.clear();
    for (const call of this.#kvCalls.values()) call.reject(reason);
    this.#kvCalls.clear();
    this.#ids = [];
    this.#values = [];
    this.#failedIds = [];
    this.#errors = [];
    this.#idsMs = [];
    this.#failedMs = [];
    this.#timed = 0;
  }

  /** Stops at once: queued items fail, pending kv calls reject. */
  kill(reason?: unknown): void {
    this.#runtime.kill(reason);
    for (const call of this.#kvCalls.values()) call.reject(reason);
    this.#kvCalls.clear();
  }

  /** Item `id` succeeded; its handler ran `handlingMs` (`NaN`: not timed). */
  #succeed(id: number, value: unknown, handlingMs = NaN): void {
    this.#ids.push(id);
    this.#values.push(value);
    this.#idsMs.push(handlingMs);
    if (handlingMs === handlingMs) this.#timed++;
    this.#scheduleFlush();
  }

  /** Item `id` failed; its handler, if it ran, ran `handlingMs` (`NaN`: not timed, or never ran). */
  #fail(id: number, error: unknown, handlingMs = NaN): void {
    this.#failedIds.push(id);
    this.#errors.push(serializeError(error));
    this.#failedMs.push(handlingMs);
    if (handlingMs === handlingMs) this.#timed++;
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#ids.length === 0 && this.#failedIds.length === 0) return;
    let handlingMs: number[] | undefined;
    if (this.#timed > 0) {
      handlingMs = this.#failedMs.length === 0 ? this.#idsMs : this.#idsMs.concat(this.#failedMs);
      this.#timed = 0;
    }
    const results: HostResults = {
      ids: this.#ids,
      values: this.#values,
      failedIds: this.#failedIds,
      errors: this.#errors,
      stats: this.stats(),
      handlingMs,
    };
    this.#ids = [];
    this.#values = [];
    this.#failedIds = [];
    this.#errors = [];
    this.#idsMs = [];
    this.#failedMs = [];
    try {
      this.#output.results(results);
    } catch {
      this.#sendOneByOne(results);
    }
  }

  /** A value could not be sent: send each result on its own, so only the bad one fails. */
  #sendOneByOne(results: HostResults): void {
    const { stats, handlingMs } = results;
    const none = { ids: [], values: [], failedIds: [], errors: [], stats };
    const ms = (at: number): number[] | undefined => handlingMs?.slice(at, at + 1);
    for (let i = 0; i < results.ids.length; i++) {
      try {
        this.#output.results({ ...none, ids: [results.ids[i]!], values: [results.values[i]], handlingMs: ms(i) });
      } catch (error) {
        const why = new ResultNotCloneableError(
          `The handler's result cannot be sent back from the worker: ${(error as Error).message}. Return plain data (structured-cloneable values).`,
          { cause: error },
        );
        this.#output.results({
          ...none,
          failedIds: [results.ids[i]!],
          errors: [serializeError(why)],
          handlingMs: ms(i),
        });
      }
    }
    if (results.failedIds.length > 0) {
      this.#output.results({
        ...none,
        failedIds: results.failedIds,
        errors: results.errors,
        handlingMs: handlingMs?.slice(results.ids.length),
      });
    }
  }

  #kv(tenant: TenantId): TenantKv {
    const key = tenantKey(tenant);
    const call = (op: KvCall['op'], name: unknown, arg?: unknown): Promise<any> => {
      try {
        if (typeof name !== 'string') throw new InvalidArgumentError(`Expected a string key, got ${typeof name}.`);
        if (op === 'set') assertCloneable(arg, 'The kv value');
      } catch (error) {
        return Promise.reject(error);
      }
      const id = ++this.#kvIds;
      return new Promise((resolve, reject) => {
        this.#kvCalls.set(id, { resolve, reject });
        this.#output.kv(id, arg === undefined ? { op, tenant: key, key: name } : { op, tenant: key, key: name, arg });
      });
    };
    return {
      get: (name) => call('get', name),
      set: (name, value) => call('set', name, value),
      delete: (name) => call('delete', name),
      list: (prefix = '') => call('list', '', prefix),
    };
  }
}
