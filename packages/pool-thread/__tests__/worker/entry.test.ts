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
  ITEM_WORDS,
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
/** `[id, op, tenant key ('' for none), payload]`. */
type Item = [number, number, string, unknown];

/** A BATCH message as a thread link encodes it: tenants by number, new ones named (numbers per port). */
function batcher(): (items: Item[], slots?: number[]) => unknown[] {
  const numbers = new Map<string, number>();
  return (items, slots) => {
    const head = new Float64Array(items.length * ITEM_WORDS);
    const names: Array<number | string> = [];
    items.forEach(([id, op, key], i) => {
      let number = key === '' ? -1 : numbers.get(key);
      if (number === undefined) {
        number = numbers.size;
        numbers.set(key, number);
        names.push(number, key);
      }
      head.set([id, op, number], i * ITEM_WORDS);
    });
    return [BATCH, head, items.map((item) => item[3]), names.length > 0 ? names : undefined, slots];
  };
}

function serve(): {
  port: MessagePort;
  errors: Error[];
  next: () => Promise<unknown[]>;
  batch: ReturnType<typeof batcher>;
} {
  const { port1, port2 } = new MessageChannel();
  const errors: Error[] = [];
  // Not parked between messages: the master side of these tests runs in the same thread.
  serveThread(port1, undefined, (error) => errors.push(error), false);
  port2.unref();
  port1.unref();
  return {
    port: port2,
    errors,
    next: async () => ((await once(port2, 'message')) as [unknown[]])[0],
    batch: batcher(),
  };
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
    port.postMessage(batcher()([]));
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
    const { port, errors, next, batch } = serve();
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate(), newWake(), newSlot()]);
    // Stats carry the thread's heap in use (what recycle.maxHeapBytes checks).
    expect(await next()).toEqual([READY, { tenants: 0, handled: 0, failed: 0, heapUsed: expect.any(Number) }]);
    port.postMessage(
      batch([
        [1, 0, 'guild:1', {}],
        [2, 1, 'guild:1', { add: 5 }],
        [3, 0, 'user:2', {}],
      ]),
    );
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
    port.postMessage(batch([[4, 4, '', 'hello']]));
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

  it('names a tenant once, forgets its number after a drop, and refuses a number it was never sent with ERR_PROTOCOL', async () => {
    const { port, errors, next, batch } = serve();
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate(), newWake(), newSlot()]);
    await next();
    // guild:1 is named in the first batch only; the drop (op 3) retires its number 0, and the event
    // after it in the same batch comes with a new number (1), so its state starts afresh.
    port.postMessage(batch([[1, 0, 'guild:1', {}]]));
    port.postMessage(batch([[2, 0, 'guild:1', {}]]));
    const values = new Map<number, unknown>();
    while (values.size < 2) {
      const [, ids, results] = (await next()) as [number, number[], unknown[]];
      ids.forEach((id, i) => values.set(id, results[i]));
    }
    expect(values).toEqual(
      new Map([
        [1, 1],
        [2, 2],
      ]),
    );
    const head = new Float64Array([3, 3, 0, 4, 0, 1]);
    port.postMessage([BATCH, head, [undefined, {}], [1, 'guild:1']]);
    const after = new Map<number, unknown>();
    while (after.size < 2) {
      const [, ids, results] = (await next()) as [number, number[], unknown[]];
      ids.forEach((id, i) => after.set(id, results[i]));
    }
    expect(after).toEqual(
      new Map<number, unknown>([
        [3, undefined],
        [4, 1],
      ]),
    );
    // Number 0 was retired by the drop; 7 was never named; a head that does not match its payloads.
    port.postMessage([BATCH, new Float64Array([5, 0, 0]), [{}]]);
    port.postMessage([BATCH, new Float64Array([6, 0, 7]), [{}]]);
    port.postMessage([BATCH, new Float64Array([8, 0, 1]), [{}, {}]]);
    port.postMessage([BATCH, [8, 0, 1], [{}]]);
    port.postMessage([PING]);
    expect((await next())[0]).toBe(PONG);
    expect(errors.map((error) => [(error as { code?: string }).code, error.message])).toEqual([
      ['ERR_PROTOCOL', expect.stringMatching(/item 5 names tenant 0/)],
      ['ERR_PROTOCOL', expect.stringMatching(/item 6 names tenant 7/)],
      ['ERR_PROTOCOL', expect.stringMatching(/Float64Array/)],
      ['ERR_PROTOCOL', expect.stringMatching(/Float64Array/)],
    ]);
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
    const { port, next, batch } = serve();
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, newGate(), newWake(), newSlot()]);
    await next();
    port.postMessage(
      batch(
        [
          [1, TIMED, 'guild:1', {}],
          [2, 0, 'guild:2', {}],
          [3, TIMED | CANCELLABLE, 'guild:3', {}],
        ],
        [-1, -1, 0],
      ),
    );
    const [type, ids, , failedIds, , , handlingMs] = (await next()) as [
      number,
      number[],
      unknown[],
      number[],
      [],
      unknown,
      number[],
    ];
    expect([type, [...ids].sort(), failedIds]).toEqual([RESULTS, [1, 2, 3], []]);
    // By position in ids: a time for the timed items, NaN for the other.
    expect(handlingMs).toHaveLength(3);
    const byId = new Map(ids.map((id, i) => [id, handlingMs[i]!]));
    expect(byId.get(2)).toBeNaN();
    for (const id of [1, 3]) expect(byId.get(id)).toBeGreaterThanOrEqual(0);
    port.close();
  });

  it('reports the handling times of failed timed items after those of the succeeded ones, by position', async () => {
    const { port, next, batch } = serve();
    port.postMessage([
      INIT,
      PROTOCOL_VERSION,
      pathToFileURL(fixture('faults.mjs')).href,
      0,
      newGate(),
      newWake(),
      newSlot(),
    ]);
    await next();
    port.postMessage(
      batch([
        [1, TIMED, 'guild:1', { type: 'throw' }],
        [2, TIMED, 'guild:2', { type: 'count' }],
        [3, 0, 'guild:3', { type: 'throw' }],
      ]),
    );
    const [, ids, , failedIds, errors, , handlingMs] = (await next()) as [
      number,
      number[],
      unknown[],
      number[],
      Array<{ code: string }>,
      unknown,
      number[],
    ];
    expect([ids, [...failedIds].sort(), errors.map((e) => e.code)]).toEqual([
      [2],
      [1, 3],
      ['ERR_INVALID_ARGUMENT', 'ERR_INVALID_ARGUMENT'],
    ]);
    expect(handlingMs).toHaveLength(3);
    expect(handlingMs[0]).toBeGreaterThanOrEqual(0);
    const failedMs = new Map(failedIds.map((id, i) => [id, handlingMs[ids.length + i]!]));
    expect(failedMs.get(1)).toBeGreaterThanOrEqual(0);
    expect(failedMs.get(3)).toBeNaN();
    port.close();
  });

  it('never starts a cancellable item whose slot in the cancel gate holds its id, without a CANCEL message', async () => {
    const { port, next, batch } = serve();
    const gate = newGate();
    port.postMessage([INIT, PROTOCOL_VERSION, trivial, 0, gate, newWake(), newSlot()]);
    expect(await next()).toEqual([READY, { tenants: 0, handled: 0, failed: 0, heapUsed: expect.any(Number) }]);
    // Item 7 was cancelled on the main side (its id is in its slot); item 8's slot holds a stale id.
    Atomics.store(gate, 0, 7);
    Atomics.store(gate, 1, 3);
    port.postMessage(
      batch(
        [
          [7, CANCELLABLE, 'guild:1', {}],
          [8, CANCELLABLE, 'guild:1', {}],
        ],
        [0, 1],
      ),
    );
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
