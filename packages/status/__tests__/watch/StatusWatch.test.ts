import type { TenantId, WorkerStats } from '@switchyard/core';
import { defineWorker, LocalWorker, WorkerPool } from '@switchyard/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobPoolStats, StatusBoard, WatchedWorker } from '../../src/index.js';
import { createStatusBoard, StatusWatch } from '../../src/index.js';
import { deferred, FakeTty, RecordingStream, screenOf } from '../helpers.js';

// Only the timers the board uses are faked: the workers' promises run as usual.
beforeEach(() => {
  vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

const guild = (id: string): TenantId => ({ kind: 'guild', id });

const counter = defineWorker({
  createTenant: () => ({ seen: 0 }),
  onEvent: async (state: { seen: number }, event: { gate?: Promise<void>; fail?: boolean }) => {
    if (event.gate !== undefined) await event.gate;
    if (event.fail === true) throw new Error('handler failed');
    return ++state.seen;
  },
});

/** A worker of some other topology: only what the board reads. */
class CountingWorker implements WatchedWorker {
  readonly id: number;
  counters: WorkerStats;
  constructor(id: number) {
    this.id = id;
    this.counters = { id, tenants: 0, queued: 0, handled: 0, failed: 0 };
  }
  stats(): WorkerStats {
    return { ...this.counters };
  }
}

/** A core job Pool as the board sees it: `stats()` with workers, stopping, iterations, failures. */
class FakeJobPool {
  counters: JobPoolStats = { workers: 2, stopping: 0, iterations: 0, failures: 0 };
  stats(): JobPoolStats {
    return { ...this.counters };
  }
}

let board: StatusBoard;

afterEach(() => {
  board.close();
});

describe('StatusBoard.watch', () => {
  it('shows a row per worker of a WorkerPool: tenants, queued, handled, failed and rate', async () => {
    board = createStatusBoard({ output: new RecordingStream() });
    const pool = await WorkerPool.create(3, (id) => new LocalWorker(counter, { id }));
    const tenants = [
      '81384788765712384',
      '175928847299117063',
      '41771983423143937',
      '222078108977594368',
      '80351110224678912',
    ];
    const handledBy = [0, 0, 0];
    for (const [i, id] of tenants.entries()) {
      for (let n = 0; n <= i; n++) await pool.dispatch(guild(id), {});
      handledBy[pool.workerFor(guild(id)).id]! += i + 1;
    }
    await expect(pool.dispatch(guild(tenants[0]!), { fail: true })).rejects.toThrow('handler failed');
    handledBy[pool.workerFor(guild(tenants[0]!)).id]! += 1;
    const gate = deferred();
    const pending = pool.dispatch(guild(tenants[1]!), { gate: gate.promise });

    const watch = board.watch(pool);

    expect(watch).toBeInstanceOf(StatusWatch);
    expect(watch.rows).toBe(3);
    const expected = pool.workers.map((worker) => {
      const s = worker.stats();
      return `worker ${worker.id}: ${s.tenants} tenants · ${s.queued} queued · ${s.handled} handled · ${s.failed} failed · -/s`;
    });
    expect(board.lines).toEqual(expected);
    // The counters are the pool's: every event counted once, by the worker that handled it.
    expect(pool.workers.map((w) => w.stats().handled)).toEqual(handledBy);
    expect(board.lines.join('\n')).toContain('1 queued');
    expect(board.lines.join('\n')).toContain('1 failed');

    gate.resolve();
    await pending;
    await pool.close();
  });

  it('computes the rate from the handled counter between readings', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    const worker = new CountingWorker(4);
    board.watch({ workers: [worker] }, { intervalMs: 1_000 });
    expect(board.lines).toEqual(['worker 4: 0 tenants · 0 queued · 0 handled · 0 failed · -/s']);

    worker.counters = { id: 4, tenants: 2, queued: 5, handled: 250, failed: 1 };
    vi.advanceTimersByTime(1_000);

    expect(board.lines).toEqual(['worker 4: 2 tenants · 5 queued · 250 handled · 1 failed · 250/s']);
  });

  it('redraws nothing when the counters do not change', () => {
    const output = new FakeTty();
    board = createStatusBoard({ output, rateWindowMs: 1_000 });
    const worker = new CountingWorker(0);
    board.watch(worker, { intervalMs: 100 });
    worker.counters.handled = 10;
    vi.advanceTimersByTime(100);
    vi.advanceTimersByTime(1_200); // the window passes: the rate falls to 0/s
    expect(screenOf(output)).toEqual(['worker 0: 0 tenants · 0 queued · 10 handled · 0 failed · 0.0/s']);
    const frames = output.chunks.length;

    vi.advanceTimersByTime(10_000); // 100 readings, nothing changed

    expect(output.chunks).toHaveLength(frames);
  });

  it('shows a single WorkerLike as one row', async () => {
    board = createStatusBoard({ output: new RecordingStream() });
    const worker = new LocalWorker(counter, { id: 7 });
    await worker.dispatch(guild('81384788765712384'), {});
    await worker.dispatch(guild('81384788765712384'), {});
    board.watch(worker);
    expect(board.lines).toEqual(['worker 7: 1 tenants · 0 queued · 2 handled · 0 failed · -/s']);
    await worker.close();
  });

  it('shows a job Pool as one row: workers, stopping, iterations, failures and rate', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    const pool = new FakeJobPool();
    board.watch(pool, { intervalMs: 500 });
    expect(board.lines).toEqual(['pool: 2 workers · 0 stopping · 0 iterations · 0 failures · -/s']);

    pool.counters = { workers: 3, stopping: 1, iterations: 600, failures: 2 };
    vi.advanceTimersByTime(500);

    expect(board.lines).toEqual(['pool: 3 workers · 1 stopping · 600 iterations · 2 failures · 1200/s']);
  });

  it('shows 0 stopping for a job pool that does not report `stopping`', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    board.watch({ stats: () => ({ workers: 1, iterations: 5, failures: 0 }) });
    expect(board.lines).toEqual(['pool: 1 workers · 0 stopping · 5 iterations · 0 failures · -/s']);
  });

  it('formats the prefix with the worker id, from a template or a function', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    board.watch({ workers: [new CountingWorker(0), new CountingWorker(1)] }, { prefix: 'shard %02d' });
    board.watch(new FakeJobPool(), { prefix: (id) => `jobs#${id}` });
    expect(board.lines.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      'shard 00',
      'shard 01',
      'jobs#0 ',
    ]);
  });

  it('shows why a reading failed, and goes on reading', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    const worker = new CountingWorker(1);
    let broken = false;
    const flaky: WatchedWorker = {
      id: 1,
      stats: () =>
        broken
          ? (() => {
              throw new Error('worker restarting');
            })()
          : worker.stats(),
    };
    board.watch(flaky, { intervalMs: 100 });
    broken = true;
    vi.advanceTimersByTime(100);
    expect(board.lines).toEqual(['worker 1: stats unavailable: worker restarting']);
    broken = false;
    vi.advanceTimersByTime(100);
    expect(board.lines[0]).toMatch(/^worker 1: 0 tenants/);
  });

  it('stop() reads the counters one last time, stops reading, and leaves the rows', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    const worker = new CountingWorker(0);
    const stats = vi.spyOn(worker, 'stats');
    const watch = board.watch(worker, { intervalMs: 1_000 });
    const readings = stats.mock.calls.length;
    worker.counters.handled = 3;

    watch.stop();
    watch.stop();

    expect(watch.stopped).toBe(true);
    expect(stats.mock.calls.length).toBe(readings + 1);
    expect(board.lines[0]).toContain('3 handled');
    vi.advanceTimersByTime(10_000);
    expect(stats.mock.calls.length).toBe(readings + 1);
  });

  it('Symbol.dispose stops the watch', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    let kept: StatusWatch;
    {
      using watch = board.watch(new CountingWorker(0));
      kept = watch;
    }
    expect(kept.stopped).toBe(true);
  });

  it('stops every watch when the board closes, and leaves no timer', () => {
    const output = new FakeTty();
    board = createStatusBoard({ output });
    const worker = new CountingWorker(0);
    const one = board.watch(worker);
    const two = board.watch(new FakeJobPool());
    worker.counters.handled = 42;

    board.close();

    expect([one.stopped, two.stopped]).toEqual([true, true]);
    expect(screenOf(output)[0]).toContain('42 handled'); // the final reading was drawn
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads a WorkerPool of a topology it does not know, through stats() alone', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    const workers = [new CountingWorker(0), new CountingWorker(1)];
    workers[1]!.counters = { id: 1, tenants: 9, queued: 0, handled: 90, failed: 0 };
    board.watch({ workers });
    expect(board.lines).toEqual([
      'worker 0: 0 tenants · 0 queued · 0 handled · 0 failed · -/s',
      'worker 1: 9 tenants · 0 queued · 90 handled · 0 failed · -/s',
    ]);
  });

  it('rejects what it cannot watch with ERR_STATUS_INVALID_ARGUMENT, adding no row', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    const invalid = expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' });
    expect(() => board.watch(null as never)).toThrow(invalid);
    expect(() => board.watch({} as never)).toThrow(invalid);
    expect(() => board.watch({ workers: [] })).toThrow(invalid);
    expect(() => board.watch({ workers: [new CountingWorker(0), {} as never] })).toThrow(invalid);
    expect(() => board.watch({ stats: () => ({ something: 1 }) } as never)).toThrow(invalid);
    expect(() => board.watch({ stats: () => 5 } as never)).toThrow(invalid);
    const probe = new Error('down');
    expect(() =>
      board.watch({
        stats: () => {
          throw probe;
        },
      } as never),
    ).toThrow(expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT', cause: probe }));
    expect(() => board.watch(new CountingWorker(0), { intervalMs: 0 })).toThrow(invalid);
    expect(() => board.watch(new CountingWorker(0), null as never)).toThrow(invalid);
    expect(() => board.watch(new CountingWorker(0), { prefix: 5 as never })).toThrow(invalid);
    expect(() => board.watch(new CountingWorker(0), { prefix: 'worker %s' })).toThrow(invalid);
    expect(() => board.watch({ workers: [new CountingWorker(0)] }, { prefix: () => 1 as never })).toThrow(invalid);
    expect(board.lines).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a closed board with ERR_STATUS_BOARD_CLOSED', () => {
    board = createStatusBoard({ output: new RecordingStream() });
    board.close();
    expect(() => board.watch(new CountingWorker(0))).toThrow(
      expect.objectContaining({ code: 'ERR_STATUS_BOARD_CLOSED' }),
    );
  });
});
