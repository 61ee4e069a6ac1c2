import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Incarnation, IncarnationStats, LinkHost, LinkItem, WorkerLink } from '@switchyard/core';
import { deserializeError, InvalidEventError, serializeError, WorkerHungError } from '@switchyard/core';
import {
  ConnectionLostError,
  HeartbeatTimeoutError,
  UnserializableValueError,
  WorkerExitedError,
  WorkerStartTimeoutError,
} from '../errors/errors.js';
import type { Hub } from '../hub/Hub.js';
import type { ConnectionInfo } from '../hub/internal.js';
import { attachWorker, issueCredential } from '../hub/internal.js';
import type { Connection } from '../protocol/Connection.js';
import type { BatchMessage } from '../protocol/protocol.js';
import {
  ABORT,
  ADOPT,
  HANDOFF,
  BATCH,
  BROADCAST,
  CLOSE,
  CLOSED,
  DISPATCH,
  DROP,
  ENV_HUB_URL,
  ENV_MODULE,
  ENV_PARENT_FD,
  ENV_TOKEN,
  FAILURE,
  FLAG_NOWAIT,
  FLAG_SIGNAL,
  FLAG_TIMED,
  KILL,
  KV,
  KV_RESULT,
  RESULTS,
  SCRIPT,
  STATS,
  TIMINGS,
  WELCOME,
} from '../protocol/protocol.js';
import { trackChild, untrackChild } from './children.js';

/** How long to wait for the process's exit after its connection closed, to report the right cause. */
const EXIT_GRACE_MS = 250;
const STDERR_TAIL = 2048;
const KV_OPS = ['get', 'set', 'delete', 'list'] as const;

/** What a process link needs. @internal */
export interface ProcessLinkOptions {
  readonly hub: Hub;
  readonly workers: number;
  /** The script to run (an entry calling `runWorkerProcess`, or the generic loader); `undefined` when not spawning. */
  readonly script: string | undefined;
  readonly module: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly inheritEnv: readonly string[];
  readonly execArgv: readonly string[];
  readonly workerData: unknown;
  readonly startTimeoutMs: number;
  readonly stdio: 'inherit' | 'ignore';
}

interface Child {
  readonly process: ChildProcess;
  readonly pid: number | undefined;
  exited: boolean;
  readonly exit: Promise<void>;
  stderr: string;
}

/** A run of DISPATCH items with consecutive ids and the same flags, sent as one columnar BATCH message. */
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

/** The message type of a non-event, non-script item. */
const WORK_TYPES = { drop: DROP, handoff: HANDOFF, adopt: ADOPT } as const;

function flagsOf(item: LinkItem): number {
  return (item.waited ? 0 : FLAG_NOWAIT) | (item.cancellable ? FLAG_SIGNAL : 0) | (item.timed ? FLAG_TIMED : 0);
}

/**
 * An incarnation is one worker process (spawned here, or started elsewhere and connecting with its
 * token) and its WebSocket to the hub. A connection that drops while the process lives is an
 * interruption: the process may reconnect within `startTimeoutMs`.
 * @internal
 */
export class ProcessLink implements WorkerLink {
  /** The pid of the current process (spawned, or announced by the worker). */
  pid: number | undefined;
  /** Called when a worker connected (first start, restart or reconnect). */
  online: ((pid: number | undefined) => void) | undefined;
  readonly #options: ProcessLinkOptions;
  #current: ((connection: Connection, info: ConnectionInfo) => void) | undefined;
  #detach: (() => void) | undefined;

  constructor(options: ProcessLinkOptions) {
    this.#options = options;
  }

  /** Registers the worker id with the hub (throws when another worker serves it). */
  attach(workerId: number): void {
    this.#detach = this.#options.hub[attachWorker](workerId, {
      connected: (connection, info) => {
        if (this.#current === undefined)
          connection.terminate(new ConnectionLostError(`Worker ${workerId} is stopped.`));
        else this.#current(connection, info);
      },
    });
  }

  detach(): void {
    this.#detach?.();
    this.#current = undefined;
  }

  start(host: LinkHost): Incarnation {
    const o = this.#options;
    const id = host.workerId;
    let ended = false;
    let connection: Connection | undefined;
    let child: Child | undefined;
    let timer: NodeJS.Timeout | undefined;
    let closing: (() => void) | undefined;
    let pending: LinkItem[] = [];
    let readyOnce = false;
    /** Why the connection dropped, while waiting to see whether the process exits. */
    let dropped: Error | undefined;
    /** The item whose handler the process last said runs synchronously (`0`: none), from its pipe. */
    let running = 0;
    /** The process exited; its last word on the pipe is awaited before the crash is reported. */
    let exiting = false;
    /** Handling times (TIMINGS) of items whose results follow, and when they arrived. */
    const timings = new Map<number, number>();
    let timingsAt = 0;
    /** How long item `id`'s handler ran when it was timed (forgotten once read), else `undefined`. */
    const timing = (id: number): number | undefined => {
      if (timings.size === 0) return undefined;
      const ms = timings.get(id);
      timings.delete(id);
      return ms;
    };
    const setTimer = (ms: number, fn: () => void): void => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
      timer.unref();
    };
    const lost = (cause: Error, retry = true): void => {
      if (ended) return;
      ended = true;
      dropped = undefined;
      clearTimeout(timer);
      const gone = connection;
      connection = undefined;
      gone?.terminate(cause);
      host.lost(cause, { retry });
    };
    const stop = async (): Promise<void> => {
      ended = true;
      clearTimeout(timer);
      if (this.#current === onConnected) this.#current = undefined;
      const gone = connection;
      connection = undefined;
      if (child !== undefined) {
        gone?.terminate(new ConnectionLostError(`Worker ${id} was stopped.`));
        if (!child.exited) child.process.kill('SIGKILL');
        await child.exit;
      } else if (gone !== undefined) {
        gone.send([[KILL, 'killed']]);
        gone.close(1000, 'killed');
      }
    };

    // ---------------------------------------------------------------- the process
    if (o.script !== undefined) {
      const env: Record<string, string> = {};
      for (const name of o.inheritEnv) {
        const value = process.env[name];
        if (value !== undefined) env[name] = value;
      }
      for (const [name, value] of Object.entries(o.env)) if (value !== undefined) env[name] = value;
      env[ENV_HUB_URL] = o.hub.localUrl ?? o.hub.url;
      // A fresh key for this process (one incarnation); everything issued before for the id stops working.
      env[ENV_TOKEN] = o.hub[issueCredential](id);
      env[ENV_PARENT_FD] = '3';
      if (o.module !== undefined) env[ENV_MODULE] = o.module;
      const args = [...o.execArgv, o.script, '--worker-id', String(id), '--process-workers', String(o.workers)];
      const proc = spawn(process.execPath, args, {
        env,
        stdio: ['ignore', o.stdio, 'pipe', 'pipe'],
        windowsHide: true,
      });
      let markExited!: () => void;
      const state: Child = {
        process: proc,
        pid: proc.pid,
        exited: false,
        exit: new Promise<void>((resolve) => (markExited = resolve)),
        stderr: '',
      };
      child = state;
      this.pid = proc.pid;
      trackChild(proc);
      proc.stderr?.on('data', (chunk: Buffer) => {
        if (o.stdio === 'inherit') process.stderr.write(chunk);
        state.stderr = (state.stderr + chunk.toString()).slice(-STDERR_TAIL);
      });
      // The process's running-item reports: `<id>\n` while a handler runs on synchronously, `0\n` after.
      const pipe = proc.stdio[3] as Socket | null;
      if (pipe !== null) {
        let line = '';
        pipe.setEncoding('latin1');
        pipe.on('data', (chunk: string) => {
          line += chunk;
          for (let end = line.indexOf('\n'); end >= 0; end = line.indexOf('\n')) {
            const id = Number(line.slice(0, end));
            line = line.slice(end + 1);
            if (Number.isSafeInteger(id) && id >= 0) running = id;
          }
          if (line.length > 32) line = '';
        });
        pipe.on('error', () => undefined);
        pipe.unref();
      }
      const onExit = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
        if (state.exited) return;
        state.exited = true;
        untrackChild(proc);
        markExited();
        closing?.();
        if (ended) {
          pipe?.destroy();
          return;
        }
        const how =
          error !== undefined
            ? `could not be started (${error.message})`
            : code !== null
              ? `exited with code ${code}`
              : `was killed by ${signal}`;
        const tail = state.stderr.trim().split('\n').slice(-5).join('\n');
        const cause = new WorkerExitedError(
          `Worker ${id}'s process${state.pid === undefined ? '' : ` (pid ${state.pid})`} ${how}.${tail ? `\nIts last stderr lines:\n${tail}` : ''}`,
          { exitCode: code, signal, ...(error === undefined ? {} : { cause: error }) },
        );
        // Exiting before it ever connected is a start failure, never retried for a first start.
        const report = (): void => {
          clearTimeout(grace);
          exiting = false;
          pipe?.destroy();
          lost(cause, readyOnce);
        };
        // Its last word (the item whose handler ended it) may still be on the pipe: read it first.
        exiting = true;
        // Nothing else reports meanwhile (a dropped connection's own grace timer included).
        clearTimeout(timer);
        const grace = setTimeout(report, EXIT_GRACE_MS);
        if (pipe === null || pipe.destroyed || pipe.readableEnded) report();
        else pipe.once('close', report);
      };
      proc.once('exit', (code, signal) => onExit(code, signal));
      proc.once('error', (error) => {
        if (state.pid === undefined) onExit(null, null, error);
      });
    }

    // ---------------------------------------------------------------- the connection
    const waitForConnection = (what: string, cause?: Error): void =>
      setTimer(o.startTimeoutMs, () =>
        lost(
          new WorkerStartTimeoutError(`Worker ${id} did not ${what} the hub within ${o.startTimeoutMs} ms.`, { cause }),
          readyOnce,
        ),
      );
    const fill = (batch: unknown[], max: number): void => {
      let run: Run | undefined;
      let taken = 0;
      while (taken < pending.length && batch.length < max) {
        const item = pending[taken++]!;
        const flags = flagsOf(item);
        if (item.op === 'event' && item.traceparent !== undefined) {
          // A traced event travels on its own, with its traceparent.
          if (run !== undefined) batch.push(runMessage(run));
          run = undefined;
          batch.push([DISPATCH, item.id, item.key, item.payload, flags, item.traceparent]);
        } else if (item.op === 'event') {
          if (run === undefined || run.flags !== flags || run.next !== item.id) {
            if (run !== undefined) batch.push(runMessage(run));
            run = { first: item.id, next: item.id, flags, keys: [], slots: new Map(), index: [], events: [] };
          }
          let slot = run.slots.get(item.key);
          if (slot === undefined) {
            slot = run.keys.length;
            run.keys.push(item.key);
            run.slots.set(item.key, slot);
          }
          run.index.push(slot);
          run.events.push(item.payload);
          run.next++;
        } else if (item.op === 'broadcast') {
          if (run !== undefined) batch.push(runMessage(run));
          run = undefined;
          batch.push([BROADCAST, item.id, item.payload, flags]);
        } else {
          if (run !== undefined) batch.push(runMessage(run));
          run = undefined;
          const [name, code, event] = item.op === 'script' ? (item.payload as [string, string, unknown]) : [];
          batch.push(
            item.op === 'script'
              ? item.traceparent === undefined
                ? [SCRIPT, item.id, item.key, event, flags, name, code]
                : [SCRIPT, item.id, item.key, event, flags, name, code, item.traceparent]
              : [WORK_TYPES[item.op as keyof typeof WORK_TYPES], item.id, item.key, item.payload, flags],
          );
        }
      }
      if (run !== undefined) batch.push(runMessage(run));
      pending = taken === pending.length ? [] : pending.slice(taken);
    };
    const onMessage = (message: unknown[]): void => {
      switch (message[0]) {
        case STATS:
          host.stats({
            tenants: message[1] as number,
            handled: message[2] as number,
            failed: message[3] as number,
            ...(message[4] === undefined ? {} : { heapUsed: message[4] as number }),
          });
          return;
        case RESULTS: {
          const [, ids, values] = message as [number, number[], unknown[]];
          for (let i = 0; i < ids.length; i++) host.settle(ids[i]!, true, values[i], timing(ids[i]!), timingsAt);
          return;
        }
        case TIMINGS: {
          // Sent right before the results they time (the same flush of the worker's queue).
          const [, ids, handlingMs] = message as [number, number[], number[]];
          timingsAt = performance.now();
          for (let i = 0; i < ids.length; i++) timings.set(ids[i]!, handlingMs[i]!);
          return;
        }
        case FAILURE: {
          const id = message[1] as number;
          return host.settle(id, false, deserializeError(message[2] as never), timing(id), timingsAt);
        }
        case KV: {
          const [, kvId, tenant, op, key, arg] = message as [number, number, string, number, string, unknown];
          const current = connection;
          const reply = (ok: boolean, payload: unknown): void => {
            if (connection === current) current?.queue([KV_RESULT, kvId, ok, ok ? payload : serializeError(payload)]);
          };
          host.kv({ op: KV_OPS[op]!, tenant, key, arg: op === 3 ? key : arg }).then(
            (payload) => reply(true, payload),
            (error: unknown) => reply(false, error),
          );
          return;
        }
        case CLOSED:
          return;
      }
    };
    const onRejected = (current: Connection, message: unknown[], error: Error): void => {
      switch (message[0]) {
        case BATCH: {
          const [, first, flags, keys, index, events] = message as BatchMessage;
          if (events.length === 1)
            return onRejected(current, [DISPATCH, first, keys[index[0]!], events[0], flags], error);
          // Too large or not serializable as a whole: send it in two halves (each rejected again if need be).
          const half = events.length >> 1;
          current.send([[BATCH, first, flags, keys, index.slice(0, half), events.slice(0, half)]]);
          current.send([[BATCH, first + half, flags, keys, index.slice(half), events.slice(half)]]);
          return;
        }
        case DISPATCH:
        case SCRIPT:
        case DROP:
          // Too large (PayloadTooLargeError) or not serializable: only it fails, with the error
          // every topology gives an event that cannot cross (ERR_INVALID_EVENT).
          return host.settle(
            message[1] as number,
            false,
            error instanceof UnserializableValueError
              ? new InvalidEventError(
                  `The event cannot be sent to worker ${id}'s process: ${error.message}. Send plain data (structured-cloneable values).`,
                  { cause: error },
                )
              : error,
          );
        case BROADCAST:
          // Too large (PayloadTooLargeError) or not serializable (UnserializableValueError): only it fails.
          return host.settle(message[1] as number, false, error);
        case KV_RESULT:
          current.queue([KV_RESULT, message[1], false, serializeError(error)]);
          return;
        default:
          // WELCOME with a workerData too large to send: the worker cannot start.
          current.terminate(error);
      }
    };
    const onClosed = (current: Connection, cause: Error): void => {
      if (current !== connection) return;
      connection = undefined;
      // The runtime fails what was sent; nothing of it goes out again on a new connection.
      pending = [];
      timings.clear();
      closing?.();
      // The process exited: its exit is about to be reported, with its cause.
      if (ended || exiting) return;
      // A worker that stopped answering is hung, whichever probe noticed first (the hub's ping or the
      // runtime's liveness probe): one code on every topology, the hub's finding as its cause.
      if (cause instanceof HeartbeatTimeoutError)
        return lost(
          new WorkerHungError(
            `Worker ${id} did not answer the hub's ping within ${o.hub.heartbeatMs} ms; it is treated as hung and terminated.`,
            { cause },
          ),
        );
      if (child !== undefined && child.exited) return lost(cause);
      if (child !== undefined) {
        // Most often the process died and its exit is about to be reported: wait a moment for it,
        // so that the in-flight events and the crash name the right cause. One that lives on reconnects.
        dropped = cause;
        setTimer(EXIT_GRACE_MS, () => {
          dropped = undefined;
          host.interrupted(cause);
          waitForConnection('reconnect to', cause);
        });
        return;
      }
      host.interrupted(cause);
      waitForConnection('reconnect to', cause);
    };
    const onConnected = (next: Connection, info: ConnectionInfo): void => {
      if (ended || connection !== undefined || (child !== undefined && child.exited)) {
        next.terminate(
          new ConnectionLostError(`Worker ${id} is ${connection === undefined ? 'restarting' : 'already connected'}.`),
        );
        return;
      }
      clearTimeout(timer);
      if (dropped !== undefined) {
        // It reconnected before the drop was reported: that still counts as one.
        host.interrupted(dropped);
        dropped = undefined;
      }
      connection = next;
      this.pid = info.pid ?? child?.pid;
      next.handlers = {
        message: onMessage,
        fill,
        rejected: (message, error) => onRejected(next, message, error),
        drain: () => host.resume(),
        pong: () => host.alive(),
        closed: (cause) => onClosed(next, cause),
      };
      next.queue([
        WELCOME,
        {
          workerId: id,
          workers: o.workers,
          heartbeatMs: o.hub.heartbeatMs,
          maxPayload: o.hub.maxPayload,
          workerData: o.workerData,
        },
      ]);
      readyOnce = true;
      host.ready();
      // Deliver what was held while the worker was away right now, not on the next turn.
      next.flush();
      this.online?.(this.pid);
    };
    this.#current = onConnected;
    waitForConnection('connect to');

    return {
      send: (items) => {
        for (const item of items) pending.push(item);
        connection?.schedule();
      },
      busy: () => connection === undefined || connection.congested,
      cancel: (itemId) => {
        // A message only: the worker answers whether the item had started.
        connection?.queue([ABORT, itemId]);
        return false;
      },
      ping: () => connection?.ping(),
      running: () => running,
      close: async () => {
        const current = connection;
        if (current === undefined) return stop();
        const gone = new Promise<void>((resolve) => (closing = resolve));
        ended = true;
        clearTimeout(timer);
        current.queue([CLOSE]);
        await gone;
        if (child !== undefined) await child.exit;
      },
      kill: stop,
    };
  }
}

export type { IncarnationStats };
