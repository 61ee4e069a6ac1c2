import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProducerDescriptor, Queue } from '../../src/index.js';
import { connect, define, undefine } from '../../src/index.js';
import type { Spawned } from './helpers.js';
import { byProducer, drain, expectExactly, spawn } from './helpers.js';

// The fixtures import the built package: run `pnpm build` before the tests.

let counter = 0;
const names: string[] = [];
const workers: Spawned[] = [];
function queue<T>(limit?: number): Queue<T> {
  const name = `threads-test-${++counter}`;
  names.push(name);
  return define<T>(name, limit);
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.worker.terminate()));
  for (const name of names.splice(0)) undefine(name);
});

function producer(q: Queue<unknown>, data: Record<string, unknown>, bufferSize?: number): Spawned {
  const descriptor = q.producer(bufferSize === undefined ? {} : { bufferSize });
  const spawned = spawn('send-values.mjs', { descriptor, ...data }, [descriptor.port]);
  workers.push(spawned);
  return spawned;
}

describe('several producer threads', () => {
  it('deliver every value exactly once, in per-producer order, with local sends mixed in (unbounded)', async () => {
    const q = queue<unknown>();
    const kinds = ['int', 'str', 'obj', 'mixed'];
    const count = 5000;
    const spawned = kinds.map((kind, id) => producer(q, { id, count, kind }));
    const local = (async () => {
      for (let i = 0; i < 2000; i++) await q.send(9_000_000 + i);
    })();
    void Promise.all([local, q.producersGone()]).then(() => q.close());
    const received = drain(q);
    const done = await Promise.all(spawned.map((s) => s.next('done')));
    for (const message of done) expect(message).toMatchObject({ sent: count, error: undefined, closed: true });
    const groups = byProducer(await received);
    for (let id = 0; id < kinds.length; id++) expectExactly(groups, id, count);
    expectExactly(groups, 9, 2000);
    expect(groups.size).toBe(5);
    expect(q.len()).toBe(0);
  });

  it('respect a bounded queue: never more than limit values in it, every value exactly once', async () => {
    const limit = 16;
    const q = queue<unknown>(limit);
    const count = 4000;
    const spawned = [0, 1, 2].map((id) => producer(q, { id, count, kind: id === 1 ? 'obj' : 'int' }));
    void q.producersGone().then(() => q.close());
    let maxLen = 0;
    const received = await drain(q, () => {
      maxLen = Math.max(maxLen, q.len());
    });
    for (const s of spawned) expect(await s.next('done')).toMatchObject({ sent: count, error: undefined });
    expect(maxLen).toBeLessThanOrEqual(limit);
    const groups = byProducer(received);
    for (const id of [0, 1, 2]) expectExactly(groups, id, count);
  });

  it('share a queue bounded to a single value', async () => {
    const q = queue<unknown>(1);
    const spawned = [0, 1].map((id) => producer(q, { id, count: 1000, kind: 'str' }));
    void q.producersGone().then(() => q.close());
    const groups = byProducer(await drain(q));
    for (const s of spawned) expect(await s.next('done')).toMatchObject({ sent: 1000 });
    expectExactly(groups, 0, 1000);
    expectExactly(groups, 1, 1000);
  });

  it('grow full rings and spill large values to the port, without losing order', async () => {
    const q = queue<unknown>();
    const count = 1500;
    // 4 KiB rings, and nothing is received until both producers are done: most values spill.
    const spawned = [0, 1].map((id) => producer(q, { id, count, kind: 'mixed' }, 4096));
    await Promise.all(spawned.map((s) => s.next('done')));
    expect(q.len()).toBe(2 * count);
    await q.producersGone();
    q.close();
    const groups = byProducer(await drain(q));
    expectExactly(groups, 0, count);
    expectExactly(groups, 1, count);
  });

  it('count values behind a spilled one in len() before its message arrives', async () => {
    const q = queue<unknown>();
    const progress = new SharedArrayBuffer(16);
    const sent = new Int32Array(progress);
    // Mixed values in a 4 KiB ring: every fifth one is too large and goes through the port.
    const spawned = producer(q, { id: 0, count: 10, kind: 'mixed', progress, close: false }, 4096);
    // Block this thread until all ten are sent: none of their port messages can arrive meanwhile.
    while (Atomics.load(sent, 0) < 10) Atomics.wait(sent, 0, Atomics.load(sent, 0), 50);
    expect(q.len()).toBe(10);
    expect(q.isEmpty()).toBe(false);
    await spawned.next('done');
    const received: unknown[] = [];
    while (received.length < 10) received.push(...(await q.recvMany(100))!);
    expectExactly(byProducer(received), 0, 10);
    expect(q.len()).toBe(0);
  });

  it('serve the waiting sends of one producer handle in order', async () => {
    const q = queue<unknown>(3);
    const count = 300;
    const spawned = [0, 1].map((id) => producer(q, { id, count, method: 'burst' }));
    void q.producersGone().then(() => q.close());
    let maxLen = 0;
    const groups = byProducer(
      await drain(q, () => {
        maxLen = Math.max(maxLen, q.len());
      }),
    );
    for (const s of spawned) expect(await s.next('done')).toMatchObject({ sent: count, error: undefined });
    expectExactly(groups, 0, count);
    expectExactly(groups, 1, count);
    expect(maxLen).toBeLessThanOrEqual(3);
  });

  it('count values published from other threads in len() and isEmpty()', async () => {
    const q = queue<unknown>();
    const spawned = producer(q, { id: 0, count: 10, close: false });
    await spawned.next('done');
    expect(q.len()).toBe(10);
    expect(q.isEmpty()).toBe(false);
    expect(await q.recvMany(100)).toHaveLength(10);
    expect(q.isEmpty()).toBe(true);
  });

  it('wake a consumer that is already waiting', async () => {
    const q = queue<unknown>();
    const received = q.recv();
    const many = received.then(() => q.recvMany(10));
    // The producer keeps its handle open: only its wake-up message can wake the consumer.
    producer(q, { id: 3, count: 2, kind: 'int', close: false });
    expect(await received).toBe(3_000_000);
    expect(await many).toEqual([3_000_001]);
  });
});

describe('thread lifetime', () => {
  const ports = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

  it('keeps the consumer thread alive only while a recv waits for live producers', async () => {
    const q = queue<unknown>();
    const idle = ports();
    const descriptor = q.producer();
    expect(ports()).toBe(idle);
    const stop = new AbortController();
    const waiting = q.recv({ signal: stop.signal }).catch((error: unknown) => error);
    expect(ports()).toBe(idle + 1);
    stop.abort();
    expect(await waiting).toMatchObject({ code: 'ABORT_ERR' });
    expect(ports()).toBe(idle);
    const received = q.recv();
    expect(ports()).toBe(idle + 1);
    const remote = connect(descriptor);
    await remote.send(1);
    expect(await received).toBe(1);
    expect(ports()).toBe(idle);
    remote.close();
    await q.producersGone();
    q.close();
    expect(ports()).toBe(idle);
  });

  it('keeps a consumer worker alive while it waits for a producer in another thread', async () => {
    const spawned = spawn('consumer.mjs', { count: 1, limit: 1 });
    workers.push(spawned);
    const { descriptor } = (await spawned.next('descriptor')) as unknown as { descriptor: ProducerDescriptor<number> };
    const waiting = await spawned.next('waiting');
    expect(waiting.portsWhileWaiting).toBe((waiting.portsBefore as number) + 1);
    const remote = connect(descriptor);
    await remote.send(42);
    expect((await spawned.next('received')).got).toEqual([42]);
    expect(await spawned.exited).toBe(0);
  });
});

describe('closing the queue', () => {
  it('rejects remote senders waiting for room with QueueClosedError; everything they sent is received', async () => {
    const q = queue<unknown>(4);
    const spawned = [0, 1, 2].map((id) => producer(q, { id, forever: true, reportBlocked: true }));
    // Nothing is received: once each producer reports a send that found the queue full, all are waiting.
    await Promise.all(spawned.map((s) => s.next('blocked')));
    expect(q.len()).toBe(4);
    q.close();
    const done = await Promise.all(spawned.map((s) => s.next('done')));
    const groups = byProducer(await drain(q));
    let total = 0;
    for (const message of done) {
      expect(message.error).toMatchObject({ code: 'ERR_QUEUE_CLOSED', name: 'QueueClosedError' });
      expectExactly(groups, message.id!, message.sent!);
      total += message.sent!;
    }
    expect(total).toBe(4);
  });

  it('loses nothing sent successfully while producers are mid-stream', async () => {
    const q = queue<unknown>();
    const spawned = [0, 1].map((id) => producer(q, { id, forever: true, kind: id === 0 ? 'obj' : 'str' }));
    const received: unknown[] = [];
    while (received.length < 5000) received.push(...(await q.recvMany(512))!);
    q.close();
    received.push(...(await drain(q)));
    const groups = byProducer(received);
    for (const s of spawned) {
      const message = await s.next('done');
      expect(message.error).toMatchObject({ code: 'ERR_QUEUE_CLOSED' });
      expectExactly(groups, message.id!, message.sent!);
    }
  });

  it('makes later remote sends reject with QueueClosedError', async () => {
    const q = queue<unknown>();
    const descriptor = q.producer();
    q.close();
    const spawned = spawn('send-values.mjs', { descriptor, id: 0, count: 1 }, [descriptor.port]);
    workers.push(spawned);
    expect(await spawned.next('done')).toMatchObject({ sent: 0, error: { code: 'ERR_QUEUE_CLOSED' } });
    expect(await q.recv()).toBeUndefined();
  });
});

describe('a killed producer thread', () => {
  it('does not wedge an unbounded queue: the others finish, its values are a clean prefix', async () => {
    const q = queue<unknown>();
    const progress = new SharedArrayBuffer(16);
    // Strings: a producer sending forever may pass a million values, where the numbers' encoding of its id ends.
    const victim = producer(q, { id: 0, forever: true, kind: 'str', progress });
    const others = [1, 2].map((id) => producer(q, { id, count: 10_000, kind: id === 1 ? 'obj' : 'str' }));
    void q.producersGone().then(() => q.close());
    const received = drain(q);
    await victim.next('progress');
    await victim.worker.terminate();
    const confirmed = Atomics.load(new Int32Array(progress), 0);
    const groups = byProducer(await received);
    for (const s of others) expectExactly(groups, (await s.next('done')).id!, 10_000);
    const fromVictim = groups.get(0)!;
    // Every confirmed send arrived; at most the one in flight when it died arrived unconfirmed.
    expect(fromVictim.length).toBeGreaterThanOrEqual(confirmed);
    expect(fromVictim.length).toBeLessThanOrEqual(confirmed + 1);
    expectExactly(groups, 0, fromVictim.length);
  });

  it('does not wedge a bounded queue: its places are given back', async () => {
    const limit = 8;
    const q = queue<unknown>(limit);
    const progress = new SharedArrayBuffer(16);
    // Strings: a producer sending forever may pass a million values, where the numbers' encoding of its id ends.
    const victim = producer(q, { id: 0, forever: true, kind: 'str', progress });
    const others = [1, 2].map((id) => producer(q, { id, count: 3000 }));
    const received: unknown[] = [];
    const stop = new AbortController();
    const receiving = (async () => {
      for (;;) received.push(...(await q.recvMany(64, { signal: stop.signal }))!);
    })().catch((error: unknown) => error);
    await victim.next('progress');
    await victim.worker.terminate();
    await Promise.all(others.map((s) => s.next('done')));
    await q.producersGone();
    // Stop the consumer loop without closing the queue; take the rest by hand.
    stop.abort();
    expect(await receiving).toMatchObject({ code: 'ABORT_ERR' });
    for (let value = q.tryRecv(); value !== undefined; value = q.tryRecv()) received.push(value);
    const groups = byProducer(received);
    expectExactly(groups, 1, 3000);
    expectExactly(groups, 2, 3000);
    expectExactly(groups, 0, groups.get(0)!.length);
    // All `limit` places are free again, though the victim may have died holding one.
    expect(q.isEmpty()).toBe(true);
    for (let i = 0; i < limit; i++) expect(q.trySend(7_000_000 + i)).toBe(true);
    expect(q.trySend(7_000_000 + limit)).toBe(false);
    expect(await q.recvMany(limit + 1)).toHaveLength(limit);
  });
});

describe('producer handles', () => {
  it('close() detaches only that producer: the queue stays open for the others', async () => {
    const q = queue<unknown>();
    const first = producer(q, { id: 0, count: 100, close: true });
    expect(q.producerCount()).toBe(1);
    expect(await first.next('done')).toMatchObject({ sent: 100, closed: true });
    await q.producersGone();
    expect(q.producerCount()).toBe(0);
    expect(q.isClosed()).toBe(false);
    const second = q.producer();
    const later = spawn('send-values.mjs', { descriptor: second, id: 1, count: 100 }, [second.port]);
    workers.push(later);
    expect(await later.next('done')).toMatchObject({ sent: 100, error: undefined });
    await q.send(5_000_000);
    await q.producersGone();
    q.close();
    const groups = byProducer(await drain(q));
    expectExactly(groups, 0, 100);
    expectExactly(groups, 1, 100);
    expectExactly(groups, 5, 1);
  });

  it('report error codes for invalid values, timeouts, aborts, reuse and use after close', async () => {
    const q = queue<number>(1);
    await q.send(0);
    const descriptor = q.producer();
    const second = q.producer();
    const spawned = spawn('edge-cases.mjs', { descriptor, second }, [descriptor.port, second.port]);
    workers.push(spawned);
    const { report: full } = (await spawned.next('full-checked')) as unknown as { report: Record<string, unknown> };
    expect(full).toMatchObject({
      badDescriptor: 'ERR_PROTOCOL',
      badVersion: 'ERR_PROTOCOL',
      name: q.name,
      connectTwice: 'ERR_INVALID_ARGUMENT',
      sendUndefined: 'ERR_INVALID_VALUE',
      sendFunction: 'ERR_INVALID_VALUE',
      trySendSymbol: 'ERR_INVALID_VALUE',
      sendTimeoutBadSeconds: 'ERR_INVALID_ARGUMENT',
      abortedBefore: 'ABORT_ERR',
      trySendFull: false,
      sendTimeout: 'ERR_SEND_TIMEOUT',
      abortWhileWaiting: 'ABORT_ERR',
      isClosedBefore: false,
    });
    expect(full.sendTimeoutWaitedMs).toBeGreaterThanOrEqual(90);
    // Timed-out and aborted sends left no trace.
    expect(q.len()).toBe(1);
    expect(await q.recv()).toBe(0);
    const { report } = (await spawned.next('done')) as unknown as { report: Record<string, unknown> };
    expect(report).toMatchObject({
      sendAfterRoom: 'ok',
      isClosedAfterClose: true,
      sendAfterClose: 'ERR_QUEUE_CLOSED',
      trySendAfterClose: false,
    });
    expect(await q.recv()).toBe(5);
    expect(q.isEmpty()).toBe(true);
  });

  it('deliver values of every kind as structured clones', async () => {
    const q = queue<unknown>();
    const descriptor = q.producer();
    const spawned = spawn('fidelity.mjs', { descriptor }, [descriptor.port]);
    workers.push(spawned);
    const sentByPostMessage = (await spawned.next('values')).values as unknown[];
    const received: unknown[] = [];
    while (received.length < sentByPostMessage.length) received.push(await q.recv());
    expect(received).toEqual(sentByPostMessage);
    for (let i = 0; i < received.length; i++) {
      expect(Object.prototype.toString.call(received[i])).toBe(Object.prototype.toString.call(sentByPostMessage[i]));
      if (typeof received[i] === 'number') expect(Object.is(received[i], sentByPostMessage[i])).toBe(true);
    }
  });

  it('are rejected when the consumer thread is gone', async () => {
    const spawned = spawn('consumer.mjs', { count: 3, limit: 10 });
    workers.push(spawned);
    const { descriptor } = (await spawned.next('descriptor')) as unknown as { descriptor: ProducerDescriptor<number> };
    const remote = connect(descriptor);
    // When the consumer's thread exits, its end of the port closes, and the producer hears it.
    const orphaned = once(descriptor.port, 'close');
    expect(remote.isClosed()).toBe(false);
    for (let i = 1; i <= 3; i++) await remote.send(i);
    expect((await spawned.next('received')).got).toEqual([1, 2, 3]);
    await orphaned;
    expect(remote.isClosed()).toBe(true);
    await expect(remote.send(4)).rejects.toMatchObject({ code: 'ERR_QUEUE_CLOSED' });
    expect(remote.trySend(5)).toBe(false);
  });
});
