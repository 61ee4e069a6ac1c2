import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { Worker } from 'node:worker_threads';
import type { HostResults, KvCall, LinkOp, WorkerDefinition } from '@switchyard/core';
import {
  AbortError,
  InvalidArgumentError,
  isWorkerDefinition,
  ResultNotCloneableError,
  serializeError,
  TenantHost,
} from '@switchyard/core';
import { checkInteger } from '@switchyard/core/internal';
import WebSocket from 'ws';
import {
  ConnectionLostError,
  HubDisconnectedError,
  InvalidProcessOptionError,
  UnserializableValueError,
} from '../errors/errors.js';
import type { Logger } from '../internal/logger.js';
import { consoleLogger, isLogger } from '../internal/logger.js';
import { signConnect } from '../hub/tokens.js';
import { Connection } from '../protocol/Connection.js';
import type { BatchMessage, Welcome } from '../protocol/protocol.js';
import {
  ABORT,
  ADOPT,
  BATCH,
  BROADCAST,
  checkMasterMessage,
  CLOSE,
  CLOSED,
  DISPATCH,
  DROP,
  ENV_HUB_URL,
  ENV_PARENT_FD,
  ENV_RECONNECT_TIMEOUT,
  ENV_TOKEN,
  ENV_WORKER_ID,
  FAILURE,
  FLAG_NOWAIT,
  FLAG_SIGNAL,
  FLAG_TIMED,
  HANDOFF,
  HEADER_PID,
  HEADER_PROTOCOL,
  HEADER_WORKER_ID,
  KILL,
  KV,
  KV_RESULT,
  PROTOCOL_VERSION,
  RESULTS,
  SCRIPT,
  STATS,
  SESSION,
  TIMINGS,
  WELCOME,
} from '../protocol/protocol.js';

/** The op of each work message type. */
const WORK_OPS: Record<number, LinkOp> = {
  [DISPATCH]: 'event',
  [DROP]: 'drop',
  [SCRIPT]: 'script',
  [HANDOFF]: 'handoff',
  [ADOPT]: 'adopt',
};

/** How a disconnected worker process tries to get back to the hub. */
export interface ReconnectOptions {
  /**
   * The first wait before reconnecting; it doubles after each failed attempt.
   * @default 100
   */
  minDelayMs?: number;
  /**
   * The longest wait between two attempts.
   * @default 5000
   */
  maxDelayMs?: number;
  /**
   * How long the worker keeps trying before it concludes the master is gone and exits.
   * @default 60000, or `SWITCHYARD_RECONNECT_TIMEOUT_MS` from the environment
   */
  timeoutMs?: number;
}

/** Options of {@link runWorkerProcess}; every one has an environment or command-line default. */
export interface RunWorkerProcessOptions {
  /**
   * Where the hub listens: `ws://` or `wss://` (another host), or `ws+unix:<path>:/` (this host).
   * @default process.env.SWITCHYARD_HUB_URL
   */
  hubUrl?: string;
  /**
   * This worker's secret token (`hub.tokenFor(id)` on the master). Read from the environment once,
   * then removed from `process.env` so that the definition's code never sees it.
   * @default process.env.SWITCHYARD_WORKER_TOKEN
   */
  token?: string;
  /**
   * This worker's id.
   * @default `--worker-id <id>` from the command line, else process.env.SWITCHYARD_WORKER_ID
   */
  workerId?: number;
  /** How the worker reconnects after losing the hub. */
  reconnect?: ReconnectOptions;
  /**
   * TLS options for a `wss://` hub (a private `ca`, ...). `NODE_EXTRA_CA_CERTS` works too.
   * @default undefined
   */
  tls?: SecureContextOptions & { rejectUnauthorized?: boolean; servername?: string };
  /**
   * Whether the process exits once the worker stops (closed or killed by the master, master gone,
   * refused by the hub): 0 after a close or kill, 1 otherwise.
   * @default true
   */
  exitProcess?: boolean;
  /**
   * Where connection problems are reported.
   * @default console, prefixed with `[switchyard worker <id>]`
   */
  logger?: Logger;
}

/** Why a worker process stopped. */
export interface WorkerStopInfo {
  reason: 'closed' | 'killed' | 'master-gone' | 'refused' | 'stopped';
  /** The exit code the process uses (when `exitProcess` is true). */
  exitCode: number;
}

/** The running worker, as {@link runWorkerProcess} returns it. */
export interface WorkerProcess {
  readonly workerId: number;
  /** Resolves once the worker stopped, with why. */
  readonly stopped: Promise<WorkerStopInfo>;
  /** Stops the worker at once (its tenants' queued events are dropped; the master sees a crash). */
  stop(): Promise<void>;
}

function argValue(name: string): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === name) return argv[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** An integer option that may come as text (a command-line argument, an environment variable). */
function integerOption(name: string, value: unknown, min: number): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return checkInteger(name, number, min, false, InvalidProcessOptionError);
}

const KV_OPS = ['get', 'set', 'delete', 'list'] as const;
const REFUSED = /Unexpected server response: (\d{3})/;
/** Bytes queued towards the hub above which the worker stops reading new events. */
const HIGH_WATER_MARK = 1024 * 1024;
/** How often the running-item reporter looks at the running slot (ms). */
const RUNNING_CHECK_MS = 100;
/**
 * The running-item reporter: a small thread of a spawned worker process that reads the slot where
 * the host writes the item whose handler runs synchronously. An item still there one check later
 * is written to the master's pipe (`<id>\n`), and `0\n` once it left, so that the master blames the
 * right tenant when this process hangs: its main thread, stuck in the handler, cannot say it.
 */
const RUNNING_REPORTER = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { running, fd, everyMs } = workerData;
let seen = 0;
let reported = 0;
const report = (id) => {
  try {
    writeSync(fd, id + '\\n');
    reported = id;
  } catch {}
};
setInterval(() => {
  const id = Atomics.load(running, 0);
  if (id !== 0 && id === seen && id !== reported) report(id);
  else if (reported !== 0 && id !== reported) report(0);
  seen = id;
}, everyMs);
`;

/**
 * The worker process side. Connects to the hub, runs `definition`'s tenants with core's
 * `TenantRuntime` (per-tenant FIFO, concurrency across tenants, startup before the first event),
 * serves `ctx.kv` through the hub, and reconnects with backoff when the connection drops. It exits
 * when the master closes or kills it, when the master is gone (the parent pipe closed, or no hub
 * within `reconnect.timeoutMs`), or when the hub refuses its token.
 * @internal Use {@link runWorkerProcess}.
 */
class WorkerProcessEngine implements WorkerProcess {
  readonly workerId: number;
  readonly stopped: Promise<WorkerStopInfo>;
  readonly #definition: WorkerDefinition;
  readonly #url: string;
  readonly #token: string;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #reconnectTimeout: number;
  readonly #tls: RunWorkerProcessOptions['tls'];
  readonly #exitProcess: boolean;
  readonly #logger: Logger;
  #resolveStopped!: (info: WorkerStopInfo) => void;
  #state: 'running' | 'closing' | 'stopped' = 'running';
  #host: TenantHost | undefined;
  #ws: WebSocket | undefined;
  #connection: Connection | undefined;
  #welcome: Welcome | undefined;
  /** The key the hub gave this process to reconnect with (a new one on every connection). */
  #session: string | undefined;
  #generation = 0;
  #attempt = 0;
  #disconnectedAt = 0;
  #refusedStatus: number | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #lastPing = 0;
  #parentPipe: Socket | undefined;
  /** Where the host writes the item whose handler runs synchronously (read by the running-item reporter). */
  readonly #running = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

  constructor(definition: WorkerDefinition, options: RunWorkerProcessOptions) {
    this.#definition = definition;
    const url = options.hubUrl ?? process.env[ENV_HUB_URL];
    if (typeof url !== 'string' || !/^(wss?:\/\/|ws\+unix:)/.test(url)) {
      throw new InvalidProcessOptionError(
        `Expected the hub URL (option \`hubUrl\` or ${ENV_HUB_URL}) to start with ws://, wss:// or ws+unix:, got ${url === undefined ? 'nothing' : JSON.stringify(url)}.`,
      );
    }
    const token = options.token ?? process.env[ENV_TOKEN];
    if (typeof token !== 'string' || token.length === 0)
      throw new InvalidProcessOptionError(`Expected a token (option \`token\` or ${ENV_TOKEN}), got nothing.`);
    delete process.env[ENV_TOKEN];
    this.workerId = integerOption(
      'workerId',
      options.workerId ?? argValue('--worker-id') ?? process.env[ENV_WORKER_ID],
      0,
    );
    const {
      minDelayMs = 100,
      maxDelayMs = 5000,
      timeoutMs = process.env[ENV_RECONNECT_TIMEOUT] ?? 60_000,
    } = options.reconnect ?? {};
    this.#minDelay = integerOption('reconnect.minDelayMs', minDelayMs, 1);
    this.#maxDelay = integerOption('reconnect.maxDelayMs', maxDelayMs, this.#minDelay);
    this.#reconnectTimeout = integerOption('reconnect.timeoutMs', timeoutMs, 0);
    this.#url = url;
    this.#token = token;
    this.#tls = options.tls;
    this.#exitProcess = options.exitProcess ?? true;
    const logger = options.logger ?? consoleLogger(`worker ${this.workerId}`);
    if (!isLogger(logger))
      throw new InvalidProcessOptionError('Expected `logger` to have info, warn and error functions.');
    this.#logger = logger;
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  start(): void {
    const fd = process.env[ENV_PARENT_FD];
    if (fd !== undefined && /^\d+$/.test(fd)) {
      // The master holds the other end of this pipe; it closes when the master dies, even by SIGKILL.
      try {
        const pipe = new Socket({ fd: Number(fd), readable: true, writable: false });
        pipe.on('end', () => this.#masterGone('the master process is gone (its pipe closed)'));
        pipe.on('close', () => this.#masterGone('the master process is gone (its pipe closed)'));
        pipe.on('error', () => this.#masterGone('the master process is gone (its pipe failed)'));
        pipe.resume();
        pipe.unref();
        this.#parentPipe = pipe;
        this.#reportRunning(Number(fd));
      } catch (error) {
        this.#logger.warn(`cannot watch the master's pipe (fd ${fd}): ${(error as Error).message}`);
      }
    }
    this.#disconnectedAt = Date.now();
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stop('stopped', 0);
    await this.stopped;
  }

  /**
   * Tells the master that spawned this process (on its pipe, `fd`) which item's handler runs: the
   * running-item reporter for a hang, and an exit hook for a handler that ends the process.
   */
  #reportRunning(fd: number): void {
    const running = this.#running;
    process.on('exit', () => {
      const id = Atomics.load(running, 0);
      if (id === 0) return;
      try {
        writeSync(fd, `${id}\n`);
      } catch {
        // The master is gone: nobody to tell.
      }
    });
    try {
      const reporter = new Worker(RUNNING_REPORTER, {
        eval: true,
        workerData: { running, fd, everyMs: RUNNING_CHECK_MS },
        stdout: false,
        stderr: false,
      });
      reporter.on('error', (error) => this.#logger.warn(`the running-item reporter stopped: ${error.message}`));
      reporter.unref();
    } catch (error) {
      this.#logger.warn(`cannot start the running-item reporter: ${(error as Error).message}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Connecting
  // -------------------------------------------------------------------------------------------

  #connect(): void {
    this.#reconnectTimer = undefined;
    if (this.#state !== 'running') return;
    const ws = new WebSocket(this.#url, {
      headers: {
        // Signed, never sent: the session key of this process once it has one, its own key before.
        authorization:
          this.#session === undefined
            ? signConnect(this.#token, this.workerId, 'key')
            : signConnect(this.#session, this.workerId, 'session'),
        [HEADER_WORKER_ID]: String(this.workerId),
        [HEADER_PROTOCOL]: String(PROTOCOL_VERSION),
        [HEADER_PID]: String(process.pid),
      },
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      ...(this.#tls ?? {}),
    });
    this.#ws = ws;
    this.#refusedStatus = undefined;
    ws.on('error', (error) => {
      const refused = REFUSED.exec(error.message);
      if (refused !== null) this.#refusedStatus = Number(refused[1]);
      if (this.#connection === undefined)
        this.#logger.warn(`cannot connect to the hub at ${this.#url}: ${error.message}`);
    });
    ws.once('open', () => this.#onOpen(ws));
    ws.once('close', () => this.#onClose(ws));
  }

  #onOpen(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    this.#generation++;
    const connection = new Connection(ws, {
      label: 'the hub',
      maxPayload: 16 * 1024 * 1024,
      highWaterMark: HIGH_WATER_MARK,
      check: checkMasterMessage,
      logger: this.#logger,
    });
    connection.handlers = {
      message: (message) => this.#onMessage(connection, message),
      fill: () => this.#fill(),
      rejected: (message, error) => this.#onRejected(connection, message, error),
      drain: () => connection.resume(),
      ping: () => {
        this.#lastPing = Date.now();
        // Pings are the liveness probes: the answer carries the heap, checked against recycle.maxHeapBytes even while idle.
        this.#sendStats(connection);
      },
      closed: () => undefined,
    };
    this.#connection = connection;
    this.#attempt = 0;
    if (this.#generation > 1) this.#logger.info(`reconnected to the hub at ${this.#url}`);
  }

  #onClose(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    const hadConnection = this.#connection !== undefined;
    this.#connection = undefined;
    this.#welcome = undefined;
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    // The master has failed these events already (WorkerCrashedError): do not start the ones still
    // queued; kv calls in flight are lost.
    this.#host?.disconnected(new HubDisconnectedError('The connection to the hub was lost.'));
    if (this.#state === 'closing') return this.#stop('closed', 0);
    if (this.#state !== 'running') return;
    const status = this.#refusedStatus;
    if (status === 400 || status === 401 || status === 403) {
      this.#logger.error(`the hub at ${this.#url} refused this worker (HTTP ${status}); check its worker id and token`);
      return this.#stop('refused', 1);
    }
    if (hadConnection) {
      this.#disconnectedAt = Date.now();
      this.#logger.warn(`lost the connection to the hub at ${this.#url}; reconnecting`);
    }
    if (Date.now() - this.#disconnectedAt >= this.#reconnectTimeout) {
      return this.#masterGone(`could not reach the hub at ${this.#url} for ${this.#reconnectTimeout} ms`);
    }
    const delay = Math.min(this.#maxDelay, this.#minDelay * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  #armWatchdog(heartbeatMs: number): void {
    clearInterval(this.#watchdog);
    this.#lastPing = Date.now();
    const limit = heartbeatMs * 3;
    // Checked after the poll phase (setImmediate), so pings that arrived while this process was busy count.
    this.#watchdog = setInterval(
      () =>
        setImmediate(() => {
          if (this.#connection !== undefined && Date.now() - this.#lastPing > limit) {
            this.#logger.warn(`the hub sent no ping for ${limit} ms; reconnecting`);
            this.#connection.terminate(new ConnectionLostError('The hub stopped pinging.'));
          }
        }),
      heartbeatMs,
    );
    this.#watchdog.unref();
  }

  #masterGone(why: string): void {
    if (this.#state === 'stopped') return;
    this.#logger.warn(`${why}; exiting`);
    this.#stop('master-gone', 1);
  }

  #stop(reason: WorkerStopInfo['reason'], exitCode: number): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#watchdog);
    this.#host?.kill(new ConnectionLostError(`The worker stopped (${reason}).`));
    this.#ws?.terminate();
    this.#parentPipe?.destroy();
    this.#resolveStopped({ reason, exitCode });
    if (this.#exitProcess) process.exit(exitCode);
  }

  // -------------------------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------------------------

  #onMessage(connection: Connection, message: unknown[]): void {
    const type = message[0];
    if (type === SESSION) {
      this.#session = message[1] as string;
      return;
    }
    if (type === WELCOME) return this.#onWelcome(connection, message[1] as Welcome);
    const host = this.#host;
    if (host === undefined || this.#welcome === undefined) {
      connection.protocolError(`message type ${String(type)} arrived before WELCOME`);
      return;
    }
    switch (type) {
      case DISPATCH:
      case DROP:
      case SCRIPT:
      case HANDOFF:
      case ADOPT: {
        const flags = message[4] as number;
        const payload = type === SCRIPT ? [message[5], message[6], message[3]] : message[3];
        const op = WORK_OPS[type]!;
        host.run(
          message[1] as number,
          op,
          message[2] as string,
          payload,
          (flags & FLAG_NOWAIT) === 0,
          (flags & FLAG_SIGNAL) !== 0,
          undefined,
          (type === DISPATCH ? message[5] : type === SCRIPT ? message[7] : undefined) as string | undefined,
          (flags & FLAG_TIMED) !== 0,
        );
        return;
      }
      case BATCH: {
        const [, first, flags, keys, index, events] = message as BatchMessage;
        const waited = (flags & FLAG_NOWAIT) === 0;
        const cancellable = (flags & FLAG_SIGNAL) !== 0;
        const timed = (flags & FLAG_TIMED) !== 0;
        for (let i = 0; i < events.length; i++)
          host.run(first + i, 'event', keys[index[i]!]!, events[i], waited, cancellable, undefined, undefined, timed);
        return;
      }
      case BROADCAST:
        host.run(message[1] as number, 'broadcast', '', message[2], true, ((message[3] as number) & FLAG_SIGNAL) !== 0);
        return;
      case ABORT:
        host.cancel(message[1] as number, new AbortError('The master aborted the dispatch.'));
        return;
      case KV_RESULT:
        host.kvAnswer(message[1] as number, message[2] as boolean, message[3]);
        return;
      case CLOSE:
        void this.#close(connection, host);
        return;
      case KILL:
        this.#logger.warn(`killed by the master (${String(message[1])})`);
        this.#stop('killed', 0);
        return;
    }
  }

  #onWelcome(connection: Connection, welcome: Welcome): void {
    if (welcome.workerId !== this.workerId) {
      connection.protocolError(`WELCOME names worker ${welcome.workerId}, but this is worker ${this.workerId}`);
      connection.flush(true);
      connection.close(1008, 'worker id mismatch');
      return;
    }
    this.#welcome = welcome;
    connection.maxPayload = welcome.maxPayload;
    if (this.#host === undefined) {
      this.#host = new TenantHost(this.#definition, {
        workerId: this.workerId,
        workerData: welcome.workerData,
        output: { results: (results) => this.#sendResults(results), kv: (id, call) => this.#sendKv(id, call) },
        running: this.#running,
      });
      void this.#host.start();
    }
    this.#armWatchdog(welcome.heartbeatMs);
  }

  /** A turn's results (the master already failed everything sent on a connection that is gone). */
  #sendResults(results: HostResults): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    const { tenants, handled, failed, heapUsed = 0 } = results.stats;
    connection.queue([STATS, tenants, handled, failed, heapUsed]);
    const { handlingMs } = results;
    if (handlingMs !== undefined) {
      // The timed ones only (JSON has no NaN).
      const ids: number[] = [];
      const ms: number[] = [];
      for (let i = 0; i < handlingMs.length; i++) {
        if (Number.isNaN(handlingMs[i])) continue;
        ids.push(i < results.ids.length ? results.ids[i]! : results.failedIds[i - results.ids.length]!);
        ms.push(handlingMs[i]!);
      }
      connection.queue([TIMINGS, ids, ms]);
    }
    if (results.ids.length > 0) connection.queue([RESULTS, results.ids, results.values]);
    for (let i = 0; i < results.failedIds.length; i++)
      connection.queue([FAILURE, results.failedIds[i], results.errors[i]]);
  }

  /** The incarnation's counters and heap, once the host runs. */
  #sendStats(connection: Connection): void {
    const host = this.#host;
    if (host === undefined || this.#welcome === undefined || connection !== this.#connection) return;
    const { tenants, handled, failed, heapUsed = 0 } = host.stats();
    connection.queue([STATS, tenants, handled, failed, heapUsed]);
  }

  /** A `ctx.kv` call, carried to the master, which owns the store. */
  #sendKv(id: number, call: KvCall): void {
    const connection = this.#connection;
    if (connection === undefined || this.#welcome === undefined || this.#state === 'stopped') {
      this.#host?.kvAnswer(id, false, serializeError(new HubDisconnectedError()));
      return;
    }
    const op = KV_OPS.indexOf(call.op);
    connection.queue([KV, id, call.tenant, op, call.op === 'list' ? call.arg : call.key, call.arg]);
  }

  #fill(): void {
    // Stop reading events while the hub is slow to take our results.
    const connection = this.#connection;
    if (connection !== undefined && connection.congested) connection.pause();
  }

  #onRejected(connection: Connection, message: unknown[], error: Error): void {
    switch (message[0]) {
      case RESULTS: {
        const [, ids, values] = message as [number, number[], unknown[]];
        // One of them cannot be sent: send them one by one, so that only that one fails.
        if (ids.length > 1) for (let i = 0; i < ids.length; i++) connection.send([[RESULTS, [ids[i]], [values[i]]]]);
        else connection.queue([FAILURE, ids[0], serializeError(asResultError(error))]);
        return;
      }
      case FAILURE:
        connection.queue([FAILURE, message[1], serializeError(error)]);
        return;
      case KV:
        this.#host?.kvAnswer(message[1] as number, false, serializeError(error));
        return;
      default:
        this.#logger.error(`could not send a message of type ${String(message[0])} to the hub: ${error.message}`);
    }
  }

  async #close(connection: Connection, host: TenantHost): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'closing';
    try {
      await host.close();
    } catch (error) {
      this.#logger.error(`closing the tenants failed: ${(error as Error).message}`);
    }
    if (this.#state !== 'closing') return;
    connection.queue([CLOSED]);
    connection.flush(true);
    connection.close(1000, 'closed');
    // If the hub never completes the closing handshake, stop anyway.
    setTimeout(() => this.#stop('closed', 0), 2000).unref();
  }
}

/** A result that cannot be serialized fails with the same error as on every topology (`ERR_RESULT_NOT_CLONEABLE`). */
function asResultError(error: Error): Error {
  if (!(error instanceof UnserializableValueError)) return error;
  return new ResultNotCloneableError(
    `The handler's result cannot be sent back from the worker: ${error.message}. Return plain data (structured-cloneable values).`,
    { cause: error },
  );
}

/**
 * Runs `definition` in this process as worker `--worker-id` of a process pool: connects to the hub
 * with the URL and token from the environment (`SWITCHYARD_HUB_URL`, `SWITCHYARD_WORKER_TOKEN`),
 * handles the events the master sends, and reconnects with backoff when the connection drops. The
 * entry script of `createProcessPool({ entry })` calls it; so does a worker an operator starts by
 * hand on another host.
 *
 * @example
 * ```ts
 * // worker.js
 * import { runWorkerProcess } from '@switchyard/pool-process/worker';
 * import { counter } from './definition.js';
 * runWorkerProcess(counter);
 * ```
 */
export function runWorkerProcess(
  definition: WorkerDefinition<any, any, any>,
  options: RunWorkerProcessOptions = {},
): WorkerProcess {
  if (!isWorkerDefinition(definition))
    throw new InvalidArgumentError('Expected a worker definition made by defineWorker(), got something else.');
  if (options === null || typeof options !== 'object')
    throw new InvalidProcessOptionError(`Expected options to be an object, got ${typeof options}.`);
  const engine = new WorkerProcessEngine(definition, options);
  engine.start();
  return engine;
}
