import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskInfo } from '../../src/index.js';
import { createWorkers, TaskDequeuedError, WorkerKilledError } from '../../src/index.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createWorkers', () => {
  it('returns count workers with ids from 1', () => {
    const workers = createWorkers(3);
    expect(workers.map((w) => w.id)).toEqual([1, 2, 3]);
  });

  it('rejects a count that is not an integer >= 1 with ERR_INVALID_ARGUMENT', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
      expect(() => createWorkers(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });

  it('kills every worker when its signal aborts', async () => {
    const controller = new AbortController();
    const workers = createWorkers(2, { signal: controller.signal });
    controller.abort('shutdown');
    expect(workers.every((w) => w.killed && w.signal.aborted)).toBe(true);
    await expect(workers[0]!.enqueue(() => 1)).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });

  it('creates workers already killed when the signal was aborted', () => {
    const workers = createWorkers(2, { signal: AbortSignal.abort() });
    expect(workers.every((w) => w.killed)).toBe(true);
  });
});

describe('Worker.enqueue', () => {
  it('resolves with the result of fn(...args)', async () => {
    const [worker] = createWorkers(1);
    await expect(worker!.enqueue((a: number, b: number) => a + b, 10, 15)).resolves.toBe(25);
    await expect(worker!.enqueue(async (s: string) => s.toUpperCase(), 'x')).resolves.toBe('X');
  });

  it('runs tasks one at a time in FIFO order, an async task holding the worker until it settles', async () => {
    const [worker] = createWorkers(1);
    const order: string[] = [];
    const gate = deferred();
    let concurrent = 0;
    let maxConcurrent = 0;
    const track = async (name: string, wait?: Promise<void>) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      order.push(`start ${name}`);
      if (wait) await wait;
      order.push(`end ${name}`);
      concurrent--;
    };
    const all = [worker!.enqueue(track, 'a', gate.promise), worker!.enqueue(track, 'b'), worker!.enqueue(track, 'c')];
    expect(order).toEqual(['start a']);
    expect(worker!.queue).toHaveLength(2);
    gate.resolve();
    await Promise.all(all);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(maxConcurrent).toBe(1);
  });

  it('starts a task at once when the worker is idle (the seed: "consumed immediately")', () => {
    const [worker] = createWorkers(1);
    let ran = false;
    void worker!.enqueue(() => {
      ran = true;
    });
    expect(ran).toBe(true);
    expect(worker!.dequeue()).toBeUndefined();
  });

  it('rejects only the failing task and goes on with the next', async () => {
    const [worker] = createWorkers(1);
    const boom = new Error('boom');
    const results = await Promise.allSettled([
      worker!.enqueue(() => {
        throw boom;
      }),
      worker!.enqueue(async () => {
        throw boom;
      }),
      worker!.enqueue(() => 'next'),
    ]);
    expect(results).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 'next' },
    ]);
    expect(worker!.stats()).toMatchObject({ finished: 1, failed: 2, queued: 0, running: false });
  });

  it('rejects a non-function with ERR_INVALID_ARGUMENT', async () => {
    const [worker] = createWorkers(1);
    await expect(worker!.enqueue(42 as unknown as () => void)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('runs 10 000 queued tasks each exactly once, in order', async () => {
    const [worker] = createWorkers(1);
    const gate = deferred();
    const seen: number[] = [];
    void worker!.enqueue(() => gate.promise);
    const all = Array.from({ length: 10_000 }, (_, i) => worker!.enqueue((n: number) => seen.push(n), i));
    gate.resolve();
    await Promise.all(all);
    expect(seen).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });
});

describe('Worker.queue', () => {
  it('shows the pending tasks oldest first, without the running one, read-only', () => {
    const [worker] = createWorkers(1);
    const gate = deferred();
    const a = () => gate.promise;
    const b = (x: number) => x;
    const c = (x: string) => x;
    void worker!.enqueue(a);
    void worker!.enqueue(b, 1);
    void worker!.enqueue(c, 'y');
    const queue = worker!.queue;
    expect(queue.map((t) => [t.fn, t.args])).toEqual([
      [b, [1]],
      [c, ['y']],
    ]);
    expect(Object.isFrozen(queue)).toBe(true);
    expect(() => (queue as unknown[]).push(1)).toThrow(TypeError);
    gate.resolve();
  });
});

describe('Worker.dequeue', () => {
  it('removes the last enqueued pending task and rejects it with TaskDequeuedError', async () => {
    const [worker] = createWorkers(1);
    const gate = deferred();
    void worker!.enqueue(() => gate.promise);
    const second = worker!.enqueue(() => 'second');
    const third = worker!.enqueue((n: number) => n, 3);
    const removed = worker!.dequeue();
    expect(removed?.args).toEqual([3]);
    await expect(third).rejects.toBeInstanceOf(TaskDequeuedError);
    await expect(third).rejects.toMatchObject({ code: 'ERR_TASK_DEQUEUED' });
    gate.resolve();
    await expect(second).resolves.toBe('second');
  });

  it('removes the pending task at index i', async () => {
    const [worker] = createWorkers(1);
    const gate = deferred();
    void worker!.enqueue(() => gate.promise);
    const ran: number[] = [];
    const tasks = [0, 1, 2].map((n) => worker!.enqueue(() => ran.push(n)));
    expect(worker!.dequeue(1)?.id).toBe(3);
    await expect(tasks[1]).rejects.toMatchObject({ code: 'ERR_TASK_DEQUEUED' });
    gate.resolve();
    await Promise.all([tasks[0], tasks[2]]);
    expect(ran).toEqual([0, 2]);
  });

  it('returns undefined when there is nothing at that position', () => {
    const [worker] = createWorkers(1);
    expect(worker!.dequeue()).toBeUndefined();
    expect(worker!.dequeue(5)).toBeUndefined();
  });

  it('rejects an index that is not an integer >= 0 with ERR_INVALID_ARGUMENT', () => {
    const [worker] = createWorkers(1);
    expect(() => worker!.dequeue(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => worker!.dequeue(0.5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('can dequeue a task while the running one yields (the seed example)', async () => {
    vi.useFakeTimers();
    const [worker] = createWorkers(1);
    let secondRan = false;
    const first = worker!.enqueue(async () => {
      await worker!.yield(5000);
    });
    const second = worker!.enqueue(() => {
      secondRan = true;
    });
    const secondError = second.catch((error: unknown) => error);
    expect(worker!.dequeue()).toBeDefined();
    await vi.advanceTimersByTimeAsync(5000);
    await first;
    expect(await secondError).toMatchObject({ code: 'ERR_TASK_DEQUEUED' });
    expect(secondRan).toBe(false);
  });
});

describe('Worker.yield', () => {
  it('pauses the running task while the worker stays busy and yielding is true', async () => {
    vi.useFakeTimers();
    const [worker] = createWorkers(1);
    const order: string[] = [];
    const first = worker!.enqueue(async () => {
      order.push('first before');
      await worker!.yield(1000);
      order.push('first after');
    });
    const second = worker!.enqueue(() => order.push('second'));
    expect(worker!.yielding).toBe(true);
    expect(worker!.busy).toBe(true);
    await vi.advanceTimersByTimeAsync(999);
    expect(order).toEqual(['first before']);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([first, second]);
    expect(order).toEqual(['first before', 'first after', 'second']);
    expect(worker!.yielding).toBe(false);
  });

  it('ends at once with WorkerKilledError when the worker is killed', async () => {
    vi.useFakeTimers();
    const [worker] = createWorkers(1);
    const task = worker!.enqueue(() => worker!.yield(60_000));
    worker!.kill();
    await expect(task).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(worker!.yielding).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with ABORT_ERR when its signal aborts, with the reason as cause', async () => {
    const [worker] = createWorkers(1);
    const controller = new AbortController();
    const waiting = worker!.yield(60_000, { signal: controller.signal });
    controller.abort('stop');
    await expect(waiting).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'stop' });
    await expect(worker!.yield(1, { signal: AbortSignal.abort('x') })).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('rejects a bad duration with ERR_INVALID_ARGUMENT and after a kill with ERR_WORKER_KILLED', async () => {
    const [worker] = createWorkers(1);
    await expect(worker!.yield(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(worker!.yield(Number.POSITIVE_INFINITY)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    worker!.kill();
    await expect(worker!.yield(1)).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });
});

describe('Worker.queueHooks', () => {
  it('calls every hook after each task leaves the worker: finished, failed, dequeued', async () => {
    const [worker] = createWorkers(1);
    const seen: Array<[string, TaskInfo['status']]> = [];
    worker!.queueHooks.set('a', (info) => seen.push(['a', info.status]));
    worker!.queueHooks.set('b', (info) => seen.push(['b', info.status]));
    const gate = deferred();
    const first = worker!.enqueue(() => gate.promise);
    const failing = worker!.enqueue(() => {
      throw new Error('x');
    });
    void worker!.enqueue(() => 1).catch(() => undefined);
    worker!.dequeue();
    gate.resolve();
    await first;
    await failing.catch(() => undefined);
    expect(seen).toEqual([
      ['a', 'dequeued'],
      ['b', 'dequeued'],
      ['a', 'finished'],
      ['b', 'finished'],
      ['a', 'failed'],
      ['b', 'failed'],
    ]);
  });

  it('passes the result or error of the task', async () => {
    const [worker] = createWorkers(1);
    const infos: TaskInfo[] = [];
    worker!.queueHooks.set('h', (info) => infos.push(info));
    await worker!.enqueue(() => 7);
    const boom = new Error('boom');
    await worker!.enqueue(() => Promise.reject(boom)).catch(() => undefined);
    expect(infos[0]).toMatchObject({ status: 'finished', result: 7, worker });
    expect(infos[1]).toMatchObject({ status: 'failed', error: boom });
  });

  it('reports a throwing hook through the error event and goes on', async () => {
    const [worker] = createWorkers(1);
    const errors: unknown[] = [];
    worker!.on('error', (error) => errors.push(error));
    const hookError = new Error('hook');
    worker!.queueHooks.set('bad', () => {
      throw hookError;
    });
    await worker!.enqueue(() => 1);
    await expect(worker!.enqueue(() => 2)).resolves.toBe(2);
    expect(errors).toEqual([hookError, hookError]);
  });

  it('emits a process warning for a throwing hook when nobody listens for errors', async () => {
    const [worker] = createWorkers(1);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    worker!.queueHooks.set('bad', () => {
      throw new Error('unheard');
    });
    await worker!.enqueue(() => 1);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(
      warnings.some(
        (w) => (w as Error & { code?: string }).code === 'SWITCHYARD_HOOK_ERROR' && w.message.includes('unheard'),
      ),
    ).toBe(true);
  });

  it('lets a hook kill the worker (consume-and-close)', async () => {
    const [worker] = createWorkers(1);
    const gate = deferred();
    worker!.queueHooks.set('consumeAndClose', () => worker!.kill('done'));
    const first = worker!.enqueue(() => gate.promise.then(() => 'first'));
    const second = worker!.enqueue(() => 'second');
    gate.resolve();
    await expect(first).resolves.toBe('first');
    await expect(second).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED', cause: 'done' });
    expect(worker!.killed).toBe(true);
  });
});

describe('Worker.kill', () => {
  it('rejects every pending task with WorkerKilledError, aborts the signal and refuses new tasks', async () => {
    const [worker] = createWorkers(1);
    const gate = deferred();
    const running = worker!.enqueue(() => gate.promise.then(() => 'ran'));
    const pending = [worker!.enqueue(() => 1), worker!.enqueue(() => 2)];
    worker!.kill('bye');
    expect(worker!.signal.aborted).toBe(true);
    expect(worker!.signal.reason).toBe('bye');
    for (const p of pending) await expect(p).rejects.toBeInstanceOf(WorkerKilledError);
    await expect(worker!.enqueue(() => 3)).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    gate.resolve();
    await expect(running).resolves.toBe('ran');
    expect(worker!.queue).toEqual([]);
  });

  it('can be called from inside a task and twice', async () => {
    const [worker] = createWorkers(1);
    const first = worker!.enqueue(() => {
      worker!.kill();
      worker!.kill();
      return 'self';
    });
    await expect(first).resolves.toBe('self');
    expect(worker!.killed).toBe(true);
  });

  it('calls hooks with status killed for the rejected tasks', async () => {
    const [worker] = createWorkers(1);
    const statuses: string[] = [];
    const gate = deferred();
    void worker!.enqueue(() => gate.promise);
    const pending = worker!.enqueue(() => 1);
    worker!.queueHooks.set('h', (info) => statuses.push(info.status));
    worker!.kill();
    await pending.catch(() => undefined);
    expect(statuses).toEqual(['killed']);
    gate.resolve();
  });
});

describe('Worker.function', () => {
  it('returns an async function that enqueues fn on the worker each call', async () => {
    const [worker] = createWorkers(1);
    const order: string[] = [];
    const gate = deferred();
    void worker!.enqueue(() => gate.promise);
    const add = worker!.function(function plus(a: number, b: number) {
      order.push(`add ${a}`);
      return a + b;
    });
    expect(add.name).toBe('plus');
    const results = [add(10, 5), add(7, 14)];
    expect(worker!.queue).toHaveLength(2);
    gate.resolve();
    expect(await Promise.all(results)).toEqual([15, 21]);
    expect(order).toEqual(['add 10', 'add 7']);
  });

  it('throws ERR_INVALID_ARGUMENT for a non-function', () => {
    const [worker] = createWorkers(1);
    expect(() => worker!.function('x' as unknown as () => void)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('Worker.idle and disposal', () => {
  it('resolves idle() once the queue is empty and nothing runs', async () => {
    const [worker] = createWorkers(1);
    await worker!.idle();
    const gate = deferred();
    let done = false;
    void worker!.enqueue(() => gate.promise);
    void worker!.enqueue(() => {
      done = true;
    });
    const idle = worker!.idle();
    gate.resolve();
    await idle;
    expect(done).toBe(true);
    expect(worker!.busy).toBe(false);
  });

  it('finishes queued tasks on close() and await using, then refuses new ones', async () => {
    const [worker] = createWorkers(1);
    const gate = deferred();
    const a = worker!.enqueue(() => gate.promise.then(() => 'a'));
    const b = worker!.enqueue(() => 'b');
    const closing = worker!.close();
    await expect(worker!.enqueue(() => 'c')).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    gate.resolve();
    await closing;
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(worker!.killed).toBe(true);

    let ran = false;
    {
      await using w = createWorkers(1)[0]!;
      void w.enqueue(async () => {
        await Promise.resolve();
        ran = true;
      });
    }
    expect(ran).toBe(true);
  });
});
