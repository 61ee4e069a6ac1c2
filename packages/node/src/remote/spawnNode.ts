import { EventEmitter } from 'node:events';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AbortError,
  assertCloneable,
  deserializeError,
  InvalidArgumentError,
  WorkerCrashedError,
  WorkerKilledError,
} from '@switchyard/core';
import { NodeSpawnError } from '../errors/errors.js';
import type { CallPath, ModuleShape, NodeRequest, NodeResponse } from '../protocol/protocol.js';
import { PROTOCOL_VERSION } from '../protocol/protocol.js';
import type { AnyFunction, RemoteNode } from '../types/remote.js';
import type { NodeTopology, NodeTransport, TransportCallbacks } from './NodeTransport.js';
import { ProcessTransport } from './ProcessTransport.js';
import { ThreadTransport } from './ThreadTransport.js';

export type { NodeTopology } from './NodeTransport.js';

/** Options of {@link spawnNode}. */
export interface SpawnNodeOptions {
  /**
   * Where the node runs: `'thread'`, a worker thread run by piscina; `'process'`, a child process
   * started with `child_process.fork`.
   * @default 'thread'
   */
  topology?: NodeTopology;
  /**
   * Aborting it while the node starts kills the thread or process and rejects with `AbortError`
   * (`ABORT_ERR`, `cause` = `signal.reason`). It has no effect once `spawnNode` resolved.
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * The environment of the thread or process.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Node.js flags of the thread or process (a thread accepts only some of them). A process runs a
   * TypeScript module with a loader here (`['--import', 'tsx']`); a thread on Node.js 20 does not
   * apply `--import` loaders.
   * @default process.execArgv
   */
  execArgv?: string[];
  /**
   * How long `close()` waits for calls in flight before it ends the thread or process anyway, in
   * milliseconds.
   * @default 30_000
   */
  closeTimeoutMs?: number;
}

/** Where a {@link RemoteNodeHandle} is in its life. */
export type RemoteNodeState = 'running' | 'closing' | 'closed' | 'killed' | 'crashed';

/** The events a {@link RemoteNodeHandle} emits. */
export interface RemoteNodeEvents {
  /**
   * The thread or process ended without `kill()` or `close()` (it called `process.exit()`, an
   * uncaught exception, a signal). Calls in flight rejected with `WorkerCrashedError`; later calls
   * reject with `WorkerKilledError`. Nodes are not restarted: spawn a new one.
   */
  crash: [error: WorkerCrashedError];
}

const handles = new WeakMap<object, RemoteNodeHandle>();

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value;
}

function callName(path: CallPath): string {
  return path.length === 1 ? `${path[0]}()` : path[0] === 'default' ? `${path[1]}()` : `${path[0]}.${path[1]}()`;
}

/**
 * The control side of a node spawned by {@link spawnNode}: its thread or process, its state, and
 * the calls in flight. Reach it with {@link remoteNodeOf}; the proxy's `kill()` and `close()` are
 * shortcuts to it.
 */
export class RemoteNodeHandle extends EventEmitter<RemoteNodeEvents> implements AsyncDisposable {
  /** The module's `file:` URL. */
  readonly url: string;
  readonly #transport: NodeTransport;
  #state: RemoteNodeState = 'running';
  #crash: WorkerCrashedError | undefined;
  #inFlight = 0;
  #reason: unknown;
  #killing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** @internal Use {@link spawnNode}. */
  constructor(url: string, createTransport: (callbacks: TransportCallbacks) => NodeTransport) {
    super();
    this.url = url;
    this.#transport = createTransport({
      onCrash: (cause) => {
        if (this.#state !== 'running') return;
        this.#state = 'crashed';
        this.#crash = new WorkerCrashedError(`The node ${this.url} (${this.topology}) crashed: ${cause.message}`, {
          cause,
        });
        this.emit('crash', this.#crash);
      },
    });
  }

  /** Where the node runs. */
  get topology(): NodeTopology {
    return this.#transport.topology;
  }

  /** The node's process id (process topology) while it runs, otherwise `undefined`. */
  get pid(): number | undefined {
    return this.#transport.pid;
  }

  /** The node's worker thread id (thread topology) while it runs, otherwise `undefined`. */
  get threadId(): number | undefined {
    return this.#transport.threadId;
  }

  /** `'running'` until `close()` (`'closing'`, then `'closed'`), `kill()` (`'killed'`) or a crash (`'crashed'`). */
  get state(): RemoteNodeState {
    return this.#state;
  }

  /** Calls sent and not answered yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Ends the thread or process at once. Calls in flight and later calls reject with
   * `WorkerKilledError` (`ERR_WORKER_KILLED`, `cause` = `reason`). Resolves once the thread or
   * process is gone; calling it again returns the same promise.
   */
  kill(reason?: unknown): Promise<void> {
    if (this.#killing !== undefined) return this.#killing;
    if (this.#state === 'running' || this.#state === 'closing') {
      this.#state = 'killed';
      this.#reason = reason;
    }
    this.#killing = this.#transport.kill();
    return this.#killing;
  }

  /**
   * Stops taking calls (they reject with `WorkerKilledError`), waits for the calls in flight (at
   * most `closeTimeoutMs`), then ends the thread or process. Resolves once it is gone; calling it
   * again returns the same promise. `kill()` during `close()` ends the node at once.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#killing !== undefined) return this.#killing;
    if (this.#state === 'running') this.#state = 'closing';
    this.#closing = this.#transport.close().then(() => {
      if (this.#state === 'closing') this.#state = 'closed';
    });
    return this.#closing;
  }

  /** Calls {@link RemoteNodeHandle.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Calls the function at `path` with `args` in the node. */
  async call(path: CallPath, args: unknown[]): Promise<unknown> {
    if (this.#state !== 'running') throw this.#notRunning(callName(path));
    assertCloneable(args, `The arguments of ${callName(path)}`);
    const response = await this.#request({ kind: 'call', version: PROTOCOL_VERSION, path, args }, callName(path));
    if (!response.ok) throw deserializeError(response.error);
    return response.value;
  }

  /** @internal Loads the module in the node and lists what can be called. */
  async describe(): Promise<ModuleShape> {
    const response = await this.#request({ kind: 'describe', version: PROTOCOL_VERSION }, 'loading the module');
    if (!response.ok) throw deserializeError(response.error);
    return response.value as ModuleShape;
  }

  async #request(request: NodeRequest, what: string): Promise<NodeResponse> {
    this.#inFlight++;
    try {
      return await this.#transport.request(request);
    } catch (error) {
      // The thread or process ended under the call. Say why, from this side's point of view.
      if (this.#state === 'running' || this.#state === 'crashed') {
        throw new WorkerCrashedError(
          `The node ${this.url} (${this.topology}) ended while ${what} was in flight; it may or may not have run.`,
          { cause: this.#crash?.cause ?? error },
        );
      }
      throw this.#notRunning(what, error);
    } finally {
      this.#inFlight--;
    }
  }

  #notRunning(what: string, cause?: unknown): WorkerKilledError {
    switch (this.#state) {
      case 'crashed':
        return new WorkerKilledError(`The node ${this.url} crashed; ${what} was not sent. Spawn the node again.`, {
          cause: this.#crash,
        });
      case 'killed':
        return new WorkerKilledError(
          `The node ${this.url} was killed; ${what} ${cause === undefined ? 'was not sent' : 'did not finish'}.`,
          { cause: this.#reason ?? cause },
        );
      default:
        return new WorkerKilledError(
          `The node ${this.url} was closed; ${what} ${cause === undefined ? 'was not sent' : 'did not finish'}.`,
          cause === undefined ? {} : { cause },
        );
    }
  }
}

function toModuleUrl(url: unknown): string {
  if (url instanceof URL) {
    if (url.protocol !== 'file:')
      throw new InvalidArgumentError(
        `Expected \`url\` to be a file: URL or an absolute path, got a ${url.protocol} URL.`,
      );
    return url.href;
  }
  if (typeof url === 'string') {
    if (url.startsWith('file:')) return new URL(url).href;
    if (isAbsolute(url)) return pathToFileURL(url).href;
  }
  throw new InvalidArgumentError(
    `Expected \`url\` to be a file: URL or an absolute path (e.g. new URL('./mailer.node.js', import.meta.url)), got ${describeValue(url)}.`,
  );
}

function validateOptions(options: SpawnNodeOptions): Required<Pick<SpawnNodeOptions, 'topology' | 'closeTimeoutMs'>> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object, got ${describeValue(options)}.`);
  }
  const { topology = 'thread', signal, env, execArgv, closeTimeoutMs = 30_000 } = options;
  if (topology !== 'thread' && topology !== 'process') {
    throw new InvalidArgumentError(
      `Expected \`topology\` to be 'thread' or 'process', got ${describeValue(topology)}.`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}.`);
  }
  if (env !== undefined && (typeof env !== 'object' || env === null)) {
    throw new InvalidArgumentError(`Expected \`env\` to be an object, got ${describeValue(env)}.`);
  }
  if (execArgv !== undefined && (!Array.isArray(execArgv) || !execArgv.every((arg) => typeof arg === 'string'))) {
    throw new InvalidArgumentError(
      `Expected \`execArgv\` to be an array of strings, got ${Array.isArray(execArgv) ? 'an array with other values' : describeValue(execArgv)}.`,
    );
  }
  if (typeof closeTimeoutMs !== 'number' || !Number.isFinite(closeTimeoutMs) || closeTimeoutMs < 0) {
    throw new InvalidArgumentError(
      `Expected \`closeTimeoutMs\` to be a finite number >= 0, got ${describeValue(closeTimeoutMs)}.`,
    );
  }
  return { topology, closeTimeoutMs };
}

function buildProxy(handle: RemoteNodeHandle, shape: ModuleShape): object {
  const proxy: Record<string, unknown> = {};
  const callFor = (path: CallPath): AnyFunction => {
    const call = (...args: unknown[]): Promise<unknown> => handle.call(path, args);
    Object.defineProperty(call, 'name', { value: path[path.length - 1], configurable: true });
    return call;
  };
  const define = (key: string, value: unknown): void => {
    Object.defineProperty(proxy, key, { value, enumerable: true, writable: false, configurable: false });
  };
  // `then` is never set on the proxy itself: it would make the proxy look like a promise to `await`.
  const free = (key: string): boolean => key !== 'then' && !Object.hasOwn(proxy, key);
  for (const name of shape.functions) if (free(name)) define(name, callFor([name]));
  for (const [name, members] of shape.namespaces) {
    if (name === 'default' || !free(name)) continue;
    const namespace: Record<string, unknown> = {};
    for (const member of members) namespace[member] = callFor([name, member]);
    define(name, Object.freeze(namespace));
  }
  const defaults = shape.namespaces.find(([name]) => name === 'default');
  for (const member of defaults?.[1] ?? []) if (free(member)) define(member, callFor(['default', member]));
  const controls: Array<[PropertyKey, AnyFunction]> = [
    ['kill', (reason?: unknown) => handle.kill(reason)],
    ['close', () => handle.close()],
    [Symbol.asyncDispose, () => handle.close()],
  ];
  for (const [key, value] of controls) {
    if (!Object.hasOwn(proxy, key))
      Object.defineProperty(proxy, key, { value, enumerable: false, writable: false, configurable: false });
  }
  handles.set(proxy, handle);
  return Object.freeze(proxy);
}

/**
 * Loads the module at `url` in a worker thread or a child process and returns a typed proxy of
 * it: every exported function becomes an async call across the boundary (arguments and results
 * structured-cloned; errors rebuilt with core's `deserializeError`, so Switchyard errors keep
 * their class and `code` and others arrive as `RemoteError`). See {@link RemoteNode} for what
 * the proxy shows: exported functions, exported nodes and objects of functions as namespaces,
 * and the members of an object `default` export at the top level.
 *
 * Resolves once the module has loaded. Kill the node with `proxy.kill()` (or
 * `remoteNodeOf(proxy).kill()`); `await using` closes it.
 *
 * @typeParam M - The module's type: `typeof import('./mailer.node.js')`.
 * @param url - The module: a `file:` URL (`new URL('./mailer.node.js', import.meta.url)`) or an
 * absolute path. It must be loadable by Node.js as it runs the thread or process: JavaScript, or
 * TypeScript in a process with a loader in `execArgv`.
 * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) for a bad `url` or option.
 * @throws `NodeModuleLoadError` (`ERR_NODE_MODULE_LOAD`) when the module is missing or throws while loading.
 * @throws `NodeSpawnError` (`ERR_NODE_SPAWN`) when the thread or process cannot start.
 * @throws `AbortError` (`ABORT_ERR`) when `signal` aborts first.
 *
 * @example
 * ```ts
 * // mailer.node.ts
 * export default defineNode((node) => {
 *   const [smtp] = node.workers(1);
 *   return { send: smtp.function(async (to: string, body: string) => `queued for ${to}`) };
 * });
 *
 * // main.ts
 * await using mailer = await spawnNode<typeof import('./mailer.node.js')>(
 *   new URL('./mailer.node.js', import.meta.url),
 *   { topology: 'process' },
 * );
 * await mailer.send('ada@example.com', 'hello'); // 'queued for ada@example.com'
 * ```
 */
export async function spawnNode<M = Record<string, AnyFunction>>(
  url: string | URL,
  options: SpawnNodeOptions = {},
): Promise<RemoteNode<M>> {
  const moduleUrl = toModuleUrl(url);
  const { topology, closeTimeoutMs } = validateOptions(options);
  const { signal, env, execArgv } = options;
  if (signal?.aborted) throw new AbortError('spawnNode() was aborted.', { cause: signal.reason });
  let handle: RemoteNodeHandle;
  try {
    handle = new RemoteNodeHandle(moduleUrl, (callbacks) => {
      const transportOptions = { url: moduleUrl, env, execArgv, closeTimeoutMs };
      return topology === 'thread'
        ? new ThreadTransport(transportOptions, callbacks)
        : new ProcessTransport(transportOptions, callbacks);
    });
  } catch (error) {
    throw new NodeSpawnError(
      `Could not start the ${topology} for the node ${moduleUrl}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (signal === undefined) return;
    onAbort = (): void => reject(new AbortError('spawnNode() was aborted.', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const shape = await Promise.race([handle.describe(), aborted]);
    return buildProxy(handle, shape) as RemoteNode<M>;
  } catch (error) {
    await handle.kill(error);
    if (error instanceof WorkerCrashedError) {
      throw new NodeSpawnError(`The ${topology} of the node ${moduleUrl} ended before the module loaded.`, {
        cause: error.cause,
      });
    }
    throw error;
  } finally {
    if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
  }
}

/**
 * The {@link RemoteNodeHandle} behind a proxy returned by {@link spawnNode}: `pid`, `threadId`,
 * `state`, `inFlight`, `kill()`, `close()` and the `crash` event, reachable even when the module
 * exports its own `kill` or `close`.
 *
 * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) when `proxy` did not come from `spawnNode`.
 */
export function remoteNodeOf(proxy: object): RemoteNodeHandle {
  const handle = typeof proxy === 'object' && proxy !== null ? handles.get(proxy) : undefined;
  if (handle === undefined) {
    throw new InvalidArgumentError(
      `Expected \`proxy\` to be a node returned by spawnNode(), got ${describeValue(proxy)}.`,
    );
  }
  return handle;
}
