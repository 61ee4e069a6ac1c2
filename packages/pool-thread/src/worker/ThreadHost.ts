import type { MessagePort } from 'node:worker_threads';
import type { SerializedError, TenantContext, TenantId, TenantKv, WorkerDefinition } from '@switchyard/core';
import { deserializeError, findWorkerDefinition, serializeError, tenantKey, TenantRuntime, whyNotCloneable } from '@switchyard/core';
import { ResultNotCloneableError, ThreadStartError } from '../errors/errors.js';
import type { BatchResult, BatchTask, InitResult, InitTask, KvOp, KvReply, SettledMessage, ThreadStatsTuple } from '../protocol.js';
import { CANCELLABLE, MAX_BATCH_ITEMS, Op, parseTenantKey, PROTOCOL_VERSION } from '../protocol.js';

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
    this.#runtime = new TenantRuntime(this.#counting(definition), { workerId: task.workerId, workerData, kv: (tenant) => this.#kv(tenant) });
    this.#port.on('message', (reply: KvReply) => this.#onKvReply(reply));
  }

  /** Loads the module, finds its definition and runs `startup`; a failing startup is reported to each event, as in `LocalWorker`. */
  static async start(task: InitTask, workerData: unknown): Promise<{ host: ThreadHost | undefined; result: InitResult }> {
    try {
      if (task.version !== PROTOCOL_VERSION) throw new Error(`expected protocol version ${PROTOCOL_VERSION}, got ${String(task.version)}`);
      const module = (await import(task.url)) as Record<string, unknown>;
      const host = new ThreadHost(findWorkerDefinition(module, task.url), task, workerData);
      await host.#runtime.start().catch(() => undefined);
      return { host, result: { ok: true, stats: host.#stats() } };
    } catch (error) {
      task.port.close();
      const message = `Could not start the worker module ${task.url}: ${error instanceof Error ? error.message : String(error)}`;
      return { host: undefined, result: { ok: false, error: serializeError(new ThreadStartError(message, { cause: error })) } };
    }
  }

  /** Enqueues every item of `task` at once (synchronously, in order), then answers. */
  batch(task: BatchTask): Promise<BatchResult> {
    for (const key of task.cancels) this.#controllers.get(key)?.abort('cancelled by the caller');
    const { id, ops, tenants, payloads } = task;
    const n = ops.length;
    const state: BatchState = { id, values: new Array<unknown>(n), settled: new Uint8Array(n), failed: [], errors: [], remaining: n, returned: false, finish: undefined };
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      const base = op & ~CANCELLABLE;
      if (base === Op.Skip) {
        this.#settle(state, i, true, undefined, false);
        continue;
      }
      const tenant = this.#tenant(tenants[i]!);
      let signal: AbortSignal | undefined;
      let controllerKey = -1;
      if ((op & CANCELLABLE) !== 0) {
        const controller = new AbortController();
        controllerKey = id * MAX_BATCH_ITEMS + i;
        this.#controllers.set(controllerKey, controller);
        signal = controller.signal;
      }
      let promise: Promise<unknown>;
      if (base === Op.Drop) {
        promise = this.#runtime.dropTenant(tenant);
      } else if (base === Op.Script) {
        const [name, code, event] = payloads[i] as [string, string, unknown];
        promise = this.#runtime.runScript(tenant, name, code, event, signal);
      } else {
        promise = this.#runtime.dispatch(tenant, payloads[i], signal);
      }
      const wantsValue = base === Op.Event || base === Op.Script;
      promise.then(
        (value) => {
          if (controllerKey !== -1) this.#controllers.delete(controllerKey);
          this.#settle(state, i, true, value, wantsValue);
        },
        (error: unknown) => {
          if (controllerKey !== -1) this.#controllers.delete(controllerKey);
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

  #settle(state: BatchState, index: number, ok: boolean, value: unknown, wantsValue: boolean): void {
    if (ok && wantsValue) {
      const why = whyNotCloneable(value);
      if (why !== undefined) {
        ok = false;
        value = new ResultNotCloneableError(`The handler's result cannot be sent back from the worker thread: ${why}. Return plain data (structured-cloneable values).`);
      }
    }
    if (state.returned) {
      this.#outbox.push(state.id, index, ok ? 1 : 0, ok ? (wantsValue ? value : undefined) : serializeError(value));
      this.#scheduleFlush();
      return;
    }
    state.settled[index] = 1;
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

  /** Wraps the definition only to count what the status board shows, in O(1) per event. */
  #counting(definition: WorkerDefinition): WorkerDefinition {
    const failed = (error: unknown): never => {
      this.#handled++;
      this.#failed++;
      throw error;
    };
    const handled = <T>(value: T): T => {
      this.#handled++;
      return value;
    };
    // No extra promise for a synchronous handler: the hot path stays as cheap as in LocalWorker.
    const countRun = (run: () => unknown): unknown => {
      let result: unknown;
      try {
        result = run();
      } catch (error) {
        return failed(error);
      }
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        return Promise.resolve(result).then(handled, failed);
      }
      return handled(result);
    };
    const engine = definition.scriptEngine;
    return {
      ...(definition.startup === undefined ? {} : { startup: (ctx) => definition.startup!(ctx) }),
      createTenant: async (tenant: TenantId, ctx: TenantContext) => {
        const state = await definition.createTenant(tenant, ctx);
        this.#tenants++;
        return state;
      },
      onEvent: (state, event, ctx) => countRun(() => definition.onEvent(state, event, ctx)),
      dropTenant: async (state, ctx) => {
        this.#tenants--;
        await definition.dropTenant?.(state, ctx);
      },
      ...(engine === undefined ? {} : { scriptEngine: { run: (state, script, event, ctx) => countRun(() => engine.run(state, script, event, ctx)) } }),
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
        this.#port.postMessage(arg === undefined ? { type: 'kv', id, op, tenant: key, key: k } : { type: 'kv', id, op, tenant: key, key: k, arg });
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
