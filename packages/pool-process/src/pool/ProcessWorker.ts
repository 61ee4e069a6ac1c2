import type { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { RemoteWorkerOptions, RemoteWorkerStats, RestartOptions, WorkerLikeEvents } from '@switchyard/core';
import { assertCloneable, RemoteWorker } from '@switchyard/core';
import { checkInteger, checkObject, moduleUrl } from '@switchyard/core/internal';
import { InvalidProcessOptionError } from '../errors/errors.js';
import type { Hub } from '../hub/Hub.js';
import { ProcessLink } from './ProcessLink.js';

/** How a crashed worker process is restarted: core's {@link RestartOptions}, plus the old names. */
export interface ProcessRestartOptions extends RestartOptions {
  /**
   * @deprecated Use `backoff` (a function). A number is a step: `min(failures, 5) * step`.
   * @default undefined
   */
  backoffMs?: number | ((failures: number) => number);
  /**
   * @deprecated Use `maxConsecutiveFailures`.
   * @default undefined
   */
  maxFailures?: number;
  /**
   * @deprecated Use `stableAfterMs`.
   * @default undefined
   */
  resetAfterMs?: number;
}

/** Options of {@link ProcessWorker}: the shared {@link RemoteWorkerOptions}, plus what a process needs. `createProcessPool()` fills most of them. */
export interface ProcessWorkerOptions extends Omit<RemoteWorkerOptions, 'id' | 'workers' | 'restart'> {
  /** The worker's id: its position in the pool, from 0. */
  id: number;
  /** How many workers the pool has (tenants are sharded over them; `ctx.kv` is checked against it). */
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
   * How crashed processes are restarted.
   * @default { backoff: (failures) => Math.min(failures, 5) * 3000, maxConsecutiveFailures: 10, stableAfterMs: 30_000 }
   */
  restart?: ProcessRestartOptions;
  /**
   * How long a started (or restarted) process may take to connect, and a disconnected one to
   * reconnect, before it counts as failed.
   * @default 30000
   */
  startTimeoutMs?: number;
  /**
   * @deprecated Use `maxQueue` (which counts every accepted and unfinished event).
   * @default undefined
   */
  maxBufferedEvents?: number;
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
  /** How many times the worker was restarted after a crash. */
  restarts: number;
}

/** The events a {@link ProcessWorker} emits: those of every `WorkerLike`, and `online`. */
export interface ProcessWorkerEvents extends WorkerLikeEvents {
  online: [info: WorkerOnlineInfo];
}

/** {@link RemoteWorkerStats} plus the current process id. */
export interface ProcessWorkerStats extends RemoteWorkerStats {
  pid: number | undefined;
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

/** The generic entry that runs `module`: the built one, also when this file runs from source (tests). */
const LOADER = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../dist/worker/loader.js' : '../worker/loader.js', import.meta.url),
);

/** Maps the deprecated restart names onto core's. */
function restartOptions(restart: ProcessRestartOptions | undefined): RestartOptions | undefined {
  checkObject('restart', restart);
  if (restart === undefined) return undefined;
  const { backoffMs, maxFailures, resetAfterMs, ...rest } = restart;
  const out: RestartOptions = { ...rest };
  if (backoffMs !== undefined && rest.backoff === undefined) {
    if (typeof backoffMs === 'function') out.backoff = backoffMs;
    else {
      const step = checkInteger('restart.backoffMs', backoffMs, 0);
      out.backoff = (failures) => Math.min(failures, 5) * step;
    }
  }
  if (maxFailures !== undefined) out.maxConsecutiveFailures ??= maxFailures;
  if (resetAfterMs !== undefined) out.stableAfterMs ??= resetAfterMs;
  return out;
}

function processLink(options: ProcessWorkerOptions): ProcessLink {
  if (options === null || typeof options !== 'object')
    throw new InvalidProcessOptionError(`Expected ProcessWorker options to be an object, got ${typeof options}.`);
  const { hub, spawn = true, entry, module, env = {}, inheritEnv = DEFAULT_INHERIT_ENV, execArgv = [] } = options;
  const { workerData, startTimeoutMs = 30_000, stdio = 'inherit' } = options;
  const workers = checkInteger('workers', options.workers, 1, false, InvalidProcessOptionError);
  if (hub === null || typeof hub !== 'object' || typeof hub.tokenFor !== 'function')
    throw new InvalidProcessOptionError('Expected `hub` to be a Hub made by createHub().');
  if (typeof spawn !== 'boolean')
    throw new InvalidProcessOptionError(`Expected \`spawn\` to be a boolean, got ${typeof spawn}.`);
  if (spawn && (entry === undefined) === (module === undefined)) {
    throw new InvalidProcessOptionError(
      'Expected exactly one of `entry` (a script calling runWorkerProcess) or `module` (a module exporting a worker definition) when `spawn` is true.',
    );
  }
  const entryPath =
    entry === undefined ? undefined : fileURLToPath(moduleUrl(entry, 'entry', InvalidProcessOptionError));
  const modulePath =
    module === undefined ? undefined : fileURLToPath(moduleUrl(module, 'module', InvalidProcessOptionError));
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
  if (stdio !== 'inherit' && stdio !== 'ignore')
    throw new InvalidProcessOptionError(`Expected \`stdio\` to be 'inherit' or 'ignore', got ${String(stdio)}.`);
  assertCloneable(workerData, 'workerData');
  return new ProcessLink({
    hub,
    workers,
    script: spawn ? (entryPath ?? LOADER) : undefined,
    module: modulePath,
    env: { ...env },
    inheritEnv: [...inheritEnv],
    execArgv: [...execArgv],
    workerData,
    startTimeoutMs: checkInteger('startTimeoutMs', startTimeoutMs, 1, false, InvalidProcessOptionError),
    stdio,
  });
}

/**
 * One worker process, seen from the master: core's `RemoteWorker` over a process link, whose
 * events travel over the hub's WebSocket. It spawns the process (or waits for one started
 * elsewhere), restarts it with backoff when it exits, crashes or stops answering liveness probes,
 * and holds the events dispatched meanwhile, delivered in order once the worker is back. `ctx.kv`
 * calls from the worker are served here, from a store the master owns.
 *
 * Create workers with `createProcessPool()`; construct one directly only to manage it yourself.
 */
export class ProcessWorker<E = unknown, R = unknown> extends RemoteWorker<E, R> {
  readonly #link: ProcessLink;
  #started = false;

  constructor(options: ProcessWorkerOptions) {
    const link = processLink(options);
    const { maxBufferedEvents, maxQueue = maxBufferedEvents, restart, ...rest } = options;
    super(
      link,
      {
        ...rest,
        ...(maxQueue === undefined ? {} : { maxQueue }),
        ...(restart === undefined ? {} : { restart: restartOptions(restart)! }),
      },
      true,
    );
    this.#link = link;
    link.online = (pid) =>
      (this as EventEmitter).emit('online', { workerId: this.id, pid, restarts: this.stats().restarts });
    // A worker that is given up or stopped is no longer accepted by the hub.
    this.on('fatal', () => link.detach());
  }

  /** The id of the worker's current process (a spawned child, or what a connected worker announced). */
  get pid(): number | undefined {
    return this.#link.pid;
  }

  /**
   * Spawns the process (unless `spawn` is false) and resolves once the worker connected; rejects
   * with `WorkerStartTimeoutError` or `WorkerExitedError` when it did not (the worker is then killed).
   */
  override start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      try {
        this.#link.attach(this.id);
      } catch (error) {
        void this.kill(error);
        return Promise.reject(error);
      }
    }
    return super.start();
  }

  /** Counters for status boards, with the current process id. */
  override stats(): ProcessWorkerStats {
    return { ...super.stats(), pid: this.#link.pid };
  }

  override async kill(reason?: unknown): Promise<void> {
    await super.kill(reason);
    this.#link.detach();
  }

  override async close(): Promise<void> {
    await super.close();
    this.#link.detach();
  }

  override on<K extends keyof ProcessWorkerEvents>(
    event: K,
    listener: (...args: ProcessWorkerEvents[K]) => void,
  ): this {
    return super.on(event as keyof WorkerLikeEvents, listener as never);
  }

  override once<K extends keyof ProcessWorkerEvents>(
    event: K,
    listener: (...args: ProcessWorkerEvents[K]) => void,
  ): this {
    return super.once(event as keyof WorkerLikeEvents, listener as never);
  }

  override off<K extends keyof ProcessWorkerEvents>(
    event: K,
    listener: (...args: ProcessWorkerEvents[K]) => void,
  ): this {
    return super.off(event as keyof WorkerLikeEvents, listener as never);
  }
}
