import type { MessagePort } from 'node:worker_threads';
import type { SerializedError, TenantContext, TenantId, TenantKv, WorkerDefinition } from '@switchyard/core';
import {
  deserializeError,
  markUserError,
  findWorkerDefinition,
  serializeError,
  tenantKey,
  TenantRuntime,
  whyNotCloneable,
} from '@switchyard/core';
import { ResultNotCloneableError, ThreadStartError } from '../errors/errors.js';
import type {
  BatchResult,
  BatchTask,
  InitResult,
  InitTask,
  KvOp,
  KvReply,
  SettledMessage,
  ThreadStatsTuple,
} from '../protocol.js';
import { CANCELLABLE, MAX_BATCH_ITEMS, Op, parseTenantKey, PROTOCOL_VERSION } from '../protocol.js';

/** An event of a batch as the tenant runtime carries it: the user's event and where its outcome goes. */
class Item {
  constructor(
    readonly event: unknown,
    readonly state: BatchState,
    readonly index: number,
    /** The caller waits for the value (otherwise only a failure is reported). */
    readonly wantsValue: boolean,
  ) {}
}

interface BatchState {
  readonly id: number;
  readonly values: unknown[];
  readonly settled: Uint8Array;
  readonly failed: number[];
  readonly errors: SerializedError[];
  remaining: number;
  /** The batch's answer left: later results go through the side channel. */
  returned: boolean;
  finish: (() => void) | undefined;
}

/**
 * The thread side of a `ThreadWorker`: one per worker thread. It loads the user's definition,
 * drives core's {@link TenantRuntime} with the items of each batch (in order, so a tenant's
 * events keep their order across the boundary), answers each batch with the results settled by
 * the next macrotask, and streams the rest over the side channel. `ctx.kv` calls travel to the
 * main thread, which owns the store.
 * @internal
 */
export class ThreadHost {
  readonly #port: MessagePort;
  readonly #runtime: TenantRuntime;
  readonly #tenantIds = new Map<string, TenantId>();
  readonly #controllers = new Map<number, AbortController>();
  readonly #kvCalls = new Map<number, { resolve: (value: any) => void; reject: (error: unknown) => void }>();
  #kvIds = 0;
  #tenants = 0;
  #handled = 0;
  #failed = 0;
  #snapshots = 0;
  #outbox: unknown[] = [];
  #flushScheduled = false;

  private constructor(definition: WorkerDefinition, task: InitTask, workerData: unknown) {
    this.#port = task.port;
    this.#runtime = new TenantRuntime(this.#counting(definition), {
      workerId: task.workerId,
      workerData,
      kv: (tenant) => this.#kv(tenant),
    });
    this.#port.on('message', (reply: KvReply) => this.#onKvReply(reply));
  }

  /** Loads the module, finds its definition and runs `startup`; a failing startup is reported to each event, as in `LocalWorker`. */
  static async start(
    task: InitTask,
    workerData: unknown,
  ): Promise<{ host: ThreadHost | undefined; result: InitResult }> {
    try {
      if (task.version !== PROTOCOL_VERSION)
        throw new Error(`expected protocol version ${PROTOCOL_VERSION}, got ${String(task.version)}`);
      const module = (await import(task.url)) as Record<string, unknown>;
      const host = new ThreadHost(findWorkerDefinition(module, task.url), task, workerData);
      await host.#runtime.start().catch(() => undefined);
      return { host, result: { ok: true, stats: host.#stats() } };
    } catch (error) {
      task.port.close();
      const message = `Could not start the worker module ${task.url}: ${error instanceof Error ? error.message : String(error)}`;
      return {
        host: undefined,
        result: { ok: false, error: serializeError(new ThreadStartError(message, { cause: error })) },
      };
    }
  }

  /** Enqueues every item of `task` at once (synchronously, in order), then answers. */
  batch(task: BatchTask): Promise<BatchResult> {
    for (const key of task.cancels) this.#controllers.get(key)?.abort('cancelled by the caller');
    const { id, ops, tenants, payloads } = task;
    const n = ops.length;
    const state: BatchState = {
      id,
      values: new Array<unknown>(n),
      settled: new Uint8Array(n),
      failed: [],
      errors: [],
      remaining: n,
      returned: false,
      finish: undefined,
    };
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      const base = op & ~CANCELLABLE;
      if (base === Op.Skip) {
        this.#settle(state, i, true, undefined, false);
        continue;
      }
      const tenant = this.#tenant(tenants[i]!);
      if (base === Op.Event || base === Op.EventNoWait) {
        // The handler's outcome settles the item (see #counting); the runtime's own report only
        // matters when the handler never ran (createTenant threw, the event was cancelled).
        const item = new Item(payloads[i], state, i, base === Op.Event);
        const failed = (error: unknown): void => this.#settle(state, i, false, error, false);
        if ((op & CANCELLABLE) === 0) {
          try {
            this.#runtime.dispatchNoWait(tenant, item, failed);
          } catch (error) {
            failed(error);
          }
          continue;
        }
        const key = id * MAX_BATCH_ITEMS + i;
        const controller = new AbortController();
        this.#controllers.set(key, controller);
        this.#runtime.dispatch(tenant, item, controller.signal).then(
          () => this.#controllers.delete(key),
          (error: unknown) => {
            this.#controllers.delete(key);
            failed(error);
          },
        );
        continue;
      }
      let promise: Promise<unknown>;
      let key = -1;
      if (base === Op.Drop) {
        promise = this.#runtime.dropTenant(tenant);
      } else {
        let signal: AbortSignal | undefined;
        if ((op & CANCELLABLE) !== 0) {
          const controller = new AbortController();
          key = id * MAX_BATCH_ITEMS + i;
          this.#controllers.set(key, controller);
          signal = controller.signal;
        }
        const [name, code, event] = payloads[i] as [string, string, unknown];
        promise = this.#runtime.runScript(tenant, name, code, event, signal);
      }
      const wantsValue = base === Op.Script;
      promise.then(
        (value) => {
          if (key !== -1) this.#controllers.delete(key);
          this.#settle(state, i, true, value, wantsValue);
        },
        (error: unknown) => {
          if (key !== -1) this.#controllers.delete(key);
          this.#settle(state, i, false, error, false);
        },
      );
    }
    if (state.remaining === 0) return Promise.resolve(this.#answer(state));
    return new Promise<BatchResult>((resolve) => {
      // Whatever has not settled by the next macrotask is sent later, on its own.
      const timer = setImmediate(() => {
        state.finish = undefined;
        resolve(this.#answer(state));
      });
      state.finish = () => {
        clearImmediate(timer);
        resolve(this.#answer(state));
      };
    });
  }

  /** Closes the runtime gracefully: accepted events finish, every tenant's `dropTenant` hook runs. */
  async close(): Promise<ThreadStatsTuple> {
    await this.#runtime.close();
    this.#port.close();
    return this.#stats();
  }

  #stats(): ThreadStatsTuple {
    return [this.#tenants, this.#handled, this.#failed, ++this.#snapshots];
  }

  #answer(state: BatchState): BatchResult {
    state.returned = true;
    let pending: number[] | null = null;
    if (state.remaining > 0) {
      pending = [];
      for (let i = 0; i < state.settled.length; i++) if (state.settled[i] === 0) pending.push(i);
    }
    return { values: state.values, failed: state.failed, errors: state.errors, pending, stats: this.#stats() };
  }

  /** Records how item `index` ended; only its first outcome counts. */
  #settle(state: BatchState, index: number, ok: boolean, value: unknown, wantsValue: boolean): void {
    if (state.settled[index] === 1) return;
    state.settled[index] = 1;
    if (ok && wantsValue) {
      const why = whyNotCloneable(value);
      if (why !== undefined) {
        ok = false;
        value = new ResultNotCloneableError(
          `The handler's result cannot be sent back from the worker thread: ${why}. Return plain data (structured-cloneable values).`,
        );
      }
    }
    if (state.returned) {
      this.#outbox.push(state.id, index, ok ? 1 : 0, ok ? (wantsValue ? value : undefined) : serializeError(value));
      this.#scheduleFlush();
      return;
    }
    if (ok) {
      if (wantsValue) state.values[index] = value;
    } else {
      state.failed.push(index);
      state.errors.push(serializeError(value));
    }
    if (--state.remaining === 0) state.finish?.();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(() => {
      this.#flushScheduled = false;
      const items = this.#outbox;
      this.#outbox = [];
      const message: SettledMessage = { type: 'settled', items, stats: this.#stats() };
      this.#port.postMessage(message);
    });
  }

  #tenant(key: string): TenantId {
    let tenant = this.#tenantIds.get(key);
    if (tenant === undefined) {
      tenant = Object.freeze(parseTenantKey(key));
      this.#tenantIds.set(key, tenant);
    }
    return tenant;
  }

  /**
   * Wraps the definition to count what the status board shows (O(1) per event; the runtime's own
   * `stats()` walks every tenant) and to settle a batch item when its handler finishes.
   */
  #counting(definition: WorkerDefinition): WorkerDefinition {
    // Counters first, then the item: settling the last item of a batch answers it with the stats.
    const failed = (error: unknown, item: Item | undefined): never => {
      this.#handled++;
      this.#failed++;
      // The handler threw it: never passed off as an error the framework raised.
      markUserError(error);
      if (item !== undefined) this.#settle(item.state, item.index, false, error, false);
      throw error;
    };
    const handled = <T>(value: T, item: Item | undefined): T => {
      this.#handled++;
      if (item !== undefined) this.#settle(item.state, item.index, true, value, item.wantsValue);
      return value;
    };
    // No extra promise for a synchronous handler: the hot path stays as cheap as in LocalWorker.
    // For an event of a batch (an Item), the handler's outcome also settles the item.
    const countRun = (run: () => unknown, item?: Item): unknown => {
      let result: unknown;
      try {
        result = run();
      } catch (error) {
        return failed(error, item);
      }
      if (
        result !== null &&
        typeof result === 'object' &&
        typeof (result as PromiseLike<unknown>).then === 'function'
      ) {
        return Promise.resolve(result).then(
          (value) => handled(value, item),
          (error: unknown) => failed(error, item),
        );
      }
      return handled(result, item);
    };
    const engine = definition.scriptEngine;
    return {
      ...(definition.startup === undefined ? {} : { startup: (ctx) => definition.startup!(ctx) }),
      createTenant: async (tenant: TenantId, ctx: TenantContext) => {
        const state = await definition.createTenant(tenant, ctx);
        this.#tenants++;
        return state;
      },
      onEvent: (state, event, ctx) =>
        event instanceof Item
          ? countRun(() => definition.onEvent(state, event.event, ctx), event)
          : countRun(() => definition.onEvent(state, event, ctx)),
      dropTenant: async (state, ctx) => {
        this.#tenants--;
        await definition.dropTenant?.(state, ctx);
      },
      ...(engine === undefined
        ? {}
        : {
            scriptEngine: { run: (state, script, event, ctx) => countRun(() => engine.run(state, script, event, ctx)) },
          }),
    };
  }

  #kv(tenant: TenantId): TenantKv {
    const key = tenantKey(tenant);
    const call = (op: KvOp, k: string, arg?: unknown): Promise<any> => {
      const why = op === 'set' ? whyNotCloneable(arg) : undefined;
      if (why !== undefined) return Promise.reject(new ResultNotCloneableError(`The value cannot be stored: ${why}.`));
      const id = ++this.#kvIds;
      return new Promise((resolve, reject) => {
        this.#kvCalls.set(id, { resolve, reject });
        this.#port.postMessage(
          arg === undefined
            ? { type: 'kv', id, op, tenant: key, key: k }
            : { type: 'kv', id, op, tenant: key, key: k, arg },
        );
      });
    };
    return {
      get: (k) => call('get', k),
      set: (k, value) => call('set', k, value),
      delete: (k) => call('delete', k),
      list: (prefix = '') => call('list', '', prefix),
    };
  }

  #onKvReply(reply: KvReply): void {
    const call = this.#kvCalls.get(reply.id);
    if (call === undefined) return;
    this.#kvCalls.delete(reply.id);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(deserializeError(reply.error));
  }
}
