import { afterEach, describe, expect, it } from 'vitest';
import type { ProducerDescriptor } from '../../src/index.js';
import { connect, define, InvalidLimitError, TooManyProducersError, undefine } from '../../src/index.js';

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
    expect(descriptor).toMatchObject({ kind: 'switchyard.mpsc.producer', version: 2, name: queue.name, limit: 10, slot: 1 });
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
    await expect(queue.producersGone({ signal: AbortSignal.abort(reason) })).rejects.toMatchObject({ code: 'ABORT_ERR', cause: reason });
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
      expect(() => queue.producer({ bufferSize: bad as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
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
    expect(() => queue.producer({ bufferSize: 4096 })).toThrow(expect.objectContaining({ code: 'ERR_TOO_MANY_PRODUCERS' }));
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
});
