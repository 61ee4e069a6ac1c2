import type { Worker } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { defineNode, Node, nodeOf } from '../../src/index.js';

describe('defineNode', () => {
  it('runs a wrapped function on its worker and resolves with the result (the seed example)', async () => {
    let worker!: Worker;
    let busyDuringCall = false;
    const m = defineNode((node) => {
      const [w] = node.workers(1);
      worker = w!;
      return {
        add: w!.function((a: number, b: number) => {
          busyDuringCall = worker.busy;
          return a + b;
        }),
      };
    });
    await expect(m.add(10, 5)).resolves.toBe(15);
    await expect(m.add(7, 14)).resolves.toBe(21);
    expect(busyDuringCall).toBe(true);
    expect(worker.stats().finished).toBe(2);
    m.kill();
  });

  it('runs the calls of one worker one at a time, in call order, and different workers concurrently', async () => {
    const log: string[] = [];
    let releaseA!: () => void;
    const gate = new Promise<void>((resolve) => (releaseA = resolve));
    const m = defineNode((node) => {
      const [a, b] = node.workers(2);
      return {
        slowOnA: a!.function(async (tag: string) => {
          log.push(`start ${tag}`);
          await gate;
          log.push(`end ${tag}`);
        }),
        quickOnA: a!.function((tag: string) => void log.push(`quick ${tag}`)),
        onB: b!.function((tag: string) => void log.push(`b ${tag}`)),
      };
    });
    const first = m.slowOnA('1');
    const second = m.quickOnA('2');
    await m.onB('3'); // b is free while a waits
    expect(log).toEqual(['start 1', 'b 3']);
    releaseA();
    await Promise.all([first, second]);
    expect(log).toEqual(['start 1', 'b 3', 'end 1', 'quick 2']);
    m.kill();
  });

  it('resolves an async function with its awaited value and rejects with what it throws', async () => {
    const m = defineNode((node) => {
      const [w] = node.workers(1);
      return {
        later: w!.function(async (n: number) => n * 2),
        fail: w!.function((message: string) => {
          throw new RangeError(message);
        }),
      };
    });
    await expect(m.later(21)).resolves.toBe(42);
    await expect(m.fail('too far')).rejects.toThrow(RangeError);
    // The worker goes on after a failure.
    await expect(m.later(1)).resolves.toBe(2);
    m.kill();
  });

  it('passes members that are not wrapped through unchanged', () => {
    const helper = (text: string): string => text.toUpperCase();
    const config = { retries: 3 };
    const m = defineNode(() => ({ helper, config, version: 2 }));
    expect(m.helper).toBe(helper);
    expect(m.helper('x')).toBe('X');
    expect(m.config).toBe(config);
    expect(m.version).toBe(2);
    m.kill();
  });

  it('returns the factory object itself with non-enumerable kill, close and Symbol.asyncDispose', () => {
    let returned: object | undefined;
    const m = defineNode((node) => {
      const [w] = node.workers(1);
      returned = { run: w!.function(() => 1) };
      return returned;
    });
    expect(m).toBe(returned);
    expect(Object.keys(m)).toEqual(['run']);
    expect(typeof m.kill).toBe('function');
    expect(typeof m.close).toBe('function');
    expect(typeof m[Symbol.asyncDispose]).toBe('function');
    expect(Object.getOwnPropertyDescriptor(m, 'kill')?.enumerable).toBe(false);
    m.kill();
  });

  it('rejects calls with WorkerKilledError once the node is killed, and rejects the calls that were queued', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const m = defineNode((node) => {
      const [w] = node.workers(1);
      return { wait: w!.function(() => gate), add: w!.function((a: number, b: number) => a + b) };
    });
    const running = m.wait();
    const queued = m.add(1, 2);
    m.kill('shutting down');
    await expect(queued).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED', cause: 'shutting down' });
    await expect(m.add(1, 2)).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    // The running task is not interrupted.
    release();
    await expect(running).resolves.toBeUndefined();
  });

  it('kills every worker of the node, across several workers() calls', () => {
    let workers: Worker[] = [];
    const m = defineNode((node) => {
      workers = [...node.workers(2), ...node.workers(1)];
      return {};
    });
    m.kill();
    expect(workers.map((worker) => worker.killed)).toEqual([true, true, true]);
    expect(nodeOf(m).killed).toBe(true);
  });

  it('closes gracefully with await using: queued calls finish, then the workers end', async () => {
    const done: number[] = [];
    let worker!: Worker;
    let pending!: Promise<void>[];
    {
      await using m = defineNode((node) => {
        [worker] = node.workers(1) as [Worker];
        return { work: worker.function(async (n: number) => void done.push(n)) };
      });
      pending = [m.work(1), m.work(2), m.work(3)];
    }
    expect(done).toEqual([1, 2, 3]);
    await Promise.all(pending);
    expect(worker.killed).toBe(true);
  });

  it('rejects calls made while the node closes with WorkerKilledError', async () => {
    const m = defineNode((node) => {
      const [w] = node.workers(1);
      return { work: w!.function(async () => 'done') };
    });
    const first = m.work();
    const closing = m.close();
    await expect(m.work()).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await expect(first).resolves.toBe('done');
    await closing;
    expect(nodeOf(m).killed).toBe(true);
  });

  it('keeps members named kill or close and leaves the controls to nodeOf()', async () => {
    const m = defineNode((node) => {
      const [w] = node.workers(1);
      return { close: w!.function((door: string) => `closed ${door}`), kill: 'not a function' };
    });
    await expect(m.close('door')).resolves.toBe('closed door');
    expect(m.kill).toBe('not a function');
    // Symbol.asyncDispose is still the node's.
    expect(typeof m[Symbol.asyncDispose]).toBe('function');
    nodeOf(m).kill();
    await expect(m.close('door')).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });

  it('lets functions create workers lazily after the definition, owned by the node', async () => {
    const m = defineNode((node) => ({
      spawnWorker: () => node.workers(1)[0]!,
    }));
    const worker = m.spawnWorker();
    await expect(worker.enqueue(() => 'ok')).resolves.toBe('ok');
    m.kill();
    expect(worker.killed).toBe(true);
    expect(() => m.spawnWorker()).toThrow(expect.objectContaining({ code: 'ERR_WORKER_KILLED' }));
  });

  it('hands the factory a Node, which nodeOf() returns', () => {
    let given: Node | undefined;
    const m = defineNode((node) => {
      given = node;
      return {};
    });
    expect(given).toBeInstanceOf(Node);
    expect(nodeOf(m)).toBe(given);
    m.kill();
  });

  it('kills the workers already created and rethrows when the factory throws', () => {
    let worker: Worker | undefined;
    const failure = new Error('bad config');
    expect(() =>
      defineNode((node) => {
        [worker] = node.workers(1);
        throw failure;
      }),
    ).toThrow(failure);
    expect(worker?.killed).toBe(true);
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['a promise', Promise.resolve({})],
    ['a frozen object', Object.freeze({})],
  ])('throws InvalidArgumentError when the factory returns %s, and kills the workers it created', (_, value) => {
    let worker: Worker | undefined;
    expect(() =>
      defineNode((node) => {
        [worker] = node.workers(1);
        return value as object;
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(worker?.killed).toBe(true);
  });

  it('throws InvalidArgumentError when the factory returns an object that is already a node module', () => {
    const first = defineNode(() => ({}));
    expect(() => defineNode(() => first)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    first.kill();
  });

  it('throws InvalidArgumentError when factory is not a function', () => {
    expect(() => defineNode('nope' as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: 'Expected `factory` to be a function, got string.',
      }),
    );
  });

  it('throws InvalidArgumentError from nodeOf() for an object that is not a node module', () => {
    expect(() => nodeOf({})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
