import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Queue } from '../../src/index.js';
import {
  ConsumerBusyError,
  define,
  InvalidLimitError,
  InvalidValueError,
  QueueClosedError,
  SendTimeoutError,
  undefine,
} from '../../src/index.js';

let counter = 0;
const names: string[] = [];
function queue<T>(limit?: number): Queue<T> {
  const name = `queue-test-${++counter}`;
  names.push(name);
  return define<T>(name, limit);
}

afterEach(() => {
  vi.useRealTimers();
  for (const name of names.splice(0)) undefine(name);
});

/** Resolves after every microtask queued so far (and those they queue) has run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records how a promise settled, without awaiting it. */
function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const out: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(out, { state: 'resolved', value }),
    (error: unknown) => Object.assign(out, { state: 'rejected', error }),
  );
  return out;
}

describe('send and recv in one thread', () => {
  it('delivers values in the order they were sent', async () => {
    const q = queue<number>();
    for (let i = 0; i < 1000; i++) await q.send(i);
    expect(q.len()).toBe(1000);
    const got: number[] = [];
    for (let i = 0; i < 1000; i++) got.push((await q.recv())!);
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(q.isEmpty()).toBe(true);
  });

  it('delivers the very objects that were sent', async () => {
    const q = queue<{ n: number }>();
    const value = { n: 1 };
    await q.send(value);
    expect(await q.recv()).toBe(value);
  });

  it('never makes a sender wait on an unbounded queue', async () => {
    const q = queue<number>();
    const sends = Array.from({ length: 10_000 }, (_, i) => track(q.send(i)));
    await flush();
    expect(sends.every((s) => s.state === 'resolved')).toBe(true);
    expect(q.len()).toBe(10_000);
  });

  it('makes recv wait while the queue is empty, then resolves with the next value', async () => {
    const q = queue<string>();
    const received = track(q.recv());
    await flush();
    expect(received.state).toBe('pending');
    await q.send('hello');
    await flush();
    expect(received).toMatchObject({ state: 'resolved', value: 'hello' });
    expect(q.len()).toBe(0);
  });

  it('handles a large backlog (100k values) sent and drained in batches', async () => {
    const q = queue<number>();
    const n = 100_000;
    for (let i = 0; i < n; i++) q.trySend(i);
    const got: number[] = [];
    while (!q.isEmpty()) got.push(...(await q.recvMany(4096))!);
    expect(got.length).toBe(n);
    expect(got.every((value, i) => value === i)).toBe(true);
  });
});

describe('bounded queues', () => {
  it('make send wait for room and resolve once the value is in the queue', async () => {
    const q = queue<number>(2);
    await q.send(1);
    await q.send(2);
    const third = track(q.send(3));
    await flush();
    expect(third.state).toBe('pending');
    expect(q.len()).toBe(2);
    expect(await q.recv()).toBe(1);
    await flush();
    expect(third.state).toBe('resolved');
    expect(q.len()).toBe(2);
    expect(await q.recvMany(10)).toEqual([2, 3]);
  });

  it('serve waiting senders in FIFO order', async () => {
    const q = queue<string>(1);
    await q.send('first');
    const waiting = ['a', 'b', 'c', 'd'].map((v) => track(q.send(v)));
    const order: string[] = [];
    for (let i = 0; i < 5; i++) order.push((await q.recv())!);
    expect(order).toEqual(['first', 'a', 'b', 'c', 'd']);
    await flush();
    expect(waiting.every((w) => w.state === 'resolved')).toBe(true);
  });

  it('make trySend return false when full, true when there is room, and never wait', async () => {
    const q = queue<number>(2);
    expect(q.trySend(1)).toBe(true);
    expect(q.trySend(2)).toBe(true);
    expect(q.trySend(3)).toBe(false);
    expect(q.len()).toBe(2);
    await q.recv();
    expect(q.trySend(4)).toBe(true);
    expect(await q.recvMany(5)).toEqual([2, 4]);
  });

  it('make trySend return false while other senders wait, so it never jumps the line', async () => {
    const q = queue<number>(1);
    await q.send(1);
    const waiting = track(q.send(2));
    // The queue is full anyway; after one recv the waiting sender takes the place at once.
    expect(q.trySend(3)).toBe(false);
    expect(await q.recv()).toBe(1);
    expect(q.trySend(4)).toBe(false);
    expect(await q.recv()).toBe(2);
    await flush();
    expect(waiting.state).toBe('resolved');
  });
});

describe('sendTimeout', () => {
  it('rejects with SendTimeoutError after the given (fractional) seconds and leaves no trace', async () => {
    vi.useFakeTimers();
    const q = queue<string>(1);
    await q.send('kept');
    const before = track(q.send('before'));
    const timed = track(q.sendTimeout('dropped', 0.25));
    const after = track(q.send('after'));
    await vi.advanceTimersByTimeAsync(249);
    expect(timed.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(timed.state).toBe('rejected');
    expect(timed.error).toBeInstanceOf(SendTimeoutError);
    expect(timed.error).toMatchObject({ code: 'ERR_SEND_TIMEOUT' });
    expect(q.len()).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push((await q.recv())!);
    expect(got).toEqual(['kept', 'before', 'after']);
    expect(before.state).toBe('resolved');
    expect(after.state).toBe('resolved');
    expect(q.isEmpty()).toBe(true);
  });

  it('resolves when room appears in time and clears its timer', async () => {
    vi.useFakeTimers();
    const q = queue<number>(1);
    await q.send(1);
    const timed = track(q.sendTimeout(2, 10));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await q.recv()).toBe(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(timed.state).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
    expect(await q.recv()).toBe(2);
  });

  it('ignores the timeout on an unbounded queue', async () => {
    vi.useFakeTimers();
    const q = queue<number>();
    await q.sendTimeout(1, 0);
    expect(vi.getTimerCount()).toBe(0);
    expect(q.tryRecv()).toBe(1);
  });

  it('rejects with ERR_INVALID_ARGUMENT for seconds that are not a finite number >= 0', async () => {
    const q = queue<number>(1);
    for (const bad of [-1, Number.NaN, Infinity, '1', undefined]) {
      await expect(q.sendTimeout(1, bad as number)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(q.len()).toBe(0);
  });
});

describe('tryRecv and recvMany', () => {
  it('tryRecv returns a value or undefined at once', async () => {
    const q = queue<number>();
    expect(q.tryRecv()).toBeUndefined();
    await q.send(7);
    expect(q.tryRecv()).toBe(7);
    expect(q.tryRecv()).toBeUndefined();
  });

  it('recvMany returns up to limit values, fewer without waiting, and leaves the excess', async () => {
    const q = queue<number>();
    for (let i = 0; i < 5; i++) await q.send(i);
    expect(await q.recvMany(3)).toEqual([0, 1, 2]);
    expect(q.len()).toBe(2);
    expect(await q.recvMany(10)).toEqual([3, 4]);
  });

  it('recvMany waits until at least one value is there', async () => {
    const q = queue<number>();
    const batch = track(q.recvMany(10));
    await flush();
    expect(batch.state).toBe('pending');
    await q.send(1);
    await flush();
    expect(batch).toMatchObject({ state: 'resolved', value: [1] });
  });

  it('recvMany lets waiting senders of a bounded queue in as it frees places', async () => {
    const q = queue<number>(2);
    await q.send(1);
    await q.send(2);
    const waiting = [track(q.send(3)), track(q.send(4)), track(q.send(5))];
    expect(await q.recvMany(2)).toEqual([1, 2]);
    await flush();
    expect(waiting.map((w) => w.state)).toEqual(['resolved', 'resolved', 'pending']);
    expect(await q.recvMany(2)).toEqual([3, 4]);
    expect(await q.recvMany(2)).toEqual([5]);
  });

  it('recvMany throws InvalidLimitError for a limit that is not a positive integer', async () => {
    const q = queue<number>();
    for (const bad of [0, -2, 1.5, Number.NaN, '2']) {
      const error = await q.recvMany(bad as number).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidLimitError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_LIMIT' });
    }
  });

  it('consumes with for await until the queue is closed and drained', async () => {
    const q = queue<number>();
    const seen: number[] = [];
    const done = (async () => {
      for await (const value of q) seen.push(value);
    })();
    for (let i = 0; i < 10; i++) await q.send(i);
    await flush();
    q.close();
    await done;
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});

describe('close', () => {
  it('makes send and sendTimeout reject with QueueClosedError and trySend return false', async () => {
    const q = queue<number>(3);
    q.close();
    expect(q.isClosed()).toBe(true);
    await expect(q.send(1)).rejects.toMatchObject({ code: 'ERR_QUEUE_CLOSED' });
    await expect(q.sendTimeout(1, 1)).rejects.toBeInstanceOf(QueueClosedError);
    expect(q.trySend(1)).toBe(false);
    expect(q.len()).toBe(0);
  });

  it('keeps the values already sent receivable, then recv and recvMany resolve undefined', async () => {
    const q = queue<number>();
    for (let i = 0; i < 3; i++) await q.send(i);
    q.close();
    expect(await q.recv()).toBe(0);
    expect(await q.recvMany(5)).toEqual([1, 2]);
    expect(await q.recv()).toBeUndefined();
    expect(await q.recvMany(5)).toBeUndefined();
    expect(q.tryRecv()).toBeUndefined();
  });

  it('rejects senders waiting for room with QueueClosedError; what was in the queue stays', async () => {
    vi.useFakeTimers();
    const q = queue<number>(1);
    await q.send(1);
    const waiting = track(q.send(2));
    const timed = track(q.sendTimeout(3, 60));
    q.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting.error).toMatchObject({ code: 'ERR_QUEUE_CLOSED' });
    expect(timed.error).toMatchObject({ code: 'ERR_QUEUE_CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
    expect(await q.recv()).toBe(1);
    expect(await q.recv()).toBeUndefined();
  });

  it('wakes a waiting recv with undefined', async () => {
    const q = queue<number>();
    const received = track(q.recv());
    await flush();
    q.close();
    await flush();
    expect(received).toMatchObject({ state: 'resolved', value: undefined });
  });

  it('is idempotent and is what Symbol.asyncDispose does', async () => {
    const q = queue<number>();
    await q[Symbol.asyncDispose]();
    q.close();
    expect(q.isClosed()).toBe(true);
  });
});

describe('single consumer', () => {
  it('rejects a second recv or recvMany with ConsumerBusyError while one is waiting', async () => {
    const q = queue<number>();
    const first = track(q.recv());
    const second = await q.recv().catch((e: unknown) => e);
    const many = await q.recvMany(3).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ConsumerBusyError);
    expect(many).toMatchObject({ code: 'ERR_CONSUMER_BUSY' });
    await q.send(1);
    await flush();
    expect(first).toMatchObject({ state: 'resolved', value: 1 });
    // Once the first one is served, a new recv is fine.
    await q.send(2);
    expect(await q.recv()).toBe(2);
  });
});

describe('values', () => {
  it('refuses undefined with InvalidValueError at the send call', async () => {
    const q = queue<unknown>();
    const error = await q.send(undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidValueError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_VALUE' });
    expect(() => q.trySend(undefined)).toThrow(InvalidValueError);
    await expect(q.sendTimeout(undefined, 1)).rejects.toMatchObject({ code: 'ERR_INVALID_VALUE' });
    expect(q.len()).toBe(0);
  });

  it('refuses functions, symbols and other values structuredClone refuses, and queues nothing', async () => {
    const q = queue<unknown>();
    const bad: unknown[] = [
      () => 1,
      Symbol('s'),
      { nested: { fn() {} } },
      [1, 2, Symbol.iterator],
      new WeakMap(),
      Promise.resolve(1),
      new (class {
        method = (): number => 1;
      })(),
      new Map([[1, () => 2]]),
    ];
    for (const value of bad) {
      await expect(q.send(value)).rejects.toMatchObject({ code: 'ERR_INVALID_VALUE' });
      expect(() => q.trySend(value)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_VALUE' }));
    }
    expect(q.len()).toBe(0);
  });

  it('accepts every structured-cloneable value', async () => {
    const q = queue<unknown>();
    const cyclic: Record<string, unknown> = { name: 'self' };
    cyclic.self = cyclic;
    const sparse = [1];
    sparse[3] = 4;
    const good: unknown[] = [
      0,
      -0,
      Number.NaN,
      'text',
      true,
      null,
      10n,
      new Date(0),
      /re/g,
      new Map([[1, { a: 1 }]]),
      new Set([1]),
      new Uint8Array(3),
      new ArrayBuffer(4),
      cyclic,
      { a: undefined },
      sparse,
      new Error('e'),
      Object.create(null),
    ];
    for (const value of good) await q.send(value);
    expect(q.len()).toBe(good.length);
    expect(await q.recvMany(100)).toEqual(good);
  });
});

describe('abort signals', () => {
  it('rejects at once with AbortError when the signal is already aborted', async () => {
    const q = queue<number>(1);
    const reason = new Error('stop');
    await expect(q.send(1, { signal: AbortSignal.abort(reason) })).rejects.toMatchObject({
      code: 'ABORT_ERR',
      cause: reason,
    });
    await expect(q.recv({ signal: AbortSignal.abort(reason) })).rejects.toMatchObject({
      code: 'ABORT_ERR',
      cause: reason,
    });
    expect(q.len()).toBe(0);
  });

  it('removes an aborted waiting sender without trace', async () => {
    const q = queue<number>(1);
    await q.send(1);
    const controller = new AbortController();
    const aborted = track(q.send(2, { signal: controller.signal }));
    const next = track(q.send(3));
    controller.abort('enough');
    await flush();
    expect(aborted.error).toMatchObject({ code: 'ABORT_ERR', cause: 'enough' });
    expect(await q.recv()).toBe(1);
    expect(await q.recv()).toBe(3);
    expect(next.state).toBe('resolved');
    expect(q.isEmpty()).toBe(true);
  });

  it('frees the consumer slot when a waiting recv is aborted', async () => {
    const q = queue<number>();
    const controller = new AbortController();
    const waiting = q.recv({ signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await q.send(5);
    expect(await q.recv()).toBe(5);
  });
});
