/**
 * The entry every worker thread of a `ThreadWorker` runs (`@switchyard/pool-thread/worker`): it
 * moves messages between the thread's port and core's `TenantHost`, which does the work.
 */
import type { MessagePort } from 'node:worker_threads';
import { parentPort, workerData } from 'node:worker_threads';
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
  KV,
  KV_ANSWER,
  PING,
  PONG,
  PROTOCOL_VERSION,
  READY,
  RESULTS,
  START_FAILED,
  TIMED,
} from '../protocol.js';

/** By op code (`Op` of the protocol). */
const OPS: readonly LinkOp[] = ['event', 'event', 'script', 'drop', 'broadcast', 'handoff', 'adopt'];

/**
 * Serves one thread: `port` is the thread's `parentPort` (or a test's port). A message that breaks
 * the protocol goes to `fail`, which by default throws it: the thread dies and the master restarts it.
 * @internal
 */
export function serveThread(
  port: MessagePort,
  data: unknown,
  fail: (error: ProtocolError) => void = (error) => {
    throw error;
  },
): void {
  let host: TenantHost | undefined;
  let gate: Int32Array | undefined;
  const start = async (version: unknown, url: string, workerId: number, running: Int32Array): Promise<void> => {
    try {
      if (version !== PROTOCOL_VERSION)
        throw new ProtocolError(`expected protocol version ${PROTOCOL_VERSION}, got ${String(version)}`);
      const definition = findWorkerDefinition((await import(url)) as Record<string, unknown>, url);
      host = new TenantHost(definition, {
        workerId,
        workerData: data,
        output: {
          results: (r) =>
            port.postMessage(
              r.timedIds === undefined
                ? [RESULTS, r.ids, r.values, r.failedIds, r.errors, r.stats]
                : [RESULTS, r.ids, r.values, r.failedIds, r.errors, r.stats, r.timedIds, r.handlingMs],
            ),
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
  port.on('message', (message: unknown[]) => {
    const type = message[0];
    if (type === PING) return port.postMessage(host === undefined ? [PONG] : [PONG, host.stats()]);
    if (type === INIT) {
      if (host !== undefined) return fail(new ProtocolError('The worker thread was initialised twice.'));
      if (!(message[4] instanceof Int32Array) || !(message[4].buffer instanceof SharedArrayBuffer))
        return fail(new ProtocolError('INIT: expected the cancel gate, an Int32Array over a SharedArrayBuffer.'));
      if (!(message[5] instanceof Int32Array) || !(message[5].buffer instanceof SharedArrayBuffer))
        return fail(new ProtocolError('INIT: expected the running slot, an Int32Array over a SharedArrayBuffer.'));
      gate = message[4];
      return void start(message[1], message[2] as string, message[3] as number, message[5]);
    }
    if (host === undefined)
      return fail(new ProtocolError(`Message ${String(type)} arrived before the thread was initialised.`));
    switch (type) {
      case BATCH: {
        const [, ids, ops, keys, payloads, slots, traces] = message as [
          number,
          number[],
          number[],
          string[],
          unknown[],
          number[] | undefined,
          Array<string | undefined> | undefined,
        ];
        for (let i = 0; i < ids.length; i++) {
          const op = ops[i]!;
          const base = op & ~(CANCELLABLE | TIMED);
          const id = ids[i]!;
          const slot = slots?.[i] ?? -1;
          const cancelled = slot < 0 ? undefined : () => Atomics.load(gate!, slot) === (id | 0);
          host.run(
            id,
            OPS[base]!,
            keys[i]!,
            payloads[i],
            base !== 1,
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
  });
}

if (parentPort !== null) serveThread(parentPort as MessagePort, workerData);
