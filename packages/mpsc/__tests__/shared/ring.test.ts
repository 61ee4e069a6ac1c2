import { MessageChannel } from 'node:worker_threads';
import type { ProtocolError } from '@switchyard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { RingWriter } from '../../src/producer/RingWriter.js';
import { Deque } from '../../src/queue/Deque.js';
import { ProducerLink } from '../../src/queue/ProducerLink.js';
import type { SpillMessage } from '../../src/shared/protocol.js';
import {
  CONTROL_BYTES,
  RING_DATA_OFFSET,
  RING_TAIL,
  SPILL_SWITCH,
  SPILL_WAKE,
  TAG_INT,
  TAG_STRUCT,
} from '../../src/shared/protocol.js';
import { markPublished, StructEncoder } from '../../src/codec/StructEncoder.js';
import { prepare, preparedCarried, preparedPayload } from '../../src/shared/values.js';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const { port1, port2 } of channels.splice(0)) {
    port1.close();
    port2.close();
  }
});

/** A producer's ring writer and the consumer's reader of it, in one thread, over a real MessageChannel. */
function pair(bytes: number, maxBytes = bytes * 16) {
  const ring = new SharedArrayBuffer(RING_DATA_OFFSET + bytes);
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  const channel = new MessageChannel();
  channels.push(channel);
  const writer = new RingWriter(control, 1, ring, channel.port2, maxBytes);
  const corrupt: ProtocolError[] = [];
  const link = new ProducerLink(control, 1, ring, channel.port1, (error) => corrupt.push(error));

  const out = new Deque<unknown>();
  const spills: SpillMessage[] = [];
  let onSpill: (() => void) | undefined;
  let wakes = 0;
  let flushed: (() => void) | undefined;
  channel.port1.on('message', (message: SpillMessage | typeof SPILL_WAKE | 'flush') => {
    if (message === 'flush') {
      flushed?.();
      return;
    }
    if (message === SPILL_WAKE) {
      wakes++;
      return;
    }
    spills.push(message);
    link.takeSpill(message, out);
    onSpill?.();
  });
  const encoder = new StructEncoder();
  /** What a Producer does: encode, write, and tell the encoder when the record is published. */
  const write = (value: unknown): boolean => {
    const written = writer.write(prepare(value, encoder), preparedPayload);
    if (written) markPublished(preparedCarried);
    return written;
  };
  const send = (value: unknown): void => {
    expect(write(value)).toBe(true);
  };
  /** Pumps the ring and waits for port messages until `count` values came out. */
  const receive = async (count: number): Promise<unknown[]> => {
    const got: unknown[] = [];
    while (got.length < count) {
      link.pumpAll(out);
      out.drainInto(got, count - got.length);
      if (got.length < count) await new Promise<void>((resolve) => (onSpill = resolve));
    }
    return got;
  };
  /** Resolves once every message the producer posted so far has arrived (ports keep order). */
  const flush = (): Promise<void> =>
    new Promise<void>((resolve) => {
      flushed = resolve;
      channel.port2.postMessage('flush');
    });
  return { writer, link, write, send, receive, spills, control, flush, wakes: () => wakes, ring, corrupt };
}

describe('ring encoding', () => {
  it('round-trips every kind of value as structuredClone would', async () => {
    const { send, receive, link } = pair(1 << 16);
    const shared = { s: 1 };
    const values: unknown[] = [
      0,
      1,
      -1,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      0.1,
      -0,
      Number.NaN,
      Infinity,
      -Infinity,
      Number.MAX_VALUE,
      '',
      'a',
      'short latin1 é',
      'ÿ'.repeat(32),
      'wide ☃ chars',
      '🙂 emoji',
      'x'.repeat(33),
      'long é☃🙂'.repeat(20),
      'lone \ud800 surrogate',
      `long lone ${'\udc00'.repeat(40)}`,
      '\u0000nul',
      true,
      false,
      null,
      new Uint8Array([1, 2, 3]),
      Buffer.from('buf'),
      new Uint8Array(0),
      { a: 1, b: [1, 2, { c: 'd' }], e: null },
      [],
      {},
      [[[]]],
      { u: undefined },
      { d: new Date(1) },
      new Map([[1, 2]]),
      new Set(['x']),
      12n,
      { a: shared, b: shared },
      new Float64Array([1.5]),
      { z: -0 },
      /x/gi,
    ];
    for (const value of values) send(value);
    const got = await receive(values.length);
    expect(got).toEqual(values.map((v) => structuredClone(v)));
    for (let i = 0; i < values.length; i++)
      expect(Object.is(got[i], values[i]) || typeof values[i] === 'object').toBe(true);
    // Buffers arrive as plain Uint8Arrays, as structuredClone makes them.
    expect(Buffer.isBuffer(got[values.indexOf(values.find((v) => Buffer.isBuffer(v)))])).toBe(false);
    const sharedCopy = got.find(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        'a' in v &&
        'b' in v &&
        (v as { a: unknown }).a === (v as { b: unknown }).b,
    );
    expect(sharedCopy).toBeDefined();
    expect(link.read).toBe(values.length);
  });

  it('round-trips strings of every short length, latin1 and not', async () => {
    const { send, receive } = pair(1 << 16);
    const values: string[] = [];
    for (let length = 0; length <= 40; length++) {
      values.push(Array.from({ length }, (_, i) => String.fromCharCode((i * 37 + length) % 256)).join(''));
      values.push('☃'.repeat(length));
    }
    for (const value of values) send(value);
    expect(await receive(values.length)).toEqual(values);
  });

  it('copies values out of the ring, so reusing the space does not change them', async () => {
    const { send, receive } = pair(4096);
    send(new Uint8Array([9, 9, 9]));
    send({ t: new Uint8Array([7, 7]), m: new Map() });
    const [bytes, object] = (await receive(2)) as [Uint8Array, { t: Uint8Array }];
    for (let i = 0; i < 2000; i++) send(0x55555555);
    await receive(2000);
    expect([...bytes]).toEqual([9, 9, 9]);
    expect([...object.t]).toEqual([7, 7]);
    expect(bytes.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });

  it('wraps around the end of the ring many times, in order', async () => {
    const { send, receive, spills } = pair(4096);
    let next = 0;
    for (let round = 0; round < 50; round++) {
      const batch: unknown[] = [];
      for (let i = 0; i < 37; i++) {
        const value =
          i % 4 === 0
            ? next
            : i % 4 === 1
              ? `v${next}-${'x'.repeat(next % 40)}`
              : i % 4 === 2
                ? { n: next }
                : next + 0.5;
        batch.push(value);
        send(value);
        next++;
      }
      expect(await receive(batch.length)).toEqual(batch);
    }
    expect(spills).toHaveLength(0);
  });

  it('spills values larger than a quarter of the ring to the port, keeping the order', async () => {
    const { send, receive, spills } = pair(4096);
    const big = 'B'.repeat(5000);
    const bigObject = { data: 'O'.repeat(3000) };
    const bigBytes = new Uint8Array(2000).fill(3);
    const values = [1, big, 2, bigObject, bigBytes, { m: new Map([[1, 'M'.repeat(2000)]]) }, 3];
    for (const value of values) send(value);
    expect(await receive(values.length)).toEqual(values);
    expect(spills.length).toBe(4);
  });

  it('moves to a larger ring when the ring is full, in order, without spilling values', async () => {
    const { send, receive, spills } = pair(4096);
    // Nothing is read while sending: 4 KiB hold ~500 integer records, so the ring grows.
    const values = Array.from({ length: 5000 }, (_, i) => (i % 2 === 0 ? i : `value ${i}`));
    for (const value of values) send(value);
    expect(await receive(values.length)).toEqual(values);
    expect(spills.length).toBeGreaterThan(0);
    expect(spills.every(([, kind]) => kind === SPILL_SWITCH)).toBe(true);
    const more = Array.from({ length: 100 }, (_, i) => `again ${i}`);
    for (const value of more) send(value);
    expect(await receive(more.length)).toEqual(more);
  });

  it('spills values to the port while the largest ring is full, and comes back to it', async () => {
    const { send, receive, spills } = pair(4096, 4096);
    const values = Array.from({ length: 2000 }, (_, i) => i);
    for (const value of values) send(value);
    expect(await receive(values.length)).toEqual(values);
    // 4 KiB hold ~500 integer records; the rest went through the port one by one.
    expect(spills.filter(([, kind]) => kind === 0).length).toBeGreaterThan(1000);
    const more = Array.from({ length: 100 }, (_, i) => `again ${i}`);
    const spilled = spills.length;
    for (const value of more) send(value);
    expect(await receive(more.length)).toEqual(more);
    // At most a resume message came; no more values went through the port.
    expect(spills.slice(spilled).every(([, kind]) => kind === 3)).toBe(true);
  });

  it('never truncates: a value of several MB arrives whole', async () => {
    const { send, receive } = pair(4096);
    const huge = new Uint8Array(5 * 1024 * 1024).map((_, i) => i & 0xff);
    send(huge);
    const [got] = (await receive(1)) as [Uint8Array];
    expect(got.byteLength).toBe(huge.byteLength);
    expect(Buffer.compare(got, huge)).toBe(0);
  });

  it('gives what is left after the producer is gone', () => {
    const { send, link } = pair(4096);
    for (let i = 0; i < 10; i++) send(i);
    const out = new Deque<unknown>();
    expect(link.drained()).toBe(false);
    expect(link.drainRemains(out)).toBe(10);
    expect(link.drained()).toBe(true);
    expect(out.length).toBe(10);
  });

  it('refuses to publish once the consumer flags the ring closed, on the ring and on the port', async () => {
    const { write, link, receive } = pair(4096);
    expect(write(1)).toBe(true);
    link.close();
    expect(write(2)).toBe(false);
    expect(write('x'.repeat(5000))).toBe(false);
    expect(await receive(1)).toEqual([1]);
    expect(link.drained()).toBe(true);
  });

  it('posts one wake-up when the consumer flagged that it sleeps, and none otherwise', async () => {
    const { write, link, receive, flush, wakes } = pair(4096);
    link.sleep(true);
    expect(write(1)).toBe(true);
    expect(write(2)).toBe(true);
    await flush();
    expect(wakes()).toBe(1);
    expect(await receive(2)).toEqual([1, 2]);
    link.sleep(false);
    expect(write(3)).toBe(true);
    await flush();
    expect(wakes()).toBe(1);
    link.sleep(true);
    expect(write('four')).toBe(true);
    await flush();
    expect(wakes()).toBe(2);
    // Flagging again after the producer cleared the flag works without unflagging first.
    link.sleep(true);
    expect(write({ five: 5 })).toBe(true);
    await flush();
    expect(wakes()).toBe(3);
    expect(await receive(3)).toEqual([3, 'four', { five: 5 }]);
  });

  it('moves on after a large wrap-around pad, also in drainRemains and pumpAll', async () => {
    // A 1 MiB ring keeps records up to 256 KiB. Four 225,008-byte records leave 148,544 bytes
    // before the end: a 200,008-byte record is written after a pad larger than a batch (64 KiB).
    const { send, receive, link } = pair(1 << 20);
    for (let i = 0; i < 4; i++) send(new Uint8Array(225_000));
    expect(await receive(4)).toHaveLength(4);
    const value = { tag: 'A', data: 'x'.repeat(200_000) };
    send(value);
    const out = new Deque<unknown>();
    expect(link.pump(out, 1 << 30)).toBe(1);
    expect(out.shift()).toEqual(value);
    send(value);
    expect(link.pumpAll(out)).toBe(1);
    send(value);
    send(value);
    expect(link.drainRemains(out)).toBe(2);
    expect(link.drained()).toBe(true);
  });

  it('drops a record that cannot be decoded, reports it, and reads on after it', () => {
    const { send, link, ring, corrupt } = pair(4096);
    send(1);
    // What a broken producer might publish: a record of plain data with an unknown tag inside.
    const header = new Int32Array(ring, 0, RING_DATA_OFFSET / 4);
    const i32 = new Int32Array(ring, RING_DATA_OFFSET);
    const tail = Atomics.load(header, RING_TAIL);
    i32[tail >> 2] = TAG_STRUCT | (1 << 4);
    new Uint8Array(ring, RING_DATA_OFFSET)[tail + 4] = 0x7f;
    i32[(tail >> 2) + 2] = TAG_INT;
    i32[(tail >> 2) + 3] = 3;
    Atomics.store(header, RING_TAIL, tail + 16);
    const out = new Deque<unknown>();
    expect(link.pump(out, 1 << 30)).toBe(1);
    expect(out.shift()).toBe(1);
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0]).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(link.pump(out, 1 << 30)).toBe(1);
    expect(out.shift()).toBe(3);
    // An unreadable header: everything published so far is dropped, later records are read.
    const at = Atomics.load(header, RING_TAIL);
    i32[at >> 2] = 15;
    i32[(at >> 2) + 2] = TAG_INT;
    Atomics.store(header, RING_TAIL, at + 16);
    expect(link.pump(out, 1 << 30)).toBe(0);
    expect(corrupt).toHaveLength(2);
    expect(link.drained()).toBe(true);
  });
});
