import { InvalidArgumentError } from '../errors/errors.js';
import type { TenantKv } from '../kv/KvStore.js';
import type { TenantId } from './TenantId.js';

/** What a worker's hooks are given about the worker they run in. */
export interface WorkerContext {
  /** The id of the worker (its position in the pool, from 0). */
  readonly workerId: number;
  /** Aborts when the worker is killed or closed; pass it to long-running work. */
  readonly signal: AbortSignal;
  /** The `workerData` given to the pool (thread and process topologies), `undefined` otherwise. */
  readonly workerData: unknown;
}

/** What tenant hooks are given: the worker's context plus the tenant and its storage. */
export interface TenantContext extends WorkerContext {
  readonly tenant: TenantId;
  /** This tenant's key-value storage, owned by the master. */
  readonly kv: TenantKv;
  /**
   * The W3C `traceparent` of the event being handled, when its dispatch carried one (the caller's
   * `DispatchOptions.traceparent`, or one set by a `switchyard:dispatch:start` subscriber such as an
   * OpenTelemetry instrumentation); `undefined` otherwise. It crosses thread and process boundaries.
   * (Optional in the type so that a context built by hand, in a test, needs no trace.)
   */
  readonly traceparent?: string | undefined;
}

/** Runs named scripts in a tenant's state (what the seed does with Luau templates). */
export interface ScriptEngine<S, E, R> {
  run(state: S, script: { name: string; code: string }, event: E, ctx: TenantContext): R | Promise<R>;
  /**
   * Releases what the engine holds for a tenant (its script runtime, compiled scripts). Called
   * after the definition's own `dropTenant` hook, even when that hook throws: when the tenant is
   * dropped and for every tenant when the worker closes. A killed worker calls no hooks; its
   * `ctx.signal` aborts instead.
   */
  dropTenant?(state: S, ctx: TenantContext): void | Promise<void>;
}

/**
 * What a worker does for each tenant. Write it once; it runs unchanged in a `LocalWorker`,
 * a thread (`@switchyard/pool-thread`) or a process (`@switchyard/pool-process`).
 */
export interface WorkerDefinition<S = unknown, E = unknown, R = unknown> {
  /** Creates a tenant's state on its first event (and again after `dropTenant`). */
  createTenant(tenant: TenantId, ctx: TenantContext): S | Promise<S>;
  /** Handles one event; a tenant's events are handled strictly one after another, in order. */
  onEvent(state: S, event: E, ctx: TenantContext): R | Promise<R>;
  /** Releases a tenant's state when it is dropped or the worker closes. */
  dropTenant?(state: S, ctx: TenantContext): void | Promise<void>;
  /** Runs once when the worker starts, before its first event. */
  startup?(ctx: WorkerContext): void | Promise<void>;
  /**
   * Answers `broadcast(message)`: called once per worker (not per tenant), concurrently with the
   * tenants' events, after `startup`. What it returns is the worker's `fulfilled` value, what it
   * throws its `rejected` reason. Without it, each worker's entry is rejected with
   * `BroadcastUnsupportedError`. Uses: reload configuration, warm caches, collect diagnostics.
   */
  onBroadcast?(message: unknown, ctx: WorkerContext): unknown;
  /** Enables `runScript`; without one it rejects with `ScriptsUnsupportedError`. */
  scriptEngine?: ScriptEngine<S, E, R>;
  /**
   * Live resharding (`pool.resize(n)`): turns a tenant's state into structured-cloneable data when
   * the tenant moves to another worker, after its accepted events and before its `dropTenant` hook.
   * Give it together with {@link WorkerDefinition.importTenant}; without both, a moved tenant's
   * state is released on the old worker and created again by `createTenant` on the new one.
   */
  exportTenant?(state: S, ctx: TenantContext): unknown;
  /**
   * Live resharding: builds a moved tenant's state on its new worker from what `exportTenant`
   * returned, instead of `createTenant`, before the tenant's next event there.
   */
  importTenant?(data: unknown, ctx: TenantContext): S | Promise<S>;
}

const DEFINITION = Symbol.for('switchyard.workerDefinition');

/** The event type of a definition. */
export type EventOf<D> = D extends WorkerDefinition<any, infer E, any> ? E : never;
/** The result type of a definition's handler, awaited. */
export type ResultOf<D> = D extends WorkerDefinition<any, any, infer R> ? Awaited<R> : never;

/**
 * Describes what a worker does for each tenant, checked at once.
 *
 * @example
 * ```ts
 * export const counter = defineWorker({
 *   createTenant: () => ({ seen: 0 }),
 *   onEvent: (state, event: { type: string }) => ++state.seen,
 * });
 * ```
 */
export function defineWorker<S, E, R>(definition: WorkerDefinition<S, E, R>): WorkerDefinition<S, E, R> {
  if (definition === null || typeof definition !== 'object') {
    throw new InvalidArgumentError(
      `Expected a worker definition object, got ${definition === null ? 'null' : typeof definition}.`,
    );
  }
  for (const hook of ['createTenant', 'onEvent'] as const) {
    if (typeof definition[hook] !== 'function') {
      throw new InvalidArgumentError(`Expected \`${hook}\` to be a function, got ${typeof definition[hook]}.`);
    }
  }
  for (const hook of ['dropTenant', 'startup', 'onBroadcast', 'exportTenant', 'importTenant'] as const) {
    if (definition[hook] !== undefined && typeof definition[hook] !== 'function') {
      throw new InvalidArgumentError(
        `Expected \`${hook}\` to be a function or undefined, got ${typeof definition[hook]}.`,
      );
    }
  }
  if ((definition.exportTenant === undefined) !== (definition.importTenant === undefined)) {
    throw new InvalidArgumentError(
      `Expected \`exportTenant\` and \`importTenant\` together, got only \`${definition.exportTenant === undefined ? 'importTenant' : 'exportTenant'}\`.`,
    );
  }
  if (definition.scriptEngine !== undefined && typeof definition.scriptEngine?.run !== 'function') {
    throw new InvalidArgumentError(
      'Expected `scriptEngine` to be an object with a `run(state, script, event, ctx)` function.',
    );
  }
  if (definition.scriptEngine?.dropTenant !== undefined && typeof definition.scriptEngine.dropTenant !== 'function') {
    throw new InvalidArgumentError(
      `Expected \`scriptEngine.dropTenant\` to be a function or undefined, got ${typeof definition.scriptEngine.dropTenant}.`,
    );
  }
  const out = { ...definition };
  Object.defineProperty(out, DEFINITION, { value: true });
  return Object.freeze(out);
}

/** True when `value` was made by {@link defineWorker}. */
export function isWorkerDefinition(value: unknown): value is WorkerDefinition {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[DEFINITION] === true;
}

/**
 * Finds the worker definition a module exports: its `default` export, an export named `worker`,
 * or its only export made by {@link defineWorker}. Used by the thread and process entries.
 */
export function findWorkerDefinition(module: Record<string, unknown>, source = 'the module'): WorkerDefinition {
  for (const name of ['default', 'worker']) if (isWorkerDefinition(module[name])) return module[name];
  const found = Object.entries(module).filter(([, value]) => isWorkerDefinition(value));
  if (found.length === 1) return found[0]![1] as WorkerDefinition;
  if (found.length === 0) {
    throw new InvalidArgumentError(
      `Expected ${source} to export a definition made by defineWorker(), found none among its exports [${Object.keys(module).join(', ')}].`,
    );
  }
  throw new InvalidArgumentError(
    `Expected ${source} to export one definition made by defineWorker(), found ${found.length} (${found.map(([n]) => n).join(', ')}); export the one to run as \`worker\`.`,
  );
}
