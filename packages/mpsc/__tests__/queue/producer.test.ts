import { afterEach, describe, expect, it } from 'vitest';
import type { ProducerDescriptor } from '../../src/index.js';
import { connect, define, InvalidLimitError, TooManyProducersError, undefine } from '../../src/index.js';
import { RING_DATA_OFFSET, RING_TAIL, SPILL_WAKE, TAG_INT, TAG_STRUCT } from '../../src/shared/protocol.js';

let counter = 0;
const names: string[] = [];
function fresh(): string {
  const name = `producer-test-${++counter}`;
  names.push(name);
  return name;
}

afterEach(() => {
  for (const name of names.splice(0)) undefine(name);
});

describe('queue.producer()', () => {
  it('returns a descriptor of shared buffers and a port, connectable in the same thread too', async () => {
    const queue = define<string>(fresh(), 10);
    const descriptor = queue.producer({ bufferSize: 4096 });
    expect(descriptor).toMatchObject({
      kind: 'switchyard.mpsc.producer',
      version: 3,
      name: queue.name,
      limit: 10,
      slot: 1,
    });
    expect(descriptor.control).toBeInstanceOf(SharedArrayBuffer);
    expect(descriptor.ring).toBeInstanceOf(SharedArrayBuffer);
    // A descriptor survives structured cloning (what postMessage does), port transferred.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<ProducerDescriptor<string>>((resolve) => port2.once('message', resolve));
    port1.postMessage(descriptor, [descriptor.port]);
    const producer = connect(await received);
    await producer.send('hello');
    expect(await queue.recv()).toBe('hello');
    producer.close();
    port1.close();
    await queue.producersGone();
  });

  it('counts producers, and producersGone() resolves when the last one goes or rejects on abort', async () => {
    const queue = define(fresh());
    await queue.producersGone();
    const first = queue.producer();
    const second = queue.producer();
    expect(queue.producerCount()).toBe(2);
    const reason = new Error('stop waiting');
    await expect(queue.producersGone({ signal: AbortSignal.abort(reason) })).rejects.toMatchObject({
      code: 'ABORT_ERR',
      cause: reason,
    });
    const controller = new AbortController();
    const aborted = queue.producersGone({ signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    const gone = queue.producersGone();
    first.port.close();
    second.port.close();
    await gone;
    expect(queue.producerCount()).toBe(0);
  });

  it('throws ERR_INVALID_ARGUMENT for a bufferSize that is not a power of two in range', () => {
    const queue = define(fresh());
    for (const bad of [1000, 3000, 2048, 2 ** 29, Number.NaN, '4096']) {
      expect(() => queue.producer({ bufferSize: bad as number })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(queue.producerCount()).toBe(0);
  });

  it('throws QueueClosedError on a closed queue', () => {
    const queue = define(fresh());
    queue.close();
    expect(() => queue.producer()).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_CLOSED' }));
  });

  it('throws InvalidLimitError when the limit is too large to share across threads', () => {
    const queue = define(fresh(), 2 ** 21);
    expect(() => queue.producer()).toThrow(InvalidLimitError);
    expect(() => define(fresh(), 2 ** 21 - 1).producer()).not.toThrow();
  });

  it('throws TooManyProducersError past 1023 live producers, and reuses slots once they are gone', async () => {
    const queue = define(fresh());
    const descriptors = Array.from({ length: 1023 }, () => queue.producer({ bufferSize: 4096 }));
    expect(new Set(descriptors.map((d) => d.slot)).size).toBe(1023);
    expect(() => queue.producer({ bufferSize: 4096 })).toThrow(TooManyProducersError);
    expect(() => queue.producer({ bufferSize: 4096 })).toThrow(
      expect.objectContaining({ code: 'ERR_TOO_MANY_PRODUCERS' }),
    );
    for (const descriptor of descriptors) descriptor.port.close();
    await queue.producersGone();
    const again = queue.producer({ bufferSize: 4096 });
    expect(again.slot).toBeGreaterThanOrEqual(1);
    const producer = connect(again);
    await producer.send(1);
    expect(queue.tryRecv()).toBe(1);
    producer.close();
    await queue.producersGone();
  });

  it('keeps later values of a shape decodable when the send that first carried it timed out', async () => {
    const queue = define<unknown>(fresh(), 1);
    const descriptor = queue.producer({ bufferSize: 4096 });
    const producer = connect(descriptor);
    await producer.send('fills the queue');
    // The first value of this shape never reaches the ring: its send gives up waiting for room.
    await expect(producer.sendTimeout({ id: 1, name: 'first' }, 0.01)).rejects.toMatchObject({
      code: 'ERR_SEND_TIMEOUT',
    });
    expect(await queue.recv()).toBe('fills the queue');
    // Values of other kinds sent in between do not count as publishing the shape.
    expect(producer.trySend(42)).toBe(true);
    expect(await queue.recv()).toBe(42);
    await producer.send({ id: 2, name: 'second' });
    expect(await queue.recv()).toEqual({ id: 2, name: 'second' });
    await producer.send({ id: 3, name: 'third' });
    expect(await queue.recv()).toEqual({ id: 3, name: 'third' });
    producer.close();
    await queue.producersGone();
  });

  it('sends the bytes a waiting send was given, even if the caller changes them while it waits', async () => {
    const queue = define<unknown>(fresh(), 1);
    const producer = connect(queue.producer({ bufferSize: 4096 }));
    await producer.send('fills the queue');
    const bytes = new Uint8Array([1, 2, 3]);
    const sent = producer.send(bytes);
    bytes[0] = 9;
    expect(await queue.recv()).toBe('fills the queue');
    await sent;
    expect([...((await queue.recv()) as Uint8Array)]).toEqual([1, 2, 3]);
    producer.close();
    await queue.producersGone();
  });

  it('hands large values over in batches of at most 64 KiB of records per producer, losing none', async () => {
    const queue = define<{ i: number; text: string }>(fresh());
    const producer = connect(queue.producer());
    for (let i = 0; i < 1000; i++) expect(producer.trySend({ i, text: 'x'.repeat(1000) })).toBe(true);
    const first = (await queue.recvMany(10_000))!;
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(100);
    const got = [...first];
    while (got.length < 1000) got.push(...(await queue.recvMany(10_000))!);
    expect(got.map((v) => v.i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    producer.close();
    await queue.producersGone();
  });

  it('rejects a receive with ProtocolError for a value a broken producer wrote, after the values before it, and goes on', async () => {
    const queue = define<number>(fresh());
    const descriptor = queue.producer({ bufferSize: 4096 });
    // Play a broken producer: write records straight into its ring.
    const header = new Int32Array(descriptor.ring, 0, RING_DATA_OFFSET / 4);
    const i32 = new Int32Array(descriptor.ring, RING_DATA_OFFSET);
    const u8 = new Uint8Array(descriptor.ring, RING_DATA_OFFSET);
    let tail = 0;
    const int = (value: number): void => {
      i32[tail >> 2] = TAG_INT;
      i32[(tail >> 2) + 1] = value;
      tail += 8;
    };
    const broken = (): void => {
      i32[tail >> 2] = TAG_STRUCT | (1 << 4);
      u8[tail + 4] = 0x7f;
      tail += 8;
    };
    int(1);
    broken();
    int(3);
    Atomics.store(header, RING_TAIL, tail);
    expect(await queue.recv()).toBe(1);
    await expect(queue.recv()).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(await queue.recv()).toBe(3);
    // A receiver already waiting is rejected too; tryRecv throws.
    const waiting = queue.recv();
    broken();
    Atomics.store(header, RING_TAIL, tail);
    descriptor.port.postMessage(SPILL_WAKE);
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    broken();
    int(4);
    Atomics.store(header, RING_TAIL, tail);
    expect(() => queue.tryRecv()).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(queue.tryRecv()).toBe(4);
    descriptor.port.close();
    await queue.producersGone();
  });
});
