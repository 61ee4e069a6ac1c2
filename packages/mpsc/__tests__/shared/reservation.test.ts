import { afterEach, describe, expect, it } from 'vitest';
import { connect, define, undefine } from '../../src/index.js';
import {
  CONTROL_BYTES,
  CTL_CONSUMED,
  CTL_RESERVED,
  CTL_TABLE,
  CTL_TABLE_STRIDE,
  OWNER_SHIFT,
  PARITY_SHIFT,
  TOTAL_MASK,
} from '../../src/shared/protocol.js';
import { help, reservedCount, retireSlot, tryReserve } from '../../src/shared/reservation.js';

const counterOf = (control: Int32Array, slot: number): number =>
  Atomics.load(control, CTL_TABLE + slot * CTL_TABLE_STRIDE);

/** What a producer thread leaves behind when it dies right after winning the reservation word. */
function winWordAndDie(control: Int32Array, slot: number): void {
  const g = Atomics.load(control, CTL_RESERVED);
  help(control, g);
  const count = counterOf(control, slot);
  const next = (((g & TOTAL_MASK) + 1) & TOTAL_MASK) | (slot << OWNER_SHIFT) | (((count + 1) & 1) << PARITY_SHIFT);
  expect(Atomics.compareExchange(control, CTL_RESERVED, g, next)).toBe(g);
}

describe('reservations', () => {
  it('admit exactly limit values across slots and free them as they are consumed', () => {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    const counts = [0, 0, 0, 0];
    let admitted = 0;
    for (let round = 0; round < 10; round++) {
      for (const slot of [0, 1, 2, 3]) {
        if (tryReserve(control, slot, 5, counts[slot]!)) {
          counts[slot]!++;
          admitted++;
        }
      }
    }
    expect(admitted).toBe(5);
    expect(reservedCount(control)).toBe(5);
    for (const slot of [1, 2, 3]) expect(counterOf(control, slot)).toBe(counts[slot]);
    Atomics.store(control, CTL_CONSUMED, 2);
    expect(reservedCount(control)).toBe(3);
    expect(tryReserve(control, 1, 5, counts[1]!)).toBe(true);
    expect(tryReserve(control, 2, 5, counts[2]!)).toBe(true);
    expect(tryReserve(control, 3, 5, counts[3]!)).toBe(false);
  });

  it('wrap around the 21-bit total', () => {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    Atomics.store(control, CTL_RESERVED, TOTAL_MASK - 1);
    Atomics.store(control, CTL_CONSUMED, TOTAL_MASK - 1);
    for (let i = 0; i < 4; i++) expect(tryReserve(control, 0, 4, 0)).toBe(true);
    expect(tryReserve(control, 0, 4, 0)).toBe(false);
    expect(reservedCount(control)).toBe(4);
  });

  it('let the next reserver record a reservation whose producer died before recording it', () => {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    expect(tryReserve(control, 7, 10, 0)).toBe(true);
    winWordAndDie(control, 7);
    expect(counterOf(control, 7)).toBe(1);
    expect(tryReserve(control, 2, 10, 0)).toBe(true);
    expect(counterOf(control, 7)).toBe(2);
    // Helping again, or with a stale word, changes nothing.
    help(control, Atomics.load(control, CTL_RESERVED));
    expect(counterOf(control, 7)).toBe(2);
    expect(counterOf(control, 2)).toBe(1);
  });

  it('retire a slot with its exact count, completing a half-recorded reservation', () => {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    expect(tryReserve(control, 4, 10, 0)).toBe(true);
    expect(tryReserve(control, 4, 10, 1)).toBe(true);
    winWordAndDie(control, 4);
    expect(retireSlot(control, 4)).toBe(3);
    expect((Atomics.load(control, CTL_RESERVED) >>> OWNER_SHIFT) & 0x3ff).toBe(0);
    expect(reservedCount(control)).toBe(3);
    expect(retireSlot(control, 4)).toBe(3);
  });
});

describe('a producer that dies between reserving and publishing', () => {
  afterEach(() => undefine('reservation-death'));

  it('has its place given back when its port closes, so the queue is not wedged', async () => {
    const queue = define<number>('reservation-death', 1);
    const descriptor = queue.producer();
    const control = new Int32Array(descriptor.control);
    winWordAndDie(control, descriptor.slot);
    // The queue is full with the dead producer's phantom reservation.
    expect(queue.trySend(1)).toBe(false);
    expect(queue.producerCount()).toBe(1);
    descriptor.port.close();
    await queue.producersGone();
    expect(queue.producerCount()).toBe(0);
    expect(queue.trySend(1)).toBe(true);
    expect(queue.trySend(2)).toBe(false);
    expect(await queue.recv()).toBe(1);
    expect(queue.isEmpty()).toBe(true);
  });

  it('keeps the values it did publish', async () => {
    const queue = define<number>('reservation-death', 3);
    const descriptor = queue.producer();
    const producer = connect(descriptor);
    await producer.send(10);
    await producer.send(11);
    winWordAndDie(new Int32Array(descriptor.control), descriptor.slot);
    expect(queue.trySend(99)).toBe(false);
    producer.close();
    await queue.producersGone();
    expect(await queue.recvMany(10)).toEqual([10, 11]);
    expect(queue.trySend(1)).toBe(true);
    expect(queue.trySend(2)).toBe(true);
    expect(queue.trySend(3)).toBe(true);
    expect(queue.trySend(4)).toBe(false);
  });
});
