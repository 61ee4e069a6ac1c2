import { describe, expect, it } from 'vitest';
import { TenantQueue } from '../../src/tenants/TenantQueue.js';

type Outcome = [ok: boolean, value: unknown];

/** A settle callback that records how each job ended, in order. */
function recorder(): { outcomes: Outcome[]; settle: (ok: boolean, value: unknown) => void } {
  const outcomes: Outcome[] = [];
  return { outcomes, settle: (ok, value) => outcomes.push([ok, value]) };
}

describe('TenantQueue', () => {
  it('runs a job pushed to an idle queue at once and settles it before push returns', () => {
    const queue = new TenantQueue();
    const { outcomes, settle } = recorder();
    queue.push(() => 42, settle);
    expect(outcomes).toEqual([[true, 42]]);
    expect([queue.busy, queue.queued]).toEqual([false, 0]);
  });

  it('runs jobs one at a time in push order; an async job holds the ones behind it', async () => {
    const queue = new TenantQueue();
    const { outcomes, settle } = recorder();
    const log: string[] = [];
    let release!: () => void;
    queue.push(
      () =>
        new Promise<string>((resolve) => {
          log.push('a starts');
          release = () => resolve('a');
        }),
      settle,
    );
    queue.push(() => (log.push('b runs'), 'b'), settle);
    queue.push(() => (log.push('c runs'), 'c'), settle);
    expect([log, queue.busy, queue.queued]).toEqual([['a starts'], true, 2]);
    release();
    await queue.idle();
    expect(log).toEqual(['a starts', 'b runs', 'c runs']);
    expect(outcomes).toEqual([
      [true, 'a'],
      [true, 'b'],
      [true, 'c'],
    ]);
  });

  it('drains a backlog of synchronous jobs in one loop, without waiting for a microtask between them', async () => {
    const queue = new TenantQueue();
    const { outcomes, settle } = recorder();
    let release!: () => void;
    queue.push(() => new Promise<void>((resolve) => (release = resolve)), settle);
    for (let i = 0; i < 100; i++) queue.push(() => i, settle);
    release();
    // One microtask for the async job's settlement; the 100 synchronous ones follow in the same one.
    await Promise.resolve();
    await Promise.resolve();
    expect(outcomes).toHaveLength(101);
    expect(outcomes.slice(1).map(([, value]) => value)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('fails only the job that throws or rejects; the next ones run', async () => {
    const queue = new TenantQueue();
    const { outcomes, settle } = recorder();
    const thrown = new Error('sync');
    const rejected = new Error('async');
    queue.push(() => {
      throw thrown;
    }, settle);
    queue.push(() => Promise.reject(rejected), settle);
    queue.push(() => 'after', settle);
    await queue.idle();
    expect(outcomes).toEqual([
      [false, thrown],
      [false, rejected],
      [true, 'after'],
    ]);
  });

  it('goes on with the next job when a settle callback throws, and reports what it threw as an unhandled rejection', async () => {
    const queue = new TenantQueue();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    // The test runner's own listener would report the expected rejection as a failure.
    const runners = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', onUnhandled);
    try {
      const broken = new Error('listener broke');
      const { outcomes, settle } = recorder();
      queue.push(
        () => 1,
        () => {
          throw broken;
        },
      );
      queue.push(() => 2, settle);
      expect(outcomes).toEqual([[true, 2]]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([broken]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      for (const listener of runners) process.on('unhandledRejection', listener);
    }
  });

  it('kill() settles the waiting jobs with ERR_WORKER_KILLED (cause: the reason), lets the running one finish, and refuses later pushes', async () => {
    const queue = new TenantQueue();
    const { outcomes, settle } = recorder();
    let release!: () => void;
    queue.push(() => new Promise<string>((resolve) => (release = () => resolve('running one'))), settle);
    queue.push(() => 'never', settle);
    const reason = new Error('shutting down');
    queue.kill(reason);
    expect(outcomes).toEqual([[false, expect.objectContaining({ code: 'ERR_WORKER_KILLED', cause: reason })]]);
    queue.push(() => 'refused', settle);
    expect(outcomes[1]).toEqual([false, expect.objectContaining({ code: 'ERR_WORKER_KILLED' })]);
    release();
    await queue.idle();
    expect(outcomes[2]).toEqual([true, 'running one']);
  });

  it('enqueue() resolves with the job value or rejects with its error', async () => {
    const queue = new TenantQueue();
    await expect(queue.enqueue(async () => 'value')).resolves.toBe('value');
    await expect(
      queue.enqueue(() => {
        throw new RangeError('no');
      }),
    ).rejects.toThrow(RangeError);
  });

  it('idle() resolves at once when nothing runs, and once the last job settled otherwise', async () => {
    const queue = new TenantQueue();
    await queue.idle();
    let release!: () => void;
    let idle = false;
    queue.push(
      () => new Promise<void>((resolve) => (release = resolve)),
      () => undefined,
    );
    void queue.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    release();
    await queue.idle();
    await Promise.resolve();
    expect(idle).toBe(true);
  });
});
