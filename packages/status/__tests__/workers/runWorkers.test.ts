import { on, EventEmitter } from 'node:events';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { AbortError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { runWorkers, WorkerRun } from '../../src/index.js';
import { deferred } from '../helpers.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of iterable) values.push(value);
  return values;
}

/** Lets pending promise callbacks run (a few turns of the microtask queue). */
async function settle(): Promise<void> {
  await nextMacrotask();
}

describe('runWorkers', () => {
  it('calls the constructor for ids 1..count, in order, at once, each with the run signal', () => {
    const calls: Array<[number, AbortSignal]> = [];
    const run = runWorkers(4, (id, signal) => {
      calls.push([id, signal]);
      return Promise.resolve();
    });
    expect(run).toBeInstanceOf(WorkerRun);
    expect(calls.map(([id]) => id)).toEqual([1, 2, 3, 4]);
    expect(calls.every(([, signal]) => signal === run.signal && !signal.aborted)).toBe(true);
  });

  it('delivers every value of every worker exactly once', async () => {
    const workers = 8;
    const perWorker = 500;
    const run = runWorkers(workers, async function* (id) {
      for (let i = 0; i < perWorker; i++) {
        // Workers go at different paces: some values need several turns.
        for (let t = 0; t < (i * id) % 3; t++) await null;
        yield `${id}:${i}`;
      }
    });

    const values = await collect(run);

    expect(values).toHaveLength(workers * perWorker);
    expect(new Set(values).size).toBe(workers * perWorker);
    for (let id = 1; id <= workers; id++) {
      // Each worker's own values keep their order.
      const own = values.filter((value) => value.startsWith(`${id}:`)).map((value) => Number(value.split(':')[1]));
      expect(own).toEqual(Array.from({ length: perWorker }, (_, i) => i));
    }
  });

  it('delivers values in the order workers produce them, not in worker order', async () => {
    const slow = deferred();
    const run = runWorkers(2, async function* (id) {
      if (id === 1) await slow.promise;
      yield id;
    });
    const first = await run.next();
    expect(first).toEqual({ value: 2, done: false });
    slow.resolve();
    expect(await run.next()).toEqual({ value: 1, done: false });
    expect(await run.next()).toEqual({ value: undefined, done: true });
  });

  it('ends only when every worker has ended, promise workers included', async () => {
    const gate = deferred();
    let ended = false;
    const run = runWorkers(3, (id) => {
      if (id === 2) {
        return gate.promise.then(() => {
          ended = true;
        });
      }
      return (async function* () {
        yield id;
      })();
    });

    const done = collect(run);
    await settle();
    let finished = false;
    void done.then(() => (finished = true));
    await settle();
    expect(finished).toBe(false);

    gate.resolve();
    expect((await done).sort()).toEqual([1, 3]);
    expect(ended).toBe(true);
  });

  it('ends at once with no values when every worker is a promise, or when count is 0', async () => {
    await expect(collect(runWorkers(3, async () => {}))).resolves.toEqual([]);
    await expect(collect(runWorkers(0, async () => {}))).resolves.toEqual([]);
  });

  it('keeps each worker at most one value ahead of the consumer', async () => {
    let produced = 0;
    const run = runWorkers(1, async function* () {
      for (;;) {
        produced++;
        yield produced;
      }
    });
    await settle();
    expect(produced).toBe(1); // the first value waits to be taken

    for (let i = 1; i <= 3; i++) expect((await run.next()).value).toBe(i);
    await settle();

    expect(produced).toBe(4);
    await run.return();
  });

  it('serves concurrent next() calls in order, each with its own value', async () => {
    const run = runWorkers(2, async function* (id) {
      yield id * 10;
      yield id * 10 + 1;
    });
    const results = await Promise.all([run.next(), run.next(), run.next(), run.next(), run.next(), run.next()]);
    const values = results.filter((result) => result.done !== true).map((result) => result.value);
    expect(values.sort()).toEqual([10, 11, 20, 21]);
    expect(results.slice(4)).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
  });

  it("surfaces a failing worker's error after the others were stopped", async () => {
    const events: string[] = [];
    const boom = new Error('boom');
    const run = runWorkers(3, (id, signal) => {
      if (id === 1) {
        return (async function* () {
          try {
            for (let i = 0; ; i++) {
              await settle(); // a worker waiting for I/O between values
              yield `1:${i}`;
            }
          } finally {
            events.push(`1 stopped (signal aborted: ${signal.aborted})`);
          }
        })();
      }
      if (id === 2) {
        return (async function* () {
          yield '2:0';
          yield '2:1';
          await settle();
          throw boom;
        })();
      }
      // A promise worker: it can only be stopped through its signal.
      return new Promise<void>((_, reject) => {
        signal.addEventListener('abort', () => {
          events.push('3 stopped');
          reject(signal.reason);
        });
      });
    });

    const values: string[] = [];
    let caught: unknown;
    try {
      for await (const value of run) values.push(value);
    } catch (error) {
      caught = error;
      events.push('error surfaced');
    }

    expect(caught).toBe(boom);
    expect(events).toEqual(['3 stopped', '1 stopped (signal aborted: true)', 'error surfaced']);
    expect(values.filter((value) => value.startsWith('2:'))).toEqual(['2:0', '2:1']);
    expect(run.signal.reason).toBeInstanceOf(AbortError);
    expect((run.signal.reason as AbortError).cause).toBe(boom);
    expect(run.running).toBe(0);
    await expect(run.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('delivers the values conveyed before a failure, then the error', async () => {
    const fail = deferred();
    const run = runWorkers(2, async function* (id) {
      if (id === 1) {
        yield 'a';
        yield 'never conveyed'; // the worker is stopped while 'a' waits to be taken
      } else {
        await fail.promise;
        throw new Error('late failure');
      }
    });
    await settle(); // worker 1 conveyed 'a' and waits
    fail.resolve();
    await settle();

    expect(await run.next()).toEqual({ value: 'a', done: false });
    await expect(run.next()).rejects.toThrow('late failure');
    await expect(run.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('delivers a value a worker conveys while it is being stopped, then the error', async () => {
    const slowValue = deferred<string>();
    const worker1Finished = deferred();
    const failure = new Error('worker 2 failed');
    const run = runWorkers(2, async function* (id) {
      if (id === 2) throw failure;
      try {
        yield await slowValue.promise; // does not honour the signal: finishes its step first
        yield 'never asked for';
      } finally {
        worker1Finished.resolve();
      }
    });
    await settle();
    expect(run.signal.aborted).toBe(true); // worker 2 failed: stopping, waiting for worker 1
    expect(run.running).toBe(1);

    slowValue.resolve('late value');
    await worker1Finished.promise;
    await settle();

    expect(run.running).toBe(0);
    await expect(run.next()).resolves.toEqual({ value: 'late value', done: false });
    await expect(run.next()).rejects.toBe(failure);
  });

  it('keeps the first error: errors of the others while they stop are dropped', async () => {
    const first = new Error('first');
    const run = runWorkers(3, async (id, signal) => {
      if (id === 1) throw first;
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error(`worker ${id} interrupted`))),
      );
    });
    await expect(collect(run)).rejects.toBe(first);
  });

  it('fails the run when a constructor throws, and calls no later constructor', async () => {
    const ids: number[] = [];
    const broken = new Error('cannot construct');
    const run = runWorkers(4, (id, signal) => {
      ids.push(id);
      if (id === 2) throw broken;
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    });
    await expect(collect(run)).rejects.toBe(broken);
    expect(ids).toEqual([1, 2]);
  });

  it('fails the run with ERR_STATUS_INVALID_ARGUMENT when a constructor returns neither an async iterable nor a promise', async () => {
    const run = runWorkers(1, () => 42 as never);
    await expect(run.next()).rejects.toMatchObject({ code: 'ERR_STATUS_INVALID_ARGUMENT' });
  });

  it('stops every worker when the consumer breaks out of the loop', async () => {
    const stopped: number[] = [];
    const signals: AbortSignal[] = [];
    const run = runWorkers(3, (id, signal) => {
      signals.push(signal);
      if (id === 3) {
        return new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            stopped.push(id);
            resolve();
          }),
        );
      }
      return (async function* () {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          stopped.push(id);
        }
      })();
    });

    let taken = 0;
    for await (const _ of run) {
      if (++taken === 5) break;
    }

    // `break` awaited return(), which resolved once every worker had ended.
    expect(stopped.sort()).toEqual([1, 2, 3]);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(AbortError);
    expect(run.running).toBe(0);
    await expect(run.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('wakes a worker blocked in next() by calling return() on its iterator', async () => {
    const emitter = new EventEmitter();
    const run = runWorkers(2, (id) => {
      if (id === 1) return on(emitter, 'never'); // waits for events that never come
      return (async function* () {
        yield 'only value';
      })();
    });
    for await (const value of run) {
      expect(value).toBe('only value');
      break;
    }
    expect(run.running).toBe(0);
    expect(emitter.listenerCount('never')).toBe(0);
  });

  it('await using stops the workers left running', async () => {
    let finalized = false;
    {
      await using run = runWorkers(1, async function* () {
        try {
          for (;;) yield 1;
        } finally {
          finalized = true;
        }
      });
      expect((await run.next()).value).toBe(1);
    }
    expect(finalized).toBe(true);
  });

  it('return() after the run ended does not abort the signal', async () => {
    const run = runWorkers(1, async () => {});
    await collect(run);
    await run.return();
    expect(run.signal.aborted).toBe(false);
  });

  it('stops when its signal aborts, rejecting with AbortError whose cause is the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const run = runWorkers(
      2,
      async function* (_id, signal) {
        while (!signal.aborted) {
          await null;
          yield 1;
        }
      },
      { signal: controller.signal },
    );
    let taken = 0;
    const consumed = (async () => {
      for await (const _ of run) if (++taken === 10) controller.abort(reason);
    })();
    await expect(consumed).rejects.toMatchObject({ code: 'ABORT_ERR', cause: reason });
    expect(run.running).toBe(0);
  });

  it('does not start a worker when its signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort('too late');
    let called = false;
    const run = runWorkers(
      2,
      async () => {
        called = true;
      },
      { signal: controller.signal },
    );
    await expect(run.next()).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'too late' });
    expect(called).toBe(false);
  });

  it('rejects invalid arguments with ERR_STATUS_INVALID_ARGUMENT', () => {
    const invalid = expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' });
    const worker = async (): Promise<void> => {};
    expect(() => runWorkers(-1, worker)).toThrow(invalid);
    expect(() => runWorkers(1.5, worker)).toThrow(invalid);
    expect(() => runWorkers('2' as never, worker)).toThrow(invalid);
    expect(() => runWorkers(2, null as never)).toThrow(invalid);
    expect(() => runWorkers(2, worker, null as never)).toThrow(invalid);
    expect(() => runWorkers(2, worker, { signal: {} as never })).toThrow(invalid);
  });
});
