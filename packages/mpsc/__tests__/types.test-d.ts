import { describe, expectTypeOf, it } from 'vitest';
import type { Producer, ProducerDescriptor, Queue } from '../src/index.js';
import { connect, define } from '../src/index.js';

describe('types', () => {
  it('carries the value type from define() to recv, producers and connect()', () => {
    const queue = define<{ id: number }>('typed');
    expectTypeOf(queue).toEqualTypeOf<Queue<{ id: number }>>();
    expectTypeOf(queue.recv()).toEqualTypeOf<Promise<{ id: number } | undefined>>();
    expectTypeOf(queue.recvMany(10)).toEqualTypeOf<Promise<{ id: number }[] | undefined>>();
    expectTypeOf(queue.tryRecv()).toEqualTypeOf<{ id: number } | undefined>();
    expectTypeOf(queue.trySend).parameter(0).toEqualTypeOf<{ id: number }>();
    expectTypeOf(queue.send({ id: 1 })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(queue.len()).toEqualTypeOf<number>();
    const descriptor = queue.producer();
    expectTypeOf(descriptor).toEqualTypeOf<ProducerDescriptor<{ id: number }>>();
    const producer = connect(descriptor);
    expectTypeOf(producer).toEqualTypeOf<Producer<{ id: number }>>();
    expectTypeOf(producer.send).parameter(0).toEqualTypeOf<{ id: number }>();
    expectTypeOf(producer.trySend({ id: 2 })).toEqualTypeOf<boolean>();
    // @ts-expect-error -- the value type is enforced
    void queue.send('nope');
    // @ts-expect-error -- the value type is enforced on producers too
    void producer.send({ id: 'x' });
  });

  it('iterates values of the queue type', async () => {
    for await (const value of define<number>('typed-numbers')) expectTypeOf(value).toEqualTypeOf<number>();
  });
});
