import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  BATCH,
  CANCEL_SLOTS,
  CANCELLABLE,
  CLOSE,
  CLOSED,
  INIT,
  PING,
  PONG,
  PROTOCOL_VERSION,
  READY,
  RESULTS,
  START_FAILED,
  TIMED,
  WAKE_WORDS,
} from '../../src/protocol.js';
import { serveThread } from '../../src/worker/entry.js';
import { fixture } from '../helpers.js';

// The thread side is plain module code: these tests serve a port in this thread to check what it
// answers to messages a ThreadWorker would never send.
function serve(): { port: MessagePort; errors: Error[]; next: () => Promise<unknown[]> } {
  const { port1, port2 } = new MessageChannel();
  const errors: Error[] = [];
  // Not parked between messages: the master side of these tests runs in the same thread.
  serveThread(port1, undefined, (error) => errors.push(error), false);
  port2.unref();
  port1.unref();
  return { port: port2, errors, next: async () => ((await once(port2, 'message')) as [unknown[]])[0] };
}

const trivial = pathToFileURL(fixture('trivial.mjs')).href;
const newGate = (): Int32Array => new Int32Array(new SharedArrayBuffer(CANCEL_SLOTS * 4));
const newWake = (): Int32Array => new Int32Array(new SharedArrayBuffer(WAKE_WORDS * 4));
const newSlot = (): Int32Array => new Int32Array(new SharedArrayBuffer(4));

describe('thread entry', () => {
  it('is published as the @switchyard/pool-thread/worker subpath, built to JavaScript', () => {
    expect(import.meta.resolve('@switchyard/pool-thread/worker')).toMatch(/\/dist\/worker\/entry\.js$/);
  });

  it('refuses a batch before the thread was initialised, and unknown messages, with ERR_PROTOCOL', async () => {
    const { port, errors } = serve();
    port.postMessage([BATCH, [], [], [], []]);
    port.postMessage([99]);
    port.postMessage([PING]);
    await once(port, 'message');
    expect(errors.map((error) => (error as { code?: string }).code)).toEqual(['ERR_PROTOCOL', 'ERR_PROTOCOL']);
    port.close();
  });

  it('answers an init of another protocol version with ERR_THREAD_START', async () => {
    const { port, next } = serve();
    port.postMessage([INIT, PROTOCOL_VERSION + 1, trivial, 0, newGate(), newWake(), newSlot()]);
    expect(await next()).toEqual([
      START_FAILED,
      expect.objectContaining({ code: 'ERR_THREAD_START', message: expect.stringMatching(/protocol version/) }),
    ]);
    port.close();
  });

  it('runs a batch after init, refuses a second init with ERR_PROTOCOL, and closes', async () => {
    const { port, errors, next } = serve();
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate(), newWake(), newSlot()]);
    // Stats carry the thread's heap in use (what recycle.maxHeapBytes checks).
    expect(await next()).toEqual([READY, { tenants: 0, handled: 0, failed: 0, heapUsed: expect.any(Number) }]);
    port.postMessage([BATCH, [1, 2, 3], [0, 1, 0], ['guild:1', 'guild:1', 'user:2'], [{}, { add: 5 }, {}]]);
    const [type, ids, values, failedIds, , stats] = (await next()) as [
      number,
      number[],
      unknown[],
      number[],
      [],
      unknown,
    ];
    expect([type, failedIds, stats]).toEqual([
      RESULTS,
      [],
      { tenants: 2, handled: 3, failed: 0, heapUsed: expect.any(Number) },
    ]);
    // Results leave in the order they settled: match them by id.
    expect(new Map(ids.map((id, i) => [id, values[i]]))).toEqual(
      new Map<number, unknown>([
        [1, 1],
        [2, undefined],
        [3, 1],
      ]),
    );
    // A broadcast (op 4, no tenant) runs onBroadcast; this definition has none.
    port.postMessage([BATCH, [4], [4], [''], ['hello']]);
    const broadcast = (await next()) as [number, number[], unknown[], number[], Array<{ code?: string }>];
    expect([broadcast[0], broadcast[3], broadcast[4][0]?.code]).toEqual([RESULTS, [4], 'ERR_BROADCAST_UNSUPPORTED']);
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0]);
    port.postMessage([PING]);
    // The liveness answer carries the counters and heap (recycle.maxHeapBytes is checked on an idle worker too).
    expect(await next()).toEqual([PONG, { tenants: 2, handled: 3, failed: 0, heapUsed: expect.any(Number) }]);
    expect(errors.map((error) => (error as { code?: string }).code)).toEqual(['ERR_PROTOCOL']);
    port.postMessage([CLOSE]);
    expect(await next()).toEqual([CLOSED, { tenants: 0, handled: 3, failed: 0, heapUsed: expect.any(Number) }]);
    port.close();
  });

  it('refuses an init without a cancel gate, a wake word or a running slot in shared memory with ERR_PROTOCOL', async () => {
    const { port, errors } = serve();
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, new Int32Array(4), newWake(), newSlot()]);
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate(), new Int32Array(1), newSlot()]);
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate(), newWake(), new Int32Array(1)]);
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate(), newWake()]);
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate()]);
    port.postMessage([PING]);
    expect(await once(port, 'message')).toEqual([[PONG]]);
    expect(errors.map((error) => (error as { code?: string }).code)).toEqual([
      'ERR_PROTOCOL',
      'ERR_PROTOCOL',
      'ERR_PROTOCOL',
      'ERR_PROTOCOL',
      'ERR_PROTOCOL',
    ]);
    port.close();
  });

  it('reports how long the handlers of timed items ran, with their results, and only for those', async () => {
    const { port, next } = serve();
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate(), newWake(), newSlot()]);
    await next();
    port.postMessage([
      BATCH,
      [1, 2, 3],
      [TIMED, 0, TIMED | CANCELLABLE],
      ['guild:1', 'guild:2', 'guild:3'],
      [{}, {}, {}],
      [-1, -1, 0],
    ]);
    const [type, ids, , failedIds, , , timedIds, handlingMs] = (await next()) as [
      number,
      number[],
      unknown[],
      number[],
      [],
      unknown,
      number[],
      number[],
    ];
    expect([type, [...ids].sort(), failedIds]).toEqual([RESULTS, [1, 2, 3], []]);
    expect([...timedIds].sort()).toEqual([1, 3]);
    expect(handlingMs).toHaveLength(2);
    for (const ms of handlingMs) expect(ms).toBeGreaterThanOrEqual(0);
    port.close();
  });

  it('never starts a cancellable item whose slot in the cancel gate holds its id, without a CANCEL message', async () => {
    const { port, next } = serve();
    const gate = newGate();
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, gate, newWake(), newSlot()]);
    expect(await next()).toEqual([READY, { tenants: 0, handled: 0, failed: 0, heapUsed: expect.any(Number) }]);
    // Item 7 was cancelled on the main side (its id is in its slot); item 8's slot holds a stale id.
    Atomics.store(gate, 0, 7);
    Atomics.store(gate, 1, 3);
    port.postMessage([BATCH, [7, 8], [CANCELLABLE, CANCELLABLE], ['guild:1', 'guild:1'], [{}, {}], [0, 1]]);
    const [, ids, , failedIds, errors, stats] = (await next()) as [
      number,
      number[],
      unknown[],
      number[],
      Array<{ code?: string }>,
      unknown,
    ];
    expect([ids, failedIds, errors.map((error) => error.code)]).toEqual([[8], [7], ['ABORT_ERR']]);
    expect(stats).toEqual({ tenants: 1, handled: 1, failed: 0, heapUsed: expect.any(Number) });
    port.close();
  });
});
