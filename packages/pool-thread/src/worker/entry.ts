/**
 * The entry every worker thread of a `ThreadWorker` runs (`@switchyard/pool-thread/worker`): it
 * moves messages between the thread's port and core's `TenantHost`, which does the work.
 */
import type { MessagePort } from 'node:worker_threads';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { LinkOp } from '@switchyard/core';
import { findWorkerDefinition, ProtocolError, serializeError, TenantHost } from '@switchyard/core';
import { ThreadStartError } from '../errors/errors.js';
import {
  BATCH,
  CANCEL,
  CANCELLABLE,
  CLOSE,
  CLOSED,
  INIT,
  ITEM_WORDS,
  KV,
  KV_ANSWER,
  Op,
  PARK_CHAIN_MS,
  PARKED,
  PING,
  PONG,
  PROTOCOL_VERSION,
  READY,
  RESULTS,
  START_FAILED,
  TIMED,
  WAKE_COUNT,
  WAKE_PARKED,
  WAKE_WORDS,
} from '../protocol.js';

/** By op code (`Op` of the protocol). */
const OPS: readonly LinkOp[] = ['event', 'event', 'script', 'drop', 'broadcast', 'handoff', 'adopt'];

/**
 * Serves one thread: `port` is the thread's `parentPort` (or a test's port). A message that breaks
 * the protocol goes to `fail`, which by default throws it: the thread dies and the master restarts it.
 * `parking: false` never parks the thread between messages (a test serving a port in its own thread,
 * whose master side could not release it).
 * @internal
 */
export function serveThread(
  port: MessagePort,
  data: unknown,
  fail: (error: ProtocolError) => void = (error) => {
    throw error;
  },
  parking = true,
): void {
  let host: TenantHost | undefined;
  let gate: Int32Array | undefined;
  /** The key of each tenant by the number the main side gave it (see BATCH). */
  const tenants = new Map<number, string>();
  let wake: Int32Array | undefined;
  let parkQueued = false;
  /** When the thread began going from message to message without its event loop (-1: it is not). */
  let chainSince = -1;
  const endChain = (): void => {
    chainSince = -1;
  };
  /**
   * Results just left and nothing here waits for the event loop: park in `Atomics.wait` until the
   * master's next message (it bumps the wake word after each) and serve it from here, as piscina's
   * worker does between tasks. A wait without a timeout: a timed `Atomics.wait` wakes ~8 µs slower.
   * It is bounded all the same: the master releases a thread parked for `PARK_RELEASE_MS` without a
   * message, and after `PARK_CHAIN_MS` of message-to-message the thread lets its event loop run.
   */
  const park = (): void => {
    parkQueued = false;
    if (!parking || wake === undefined || host === undefined || !host.idle) return;
    const now = performance.now();
    if (chainSince < 0) {
      chainSince = now;
      setImmediate(endChain);
    } else if (now - chainSince >= PARK_CHAIN_MS) return;
    Atomics.store(wake, WAKE_PARKED, PARKED);
    for (;;) {
      const seen = Atomics.load(wake, WAKE_COUNT);
      const next = receiveMessageOnPort(port);
      if (next !== undefined) {
        Atomics.store(wake, WAKE_PARKED, 0);
        // What it starts finishes in this turn's ticks and microtasks, which run once this returns
        // (results park again from there).
        receive(next.message as unknown[]);
        return;
      }
      // Released by the master: back to the event loop.
      if (Atomics.load(wake, WAKE_PARKED) !== PARKED) break;
      Atomics.wait(wake, WAKE_COUNT, seen);
    }
    Atomics.store(wake, WAKE_PARKED, 0);
  };
  const start = async (version: unknown, url: string, workerId: number, running: Int32Array): Promise<void> => {
    try {
      if (version !== PROTOCOL_VERSION)
        throw new ProtocolError(`expected protocol version ${PROTOCOL_VERSION}, got ${String(version)}`);
      const definition = findWorkerDefinition((await import(url)) as Record<string, unknown>, url);
      host = new TenantHost(definition, {
        workerId,
        workerData: data,
        output: {
          results: (r) => {
            port.postMessage(
              r.handlingMs === undefined
                ? [RESULTS, r.ids, r.values, r.failedIds, r.errors, r.stats]
                : [RESULTS, r.ids, r.values, r.failedIds, r.errors, r.stats, r.handlingMs],
            );
            // After the turn's other work (the host may send more than one message per turn).
            if (!parkQueued) {
              parkQueued = true;
              queueMicrotask(park);
            }
          },
          kv: (id, call) => port.postMessage([KV, id, call.op, call.tenant, call.key, call.arg]),
        },
        running,
      });
      await host.start();
      port.postMessage([READY, host.stats()]);
    } catch (error) {
      const message = `Could not start the worker module ${url}: ${error instanceof Error ? error.message : String(error)}`;
      port.postMessage([START_FAILED, serializeError(new ThreadStartError(message, { cause: error }))]);
    }
  };
  const isShared = (value: unknown): value is Int32Array =>
    value instanceof Int32Array && value.buffer instanceof SharedArrayBuffer;
  const receive = (message: unknown[]): void => {
    const type = message[0];
    if (type === PING) return port.postMessage(host === undefined ? [PONG] : [PONG, host.stats()]);
    if (type === INIT) {
      if (host !== undefined) return fail(new ProtocolError('The worker thread was initialised twice.'));
      if (!isShared(message[4]))
        return fail(new ProtocolError('INIT: expected the cancel gate, an Int32Array over a SharedArrayBuffer.'));
      if (!isShared(message[5]) || message[5].length < WAKE_WORDS)
        return fail(new ProtocolError('INIT: expected the wake word, an Int32Array over a SharedArrayBuffer.'));
      if (!isShared(message[6]))
        return fail(new ProtocolError('INIT: expected the running slot, an Int32Array over a SharedArrayBuffer.'));
      gate = message[4];
      wake = message[5];
      return void start(message[1], message[2] as string, message[3] as number, message[6]);
    }
    if (host === undefined)
      return fail(new ProtocolError(`Message ${String(type)} arrived before the thread was initialised.`));
    switch (type) {
      case BATCH: {
        const [, head, payloads, names, slots, traces] = message as [
          number,
          Float64Array,
          unknown[],
          Array<number | string> | undefined,
          number[] | undefined,
          Array<string | undefined> | undefined,
        ];
        if (!(head instanceof Float64Array) || !Array.isArray(payloads) || head.length !== payloads.length * ITEM_WORDS)
          return fail(new ProtocolError('BATCH: expected a Float64Array of items and their payloads.'));
        if (names !== undefined)
          for (let i = 0; i < names.length; i += 2) tenants.set(names[i] as number, names[i + 1] as string);
        for (let i = 0, w = 0; i < payloads.length; i++, w += ITEM_WORDS) {
          const id = head[w]!;
          const op = head[w + 1]!;
          const number = head[w + 2]!;
          const base = op & ~(CANCELLABLE | TIMED);
          const key = number < 0 ? '' : tenants.get(number);
          if (key === undefined)
            return fail(new ProtocolError(`BATCH: item ${id} names tenant ${number}, never sent.`));
          // Both sides forget a dropped or handed-off tenant's number (see BATCH).
          if (base === Op.Drop || base === Op.Handoff) tenants.delete(number);
          const slot = slots?.[i] ?? -1;
          const cancelled = slot < 0 ? undefined : () => Atomics.load(gate!, slot) === (id | 0);
          host.run(
            id,
            OPS[base]!,
            key,
            payloads[i],
            base !== Op.EventNoWait,
            (op & CANCELLABLE) !== 0,
            cancelled,
            traces?.[i],
            (op & TIMED) !== 0,
          );
        }
        return;
      }
      case CANCEL:
        for (const id of message[1] as number[]) host.cancel(id);
        return;
      case KV_ANSWER:
        return host.kvAnswer(message[1] as number, message[2] as boolean, message[3]);
      case CLOSE:
        return void host.close().then((stats) => port.postMessage([CLOSED, stats]));
      default:
        return fail(new ProtocolError(`Unknown message type ${JSON.stringify(type)}.`));
    }
  };
  port.on('message', receive);
}

if (parentPort !== null) serveThread(parentPort as MessagePort, workerData);
