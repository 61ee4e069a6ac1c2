import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type {
  DispatchOptions,
  KvStore,
  TenantId,
  WorkerCrashInfo,
  WorkerLike,
  WorkerLikeEvents,
  WorkerStats,
} from '@switchyard/core';
import {
  AbortError,
  assertCloneable,
  assertTenantId,
  BackpressureError,
  deserializeError,
  InvalidArgumentError,
  MemoryKvStore,
  ProtocolError,
  serializeError,
  shardFor,
  tenantKey,
  WorkerCrashedError,
  WorkerKilledError,
  WorkerUnavailableError,
} from '@switchyard/core';
import {
  ConnectionLostError,
  HeartbeatTimeoutError,
  InvalidProcessOptionError,
  WorkerExitedError,
  WorkerStartTimeoutError,
} from '../errors/errors.js';
import type { Hub } from '../hub/Hub.js';
import type { ConnectionInfo } from '../hub/internal.js';
import { attachWorker } from '../hub/internal.js';
import { Fifo } from '../internal/Fifo.js';
import type { Connection } from '../protocol/Connection.js';
import type { BatchMessage } from '../protocol/protocol.js';
import {
  BATCH,
  CLOSE,
  CLOSED,
  DISPATCH,
  DONE,
  DROP,
  ENV_HUB_URL,
  ENV_MODULE,
  ENV_PARENT_FD,
  ENV_TOKEN,
  FAILURE,
  FLAG_NOWAIT,
  FLAG_SIGNAL,
  KILL,
  KV,
  KV_DELETE,
  KV_GET,
  KV_LIST,
  KV_RESULT,
  KV_SET,
  NOWAIT_ERROR,
  parseTenantKey,
  RESULT,
  RESULTS,
  SCRIPT,
  STATS,
  WELCOME,
  ABORT,
} from '../protocol/protocol.js';
import { trackChild, untrackChild } from './children.js';

/** How a crashed worker process is restarted. */
export interface RestartOptions {
  /**
   * The wait before restart number `failures` (1 after the first crash, 2 after the second in a
   * row, ...): a function, or a step in ms used as `min(failures, 5) * step`.
   * @default 3000 (so `min(failures, 5) * 3 s`, as the seed does)
   */
  backoffMs?: number | ((failures: number) => number);
  /**
   * After this many consecutive failures the worker is given up: `fatal` is emitted and its
   * tenants' events reject with `WorkerUnavailableError`.
   * @default 10
   */
  maxFailures?: number;
  /**
   * A worker that stayed connected this long before it crashed starts counting failures from 1 again.
   * @default 60000
   */
  resetAfterMs?: number;
}

/** Options of {@link ProcessWorker}; `createProcessPool()` fills most of them. */
export interface ProcessWorkerOptions {
  /** The worker's id: its position in the pool, from 0. */
  id: number;
  /** How many workers the pool has (tenants are sharded over them). */
  workers: number;
  /** The hub the worker connects to. */
  hub: Hub;
  /**
   * The script each worker process runs: `node <entry> --worker-id <id> --process-workers <n>`.
   * It calls `runWorkerProcess(definition)`. Give `entry` or `module` when `spawn` is true.
   * @default undefined
   */
  entry?: string | undefined;
  /**
   * A module exporting a `defineWorker()` definition; the package's generic loader runs it.
   * @default undefined
   */
  module?: string | undefined;
  /**
   * Whether the pool starts the process. `false` waits for a worker started elsewhere (another
   * host, a container) to connect with `hub.tokenFor(id)`.
   * @default true
   */
  spawn?: boolean;
  /**
   * Extra environment variables for the process. The master's own environment is not inherited
   * (only the variables named in `inheritEnv`), so secrets such as database credentials stay in
   * the master.
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The master's environment variables copied into the process.
   * @default PATH, HOME, USER, LANG, LC_ALL, TZ, TMPDIR, TEMP, TMP, SYSTEMROOT, NODE_ENV, NODE_EXTRA_CA_CERTS
   */
  inheritEnv?: readonly string[];
  /**
   * Node options placed before the entry (`--max-old-space-size=512`, ...).
   * @default []
   */
  execArgv?: readonly string[];
  /**
   * Exposed to the definition's hooks as `ctx.workerData` (structured-cloneable).
   * @default undefined
   */
  workerData?: unknown;
  /**
   * The store `ctx.kv` is served from; it lives in the master.
   * @default new MemoryKvStore()
   */
  store?: KvStore;
  /** How crashed processes are restarted. */
  restart?: RestartOptions;
  /**
   * How long a started (or restarted) process may take to connect, and a disconnected one to
   * reconnect, before it counts as failed.
   * @default 30000
   */
  startTimeoutMs?: number;
  /**
   * How long `close()` waits for the process to finish and exit before it kills it.
   * @default 10000
   */
  closeTimeoutMs?: number;
  /**
   * The most events held in the master while the worker restarts or its connection is congested;
   * more reject with `BackpressureError`.
   * @default 10000
   */
  maxBufferedEvents?: number;
  /**
   * The most events sent to the worker and not finished yet; further events wait in the master's
   * buffer. It bounds the worker's backlog: a worker holding tens of thousands of queued events
   * spends much of its time collecting garbage. Raise it for handlers that mostly wait on I/O and
   * need more events of different tenants running at once.
   * @default 1024
   */
  maxInFlight?: number;
  /**
   * What happens to the process's stdout and stderr.
   * @default 'inherit'
   */
  stdio?: 'inherit' | 'ignore';
}

/** Emitted when a worker process connected (first start, restart or reconnect). */
export interface WorkerOnlineInfo {
  workerId: number;
  /** The process id the worker announced (or of the spawned child). */
  pid: number | undefined;
  /** How many times the worker came back after a crash. */
  restarts: number;
}

/** The events a {@link ProcessWorker} emits: those of every `WorkerLike`, and `online`. */
export interface ProcessWorkerEvents extends WorkerLikeEvents {
  online: [info: WorkerOnlineInfo];
}

/** Where the link to the worker stands. */
export type ProcessWorkerState = 'new' | 'starting' | 'up' | 'lost' | 'reconnecting' | 'backoff' | 'fatal' | 'stopped';

interface Item {
  readonly id: number;
  readonly type: typeof DISPATCH | typeof SCRIPT | typeof DROP;
  readonly tenant: TenantId;
  readonly key: string;
  readonly event: unknown;
  readonly name: string | undefined;
  readonly code: string | undefined;
  readonly flags: number;
  readonly resolve: ((value: any) => void) | undefined;
  readonly reject: ((error: unknown) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** 0 buffered, 1 in flight, 2 settled. */
  stage: 0 | 1 | 2;
}

/** A run of DISPATCH events being gathered into one BATCH message. */
interface Run {
  first: number;
  next: number;
  flags: number;
  keys: string[];
  slots: Map<string, number>;
  index: number[];
  events: unknown[];
}

function runMessage(run: Run): unknown[] {
  if (run.events.length === 1) return [DISPATCH, run.first, run.keys[0], run.events[0], run.flags];
  return [BATCH, run.first, run.flags, run.keys, run.index, run.events];
}

interface ChildState {
  readonly process: ChildProcess;
  readonly pid: number | undefined;
  exited: boolean;
  readonly exit: Promise<void>;
  markExited: () => void;
  stderr: string;
}

const DEFAULT_INHERIT_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SYSTEMROOT',
  'NODE_ENV',
  'NODE_EXTRA_CA_CERTS',
] as const;
/** How long to wait for the process's exit after its connection closed, to report the right cause. */
const EXIT_GRACE_MS = 250;
const STDERR_TAIL = 2048;
/** The generic entry that runs `module`: the built one, also when this file runs from source (tests). */
const LOADER = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../dist/worker/loader.js' : '../worker/loader.js', import.meta.url),
);

/**
 * Tenant objects already validated, with their key: a tenant object reused for many events is
 * checked once (its `kind` and `id` are compared, so a mutated object is checked again).
 */
const checkedTenants = new WeakMap<object, { kind: string; id: string; key: string }>();

/** Throws `InvalidTenantIdError` unless `tenant` is valid; returns its key (`guild:123`). */
function checkedKey(tenant: TenantId): string {
  if (tenant !== null && typeof tenant === 'object') {
    const seen = checkedTenants.get(tenant);
    if (seen !== undefined && seen.kind === tenant.kind && seen.id === tenant.id) return seen.key;
  }
  assertTenantId(tenant);
  const key = tenantKey(tenant);
  checkedTenants.set(tenant, { kind: tenant.kind, id: tenant.id, key });
  return key;
}

function integer(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidProcessOptionError(`Expected \`${name}\` to be an integer >= ${min}, got ${String(value)}.`);
  }
  return value;
}

function abortError(signal: AbortSignal, what: string): AbortError {
  return new AbortError(`${what} was aborted.`, { cause: signal.reason });
}

/**
 * One worker process, seen from the master: a {@link WorkerLike} whose events travel over the
 * hub's WebSocket. It spawns the process (or waits for one started elsewhere), restarts it with
 * backoff when it exits, crashes or stops answering pings, and holds the events dispatched
 * meanwhile in one bounded buffer, delivered in order once the worker is back. `ctx.kv` calls
 * from the worker are served here, from a store the master owns.
 *
 * Create workers with `createProcessPool()`; construct one directly only to manage it yourself.
 */
export class ProcessWorker<E = unknown, R = unknown> extends EventEmitter implements WorkerLike<E, R> {
  readonly id: number;
  readonly size = 1;
  readonly #hub: Hub;
  readonly #workers: number;
  readonly #entry: string | undefined;
  readonly #module: string | undefined;
  readonly #spawn: boolean;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #inheritEnv: readonly string[];
  readonly #execArgv: readonly string[];
  readonly #workerData: unknown;
  readonly #store: KvStore;
  readonly #backoff: (failures: number) => number;
  readonly #maxFailures: number;
  readonly #resetAfterMs: number;
  readonly #startTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #maxBuffered: number;
  readonly #maxInFlight: number;
  readonly #stdio: 'inherit' | 'ignore';

  #lifecycle: 'new' | 'open' | 'closing' | 'closed' | 'killed' = 'new';
  #link: ProcessWorkerState = 'new';
  #connection: Connection | undefined;
  #child: ChildState | undefined;
  #detach: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #restarts = 0;
  #upSince = 0;
  #startup: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  readonly #buffer = new Fifo<Item>();
  #buffered = 0;
  #cancelled = 0;
  readonly #inflight = new Map<number, Item>();
  #nextId = 0;
  #last = { tenants: 0, queued: 0, handled: 0, failed: 0 };
  readonly #base = { handled: 0, failed: 0 };
  #lastPid: number | undefined;
  #lostCause: Error | undefined;
  #drainWaiters: Array<() => void> = [];
  #closeSent = false;
  #onGone: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #killing: Promise<void> | undefined;

  constructor(options: ProcessWorkerOptions) {
    super();
    if (options === null || typeof options !== 'object')
      throw new InvalidProcessOptionError(`Expected ProcessWorker options to be an object, got ${typeof options}.`);
    const {
      hub,
      spawn = true,
      entry,
      module,
      env = {},
      inheritEnv = DEFAULT_INHERIT_ENV,
      execArgv = [],
      workerData,
      store = new MemoryKvStore(),
      restart = {},
      stdio = 'inherit',
    } = options;
    this.id = integer('id', options.id, 0);
    this.#workers = integer('workers', options.workers, 1);
    if (this.id >= this.#workers)
      throw new InvalidProcessOptionError(
        `Expected \`id\` to be below \`workers\` (${this.#workers}), got ${this.id}.`,
      );
    if (hub === null || typeof hub !== 'object' || typeof hub.tokenFor !== 'function')
      throw new InvalidProcessOptionError('Expected `hub` to be a Hub made by createHub().');
    if (typeof spawn !== 'boolean')
      throw new InvalidProcessOptionError(`Expected \`spawn\` to be a boolean, got ${typeof spawn}.`);
    if (entry !== undefined && (typeof entry !== 'string' || entry.length === 0))
      throw new InvalidProcessOptionError(`Expected \`entry\` to be a path, got ${typeof entry}.`);
    if (module !== undefined && (typeof module !== 'string' || module.length === 0))
      throw new InvalidProcessOptionError(`Expected \`module\` to be a path, got ${typeof module}.`);
    if (spawn && (entry === undefined) === (module === undefined)) {
      throw new InvalidProcessOptionError(
        'Expected exactly one of `entry` (a script calling runWorkerProcess) or `module` (a module exporting a worker definition) when `spawn` is true.',
      );
    }
    if (env === null || typeof env !== 'object')
      throw new InvalidProcessOptionError(`Expected \`env\` to be an object of strings, got ${typeof env}.`);
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && typeof value !== 'string')
        throw new InvalidProcessOptionError(`Expected \`env.${name}\` to be a string, got ${typeof value}.`);
    }
    if (!Array.isArray(inheritEnv) || inheritEnv.some((name) => typeof name !== 'string'))
      throw new InvalidProcessOptionError('Expected `inheritEnv` to be an array of variable names.');
    if (!Array.isArray(execArgv) || execArgv.some((arg) => typeof arg !== 'string'))
      throw new InvalidProcessOptionError('Expected `execArgv` to be an array of strings.');
    if (
      store === null ||
      typeof store !== 'object' ||
      typeof store.get !== 'function' ||
      typeof store.set !== 'function' ||
      typeof store.delete !== 'function' ||
      typeof store.list !== 'function'
    ) {
      throw new InvalidProcessOptionError('Expected `store` to be a KvStore (get, set, delete, list).');
    }
    if (stdio !== 'inherit' && stdio !== 'ignore')
      throw new InvalidProcessOptionError(`Expected \`stdio\` to be 'inherit' or 'ignore', got ${String(stdio)}.`);
    if (restart === null || typeof restart !== 'object')
      throw new InvalidProcessOptionError(`Expected \`restart\` to be an object, got ${typeof restart}.`);
    const { backoffMs = 3000, maxFailures = 10, resetAfterMs = 60_000 } = restart;
    if (typeof backoffMs === 'number') {
      const step = integer('restart.backoffMs', backoffMs, 0);
      this.#backoff = (failures) => Math.min(failures, 5) * step;
    } else if (typeof backoffMs === 'function') {
      this.#backoff = backoffMs;
    } else {
      throw new InvalidProcessOptionError(
        `Expected \`restart.backoffMs\` to be a number or a function, got ${typeof backoffMs}.`,
      );
    }
    assertCloneable(workerData, 'workerData');
    this.#maxFailures = integer('restart.maxFailures', maxFailures, 1);
    this.#resetAfterMs = integer('restart.resetAfterMs', resetAfterMs, 0);
    this.#startTimeoutMs = integer('startTimeoutMs', options.startTimeoutMs ?? 30_000, 1);
    this.#closeTimeoutMs = integer('closeTimeoutMs', options.closeTimeoutMs ?? 10_000, 1);
    this.#maxBuffered = integer('maxBufferedEvents', options.maxBufferedEvents ?? 10_000, 1);
    this.#maxInFlight = integer('maxInFlight', options.maxInFlight ?? 1024, 1);
    this.#hub = hub;
    this.#spawn = spawn;
    this.#entry = entry;
    this.#module = module;
    this.#env = { ...env };
    this.#inheritEnv = [...inheritEnv];
    this.#execArgv = [...execArgv];
    this.#workerData = workerData;
    this.#store = store;
    this.#stdio = stdio;
  }

  override on<K extends keyof ProcessWorkerEvents>(
    event: K,
    listener: (...args: ProcessWorkerEvents[K]) => void,
  ): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<K extends keyof ProcessWorkerEvents>(
    event: K,
    listener: (...args: ProcessWorkerEvents[K]) => void,
  ): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof ProcessWorkerEvents>(
    event: K,
    listener: (...args: ProcessWorkerEvents[K]) => void,
  ): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  override emit<K extends keyof ProcessWorkerEvents>(event: K, ...args: ProcessWorkerEvents[K]): boolean {
    return super.emit(event, ...args);
  }

  /** Where the link to the worker stands (`up` when connected). */
  get state(): ProcessWorkerState {
    return this.#link;
  }

  /** The id of the worker's current process (a spawned child, or what a connected worker announced). */
  get pid(): number | undefined {
    return this.#child?.pid ?? this.#lastPid;
  }

  /** Consecutive failures so far (reset to 1 by a crash after `resetAfterMs` up). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Spawns the process (unless `spawn` is false) and resolves once the worker connected; rejects
   * with `WorkerStartTimeoutError` or `WorkerExitedError` when it did not (the worker is then killed).
   */
  start(): Promise<void> {
    if (this.#lifecycle !== 'new')
      return Promise.reject(new InvalidProcessOptionError(`Worker ${this.id} was already started.`));
    this.#lifecycle = 'open';
    try {
      this.#detach = this.#hub[attachWorker](this.id, {
        connected: (connection, info) => this.#onConnected(connection, info),
      });
    } catch (error) {
      this.#lifecycle = 'killed';
      this.#link = 'stopped';
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.#startup = { resolve, reject };
      this.#launch();
    });
  }

  dispatch(tenant: TenantId, event: E, options: DispatchOptions = {}): Promise<R> {
    return this.#enqueue(DISPATCH, tenant, event, undefined, undefined, options.signal) as Promise<R>;
  }

  dispatchNoWait(tenant: TenantId, event: E): void {
    const key = checkedKey(tenant);
    const refused = this.#refusal();
    if (refused !== undefined) throw refused;
    assertCloneable(event);
    if (this.#buffered >= this.#maxBuffered) throw this.#backpressure();
    this.#push(
      this.#item(DISPATCH, tenant, key, event, undefined, undefined, FLAG_NOWAIT, undefined, undefined, undefined),
    );
  }

  runScript(tenant: TenantId, name: string, code: string, event: E, options: DispatchOptions = {}): Promise<R> {
    if (typeof name !== 'string' || typeof code !== 'string') {
      return Promise.reject(
        new InvalidArgumentError(
          `Expected the script name and code to be strings, got ${typeof name} and ${typeof code}.`,
        ),
      );
    }
    return this.#enqueue(SCRIPT, tenant, event, name, code, options.signal) as Promise<R>;
  }

  dropTenant(tenant: TenantId, options: DispatchOptions = {}): Promise<void> {
    return this.#enqueue(DROP, tenant, undefined, undefined, undefined, options.signal) as Promise<void>;
  }

  stats(): WorkerStats {
    return {
      id: this.id,
      tenants: this.#last.tenants,
      queued: this.#buffered + this.#inflight.size,
      handled: this.#base.handled + this.#last.handled,
      failed: this.#base.failed + this.#last.failed,
    };
  }

  /**
   * Stops at once: buffered and in-flight events reject with `WorkerKilledError`, the process is
   * killed (a worker started elsewhere is told to exit), and the promise resolves once it is gone.
   */
  kill(reason?: unknown): Promise<void> {
    if (this.#killing !== undefined) return this.#killing;
    if (this.#lifecycle === 'closed') return this.#closing ?? Promise.resolve();
    const wasNew = this.#lifecycle === 'new';
    this.#lifecycle = 'killed';
    this.#killing = (async () => {
      if (wasNew) {
        this.#link = 'stopped';
        return;
      }
      this.#clearTimer();
      this.#detach?.();
      const child = this.#child;
      if (child !== undefined && !child.exited) child.process.kill('SIGKILL');
      const connection = this.#connection;
      this.#connection = undefined;
      if (connection !== undefined) {
        if (this.#spawn) {
          connection.terminate(new ConnectionLostError(`Worker ${this.id} was killed.`));
        } else {
          connection.send([[KILL, reason === undefined ? 'killed' : String(reason).slice(0, 200)]]);
          connection.close(1000, 'killed');
        }
      }
      await this.#killChild();
      // Rejected once the process is gone: nothing of it runs any more.
      const error = new WorkerKilledError(`Worker ${this.id} was killed.`, { cause: reason });
      this.#rejectAll(error);
      if (this.#startup !== undefined) {
        this.#startup.reject(error);
        this.#startup = undefined;
      }
      this.#onGone?.();
      this.#link = 'stopped';
      this.#resolveDrained();
    })();
    return this.#killing;
  }

  /**
   * Stops gracefully: accepts nothing new, delivers what was accepted (waiting for a restart if
   * need be), lets the process finish and release its tenants, and resolves once it exited.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#lifecycle === 'killed') return this.#killing ?? Promise.resolve();
    if (this.#lifecycle === 'new') {
      this.#lifecycle = 'closed';
      this.#link = 'stopped';
      return (this.#closing = Promise.resolve());
    }
    this.#lifecycle = 'closing';
    this.#closing = (async () => {
      await this.#drained();
      if (this.#wasKilled()) return;
      const connection = this.#connection;
      if (connection !== undefined && this.#link === 'up') {
        this.#closeSent = true;
        const gone = new Promise<void>((resolve) => (this.#onGone = resolve));
        connection.queue([CLOSE]);
        await this.#within(gone, this.#closeTimeoutMs);
      }
      if (this.#wasKilled()) return;
      this.#lifecycle = 'closed';
      this.#clearTimer();
      this.#detach?.();
      this.#connection?.terminate(new ConnectionLostError(`Worker ${this.id} was closed.`));
      this.#connection = undefined;
      const child = this.#child;
      if (child !== undefined && !child.exited) {
        if (!this.#closeSent) child.process.kill('SIGKILL');
        else await this.#within(child.exit, this.#closeTimeoutMs);
        await this.#killChild();
      }
      this.#link = 'stopped';
    })();
    return this.#closing;
  }

  /** Calls {@link ProcessWorker.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // -------------------------------------------------------------------------------------------
  // Accepting events
  // -------------------------------------------------------------------------------------------

  #refusal(): Error | undefined {
    switch (this.#lifecycle) {
      case 'killed':
        return new WorkerKilledError(`Worker ${this.id} was killed; it accepts no more events.`);
      case 'closing':
      case 'closed':
        return new WorkerKilledError(`Worker ${this.id} was closed; it accepts no more events.`);
      case 'new':
        return new WorkerUnavailableError(`Worker ${this.id} has not been started; call start() first.`);
    }
    if (this.#link === 'fatal')
      return new WorkerUnavailableError(
        `Worker ${this.id} failed ${this.#failures} times in a row and was given up; its tenants' events are rejected.`,
      );
    return undefined;
  }

  #backpressure(): BackpressureError {
    return new BackpressureError(
      `Worker ${this.id} already holds ${this.#buffered} undelivered events (maxBufferedEvents is ${this.#maxBuffered})${this.#link === 'up' ? '' : ' while it restarts'}; slow down or raise maxBufferedEvents.`,
    );
  }

  #enqueue(
    type: Item['type'],
    tenant: TenantId,
    event: unknown,
    name: string | undefined,
    code: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    let key: string;
    try {
      key = checkedKey(tenant);
      const refused = this.#refusal();
      if (refused !== undefined) throw refused;
      if (signal?.aborted) throw abortError(signal, 'The dispatch');
      if (type !== DROP) assertCloneable(event);
      if (this.#buffered >= this.#maxBuffered) throw this.#backpressure();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const item = this.#item(
        type,
        tenant,
        key,
        event,
        name,
        code,
        signal === undefined ? 0 : FLAG_SIGNAL,
        resolve,
        reject,
        signal,
      );
      if (signal !== undefined) {
        item.onAbort = () => this.#abort(item);
        signal.addEventListener('abort', item.onAbort, { once: true });
      }
      this.#push(item);
    });
  }

  #item(
    type: Item['type'],
    tenant: TenantId,
    key: string,
    event: unknown,
    name: string | undefined,
    code: string | undefined,
    flags: number,
    resolve: Item['resolve'],
    reject: Item['reject'],
    signal: AbortSignal | undefined,
  ): Item {
    return {
      id: ++this.#nextId,
      type,
      tenant,
      key,
      event,
      name,
      code,
      flags,
      resolve,
      reject,
      signal,
      onAbort: undefined,
      stage: 0,
    };
  }

  #push(item: Item): void {
    this.#buffer.push(item);
    this.#buffered++;
    if (this.#link === 'up') this.#connection?.schedule();
  }

  #abort(item: Item): void {
    if (item.stage === 2) return;
    const error = abortError(item.signal!, 'The dispatch');
    if (item.stage === 0) {
      // Still in the buffer: it will never be sent.
      item.stage = 2;
      this.#buffered--;
      this.#cancelled++;
      this.#compact();
    } else {
      this.#inflight.delete(item.id);
      item.stage = 2;
      // The worker has it: abort its signal there, so it never runs if it has not started.
      this.#connection?.queue([ABORT, item.id]);
    }
    item.reject!(error);
    this.#checkDrained();
  }

  #compact(): void {
    if (this.#cancelled < 1024 || this.#cancelled * 2 < this.#buffer.length) return;
    for (const item of this.#buffer.drain()) if (item.stage === 0) this.#buffer.push(item);
    this.#cancelled = 0;
  }

  #settle(item: Item): void {
    item.stage = 2;
    if (item.onAbort !== undefined) item.signal!.removeEventListener('abort', item.onAbort);
  }

  #fail(item: Item, error: Error): void {
    this.#settle(item);
    if (item.reject !== undefined) item.reject(error);
    else this.emit('dispatchError', { workerId: this.id, tenant: item.tenant, error, event: item.event });
  }

  #rejectAll(error: Error): void {
    const inflight = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const item of this.#buffer.drain()) if (item.stage === 0) inflight.push(item);
    this.#buffered = 0;
    this.#cancelled = 0;
    for (const item of inflight) this.#fail(item, error);
  }

  #failInflight(cause: Error): void {
    if (this.#inflight.size === 0) return;
    const items = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const item of items) {
      this.#fail(
        item,
        new WorkerCrashedError(
          `Worker ${this.id} crashed while the event was in flight; it may or may not have run. Retry if the handler is idempotent.`,
          { cause },
        ),
      );
    }
    this.#checkDrained();
  }

  // -------------------------------------------------------------------------------------------
  // The connection
  // -------------------------------------------------------------------------------------------

  #onConnected(connection: Connection, info: ConnectionInfo): void {
    const refuse = (why: string): void => {
      connection.terminate(new ConnectionLostError(why));
    };
    if (this.#lifecycle === 'closed' || this.#lifecycle === 'killed' || this.#link === 'fatal')
      return refuse(`Worker ${this.id} is stopped.`);
    if (this.#connection !== undefined) return refuse(`Worker ${this.id} is already connected.`);
    if (this.#spawn && (this.#child === undefined || this.#child.exited || this.#link === 'backoff'))
      return refuse(`Worker ${this.id}'s process is being restarted.`);
    this.#clearTimer();
    if (this.#link === 'lost') {
      // The process reconnected before the crash was reported: it still counts as one.
      this.#failInflight(this.#lostCause!);
      if (!this.#countFailure(this.#lostCause!)) return refuse(`Worker ${this.id} was given up.`);
      this.#emitCrash(this.#lostCause!);
    }
    this.#connection = connection;
    this.#link = 'up';
    this.#upSince = Date.now();
    const pid = info.pid ?? this.#child?.pid;
    if (pid !== this.#lastPid) {
      // A new process: its counters start from zero.
      this.#base.handled += this.#last.handled;
      this.#base.failed += this.#last.failed;
      this.#last = { tenants: 0, queued: 0, handled: 0, failed: 0 };
      this.#lastPid = pid;
    }
    connection.handlers = {
      message: (message) => this.#onMessage(connection, message),
      fill: (batch, max) => this.#fill(batch, max),
      rejected: (message, error) => this.#onRejected(connection, message, error),
      closed: (cause) => this.#onDisconnected(connection, cause),
    };
    connection.queue([
      WELCOME,
      {
        workerId: this.id,
        workers: this.#workers,
        heartbeatMs: this.#hub.heartbeatMs,
        maxPayload: this.#hub.maxPayload,
        workerData: this.#workerData,
      },
    ]);
    // Deliver what was held while the worker was away right now, not on the next turn.
    connection.flush();
    if (this.#startup !== undefined) {
      this.#startup.resolve();
      this.#startup = undefined;
    } else {
      this.#restarts++;
    }
    this.emit('online', { workerId: this.id, pid, restarts: this.#restarts });
  }

  /**
   * Moves buffered events into the frame being built (up to `max` in total, and no more than
   * `maxInFlight` unfinished). Runs of DISPATCH events with consecutive ids and the same flags go
   * as one columnar BATCH message.
   */
  #fill(batch: unknown[], max: number): void {
    if (this.#link !== 'up') return;
    let budget = max - batch.length;
    let run: Run | undefined;
    while (budget > 0 && this.#inflight.size < this.#maxInFlight) {
      const item = this.#buffer.shift();
      if (item === undefined) break;
      if (item.stage !== 0) {
        this.#cancelled--;
        continue;
      }
      this.#buffered--;
      budget--;
      item.stage = 1;
      this.#inflight.set(item.id, item);
      if (item.type === DISPATCH) {
        if (run === undefined || run.flags !== item.flags || run.next !== item.id) {
          if (run !== undefined) batch.push(runMessage(run));
          run = { first: item.id, next: item.id, flags: item.flags, keys: [], slots: new Map(), index: [], events: [] };
        }
        let slot = run.slots.get(item.key);
        if (slot === undefined) {
          slot = run.keys.length;
          run.keys.push(item.key);
          run.slots.set(item.key, slot);
        }
        run.index.push(slot);
        run.events.push(item.event);
        run.next++;
      } else {
        if (run !== undefined) batch.push(runMessage(run));
        run = undefined;
        batch.push(
          item.type === SCRIPT
            ? [SCRIPT, item.id, item.key, item.event, item.flags, item.name, item.code]
            : [item.type, item.id, item.key, item.event, item.flags],
        );
      }
    }
    if (run !== undefined) batch.push(runMessage(run));
  }

  #onMessage(connection: Connection, message: unknown[]): void {
    if (connection !== this.#connection) return;
    switch (message[0]) {
      case STATS:
        this.#last = {
          tenants: message[1] as number,
          queued: message[2] as number,
          handled: message[3] as number,
          failed: message[4] as number,
        };
        return;
      case RESULTS: {
        const ids = message[1] as number[];
        const values = message[2] as unknown[];
        for (let i = 0; i < ids.length; i++) {
          const item = this.#inflight.get(ids[i]!);
          if (item === undefined || item.resolve === undefined) continue;
          this.#inflight.delete(item.id);
          this.#settle(item);
          item.resolve(values[i]);
        }
        break;
      }
      case RESULT:
      case FAILURE: {
        const item = this.#inflight.get(message[1] as number);
        if (item === undefined || item.resolve === undefined) return;
        this.#inflight.delete(item.id);
        this.#settle(item);
        if (message[0] === RESULT) item.resolve(message[2]);
        else item.reject!(deserializeError(message[2] as never));
        break;
      }
      case DONE: {
        const ranges = message[1] as number[];
        for (let i = 0; i < ranges.length; i += 2) {
          const end = ranges[i]! + ranges[i + 1]!;
          for (let id = ranges[i]!; id < end; id++) {
            const item = this.#inflight.get(id);
            if (item === undefined || item.resolve !== undefined) continue;
            this.#inflight.delete(id);
            item.stage = 2;
          }
        }
        break;
      }
      case NOWAIT_ERROR: {
        const item = this.#inflight.get(message[1] as number);
        if (item === undefined || item.resolve !== undefined) return;
        this.#inflight.delete(item.id);
        this.#fail(item, deserializeError(message[2] as never));
        break;
      }
      case KV:
        this.#serveKv(connection, message);
        return;
      case CLOSED:
        return;
    }
    if (this.#buffered > 0 && this.#inflight.size < this.#maxInFlight) connection.schedule();
    this.#checkDrained();
  }

  #serveKv(connection: Connection, message: unknown[]): void {
    const [, id, key, op, name, value] = message as [number, number, string, number, string, unknown];
    const tenant = parseTenantKey(key)!;
    const reply = (ok: boolean, payload: unknown): void => {
      if (this.#connection === connection)
        connection.queue([KV_RESULT, id, ok, ok ? payload : serializeError(payload)]);
    };
    if (shardFor(tenant.id, this.#workers) !== this.id) {
      reply(false, new ProtocolError(`Worker ${this.id} asked for the kv of tenant ${key}, which it does not serve.`));
      return;
    }
    let result: Promise<unknown>;
    try {
      switch (op) {
        case KV_GET:
          result = this.#store.get(tenant, name);
          break;
        case KV_SET:
          result = this.#store.set(tenant, name, value);
          break;
        case KV_DELETE:
          result = this.#store.delete(tenant, name);
          break;
        case KV_LIST:
        default:
          result = this.#store.list(tenant, name);
          break;
      }
    } catch (error) {
      result = Promise.reject(error);
    }
    Promise.resolve(result).then(
      (payload) => reply(true, payload),
      (error: unknown) => reply(false, error),
    );
  }

  #onRejected(connection: Connection, message: unknown[], error: Error): void {
    switch (message[0]) {
      case BATCH: {
        const [, first, flags, keys, index, events] = message as BatchMessage;
        if (events.length === 1)
          return this.#onRejected(connection, [DISPATCH, first, keys[index[0]!], events[0], flags], error);
        // Too large as a whole: send it in two halves (each rejected again if need be).
        const half = events.length >> 1;
        connection.send([[BATCH, first, flags, keys, index.slice(0, half), events.slice(0, half)]]);
        connection.send([[BATCH, first + half, flags, keys, index.slice(half), events.slice(half)]]);
        return;
      }
      case DISPATCH:
      case SCRIPT:
      case DROP: {
        const item = this.#inflight.get(message[1] as number);
        if (item === undefined) return;
        this.#inflight.delete(item.id);
        this.#fail(item, error);
        this.#checkDrained();
        return;
      }
      case KV_RESULT:
        connection.queue([KV_RESULT, message[1], false, serializeError(error)]);
        return;
      default:
        // WELCOME with a workerData too large to send: the worker cannot start.
        connection.terminate(error);
    }
  }

  #onDisconnected(connection: Connection, cause: Error): void {
    if (connection !== this.#connection) return;
    this.#connection = undefined;
    if (this.#closeSent || this.#lifecycle === 'killed' || this.#lifecycle === 'closed') {
      this.#onGone?.();
      return;
    }
    if (this.#spawn && this.#child !== undefined && !this.#child.exited && !(cause instanceof HeartbeatTimeoutError)) {
      // Most often the process died and its exit is about to be reported: wait a moment for it,
      // so that the in-flight events and the crash name the right cause. A process that lives on
      // reconnects.
      this.#link = 'lost';
      this.#lostCause = cause;
      this.#setTimer(EXIT_GRACE_MS, () => {
        this.#failInflight(cause);
        this.#crashed(cause, 'reconnect');
      });
      return;
    }
    this.#failInflight(cause);
    this.#crashed(cause, cause instanceof HeartbeatTimeoutError || this.#spawn ? 'restart' : 'reconnect');
  }

  // -------------------------------------------------------------------------------------------
  // The process and restarts
  // -------------------------------------------------------------------------------------------

  #launch(): void {
    this.#link = 'starting';
    if (this.#spawn) this.#spawnChild();
    this.#setTimer(this.#startTimeoutMs, () => this.#startTimedOut());
  }

  #childEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const name of this.#inheritEnv) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    for (const [name, value] of Object.entries(this.#env)) if (value !== undefined) env[name] = value;
    env[ENV_HUB_URL] = this.#hub.localUrl ?? this.#hub.url;
    env[ENV_TOKEN] = this.#hub.tokenFor(this.id);
    env[ENV_PARENT_FD] = '3';
    if (this.#module !== undefined) env[ENV_MODULE] = this.#module;
    return env;
  }

  #spawnChild(): void {
    const entry = this.#entry ?? LOADER;
    const args = [...this.#execArgv, entry, '--worker-id', String(this.id), '--process-workers', String(this.#workers)];
    const child = spawn(process.execPath, args, {
      env: this.#childEnv(),
      stdio: ['ignore', this.#stdio, 'pipe', 'pipe'],
      windowsHide: true,
    });
    let markExited!: () => void;
    const exit = new Promise<void>((resolve) => (markExited = resolve));
    const state: ChildState = { process: child, pid: child.pid, exited: false, exit, markExited, stderr: '' };
    this.#child = state;
    trackChild(child);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (this.#stdio === 'inherit') process.stderr.write(chunk);
      state.stderr = (state.stderr + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.once('exit', (code, signal) => this.#onChildExit(state, code, signal));
    child.once('error', (error) => {
      if (state.pid === undefined) this.#onChildExit(state, null, null, error);
    });
  }

  #onChildExit(state: ChildState, code: number | null, signal: NodeJS.Signals | null, error?: Error): void {
    if (state.exited) return;
    state.exited = true;
    untrackChild(state.process);
    (state.process.stdio[3] as Socket | null)?.destroy();
    state.markExited();
    if (state !== this.#child) return;
    if (this.#lifecycle === 'killed' || this.#lifecycle === 'closed' || this.#closeSent) return;
    const how =
      error !== undefined
        ? `could not be started (${error.message})`
        : code !== null
          ? `exited with code ${code}`
          : `was killed by ${signal}`;
    const tail = state.stderr.trim().split('\n').slice(-5).join('\n');
    const cause = new WorkerExitedError(
      `Worker ${this.id}'s process${state.pid === undefined ? '' : ` (pid ${state.pid})`} ${how}.${tail ? `\nIts last stderr lines:\n${tail}` : ''}`,
      {
        exitCode: code,
        signal,
        ...(error === undefined ? {} : { cause: error }),
      },
    );
    switch (this.#link) {
      case 'starting':
        if (this.#startup !== undefined) this.#startFailed(cause);
        else this.#crashed(cause, 'restart');
        return;
      case 'up': {
        const connection = this.#connection;
        this.#connection = undefined;
        connection?.terminate(cause);
        this.#failInflight(cause);
        this.#crashed(cause, 'restart');
        return;
      }
      case 'lost':
      case 'reconnecting':
        this.#clearTimer();
        this.#failInflight(cause);
        this.#crashed(cause, 'restart');
        return;
      default:
        // 'backoff' (we killed it) or 'fatal': nothing more to do.
        return;
    }
  }

  #startTimedOut(): void {
    const cause = new WorkerStartTimeoutError(
      `Worker ${this.id} did not connect to the hub within ${this.#startTimeoutMs} ms.`,
    );
    if (this.#startup !== undefined) this.#startFailed(cause);
    else this.#crashed(cause, 'restart');
  }

  #startFailed(cause: Error): void {
    const startup = this.#startup!;
    this.#startup = undefined;
    startup.reject(cause);
    void this.kill(cause);
  }

  /**
   * Counts one failure (from 1 again when the worker had stayed up `resetAfterMs`). Past
   * `maxFailures` it gives up (emitting `crash` then `fatal`) and returns false.
   */
  #countFailure(cause: Error): boolean {
    const stayedUp = this.#upSince > 0 && Date.now() - this.#upSince >= this.#resetAfterMs;
    this.#upSince = 0;
    this.#failures = stayedUp ? 1 : this.#failures + 1;
    if (this.#failures < this.#maxFailures) return true;
    this.#giveUp(cause);
    return false;
  }

  #emitCrash(cause: Error, restartInMs?: number): void {
    const info: WorkerCrashInfo = { workerId: this.id, cause, failures: this.#failures, restartInMs };
    this.emit('crash', info);
  }

  /**
   * Counts one failure and moves on: waits for the process to reconnect, or restarts it after the
   * backoff, or gives up. `crash` is emitted once the new state is set, so a listener that
   * dispatches sees its events buffered.
   */
  #crashed(cause: Error, next: 'reconnect' | 'restart'): void {
    if (this.#lifecycle !== 'open' && this.#lifecycle !== 'closing') return;
    if (!this.#countFailure(cause)) return;
    if (next === 'reconnect') {
      this.#link = 'reconnecting';
      this.#setTimer(this.#startTimeoutMs, () =>
        this.#crashed(
          new WorkerStartTimeoutError(
            `Worker ${this.id} did not reconnect to the hub within ${this.#startTimeoutMs} ms.`,
            { cause },
          ),
          'restart',
        ),
      );
      this.#emitCrash(cause);
      return;
    }
    this.#link = 'backoff';
    const previous = this.#child;
    if (previous !== undefined && !previous.exited) previous.process.kill('SIGKILL');
    const delay = Math.max(0, Number(this.#backoff(this.#failures)) || 0);
    this.#setTimer(delay, () => {
      // Never two processes for one worker: wait until the previous one is gone.
      void (previous?.exit ?? Promise.resolve()).then(() => {
        if (this.#link === 'backoff' && (this.#lifecycle === 'open' || this.#lifecycle === 'closing')) this.#launch();
      });
    });
    this.#emitCrash(cause, delay);
  }

  #giveUp(cause: Error): void {
    this.#link = 'fatal';
    this.#clearTimer();
    this.#detach?.();
    const child = this.#child;
    if (child !== undefined && !child.exited) child.process.kill('SIGKILL');
    this.#rejectAll(
      new WorkerUnavailableError(
        `Worker ${this.id} failed ${this.#failures} times in a row and was given up; its tenants' events are rejected.`,
        { cause },
      ),
    );
    this.#emitCrash(cause);
    this.emit('fatal', { workerId: this.id, cause, failures: this.#failures, restartInMs: undefined });
    this.#checkDrained();
  }

  async #killChild(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (!child.exited) child.process.kill('SIGKILL');
    await child.exit;
  }

  // -------------------------------------------------------------------------------------------
  // Small helpers
  // -------------------------------------------------------------------------------------------

  #wasKilled(): boolean {
    return this.#lifecycle === 'killed';
  }

  #setTimer(ms: number, fn: () => void): void {
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      fn();
    }, ms);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #drained(): Promise<void> {
    if (this.#buffered === 0 && this.#inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #checkDrained(): void {
    if (this.#drainWaiters.length > 0 && this.#buffered === 0 && this.#inflight.size === 0) this.#resolveDrained();
  }

  #resolveDrained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async #within(promise: Promise<void>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }
}
