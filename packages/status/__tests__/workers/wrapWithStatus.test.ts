import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StatusBoard } from '../../src/index.js';
import { createStatusBoard, runWorkers, StatusJob, wrapWithStatus } from '../../src/index.js';
import { deferred, FakeTty, RecordingStream, screenOf } from '../helpers.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of iterable) values.push(value);
  return values;
}

let board: StatusBoard;

beforeEach(() => {
  board = createStatusBoard({ output: new RecordingStream() });
});

afterEach(() => {
  board.close();
});

describe('wrapWithStatus', () => {
  it('adds a job per worker, prefixed "worker %2d:", showing "waiting", and passes it to the constructor', async () => {
    const seen: Array<{ job: StatusJob; signal: AbortSignal; id: number; line: string }> = [];
    const gate = deferred();
    const run = runWorkers(
      2,
      wrapWithStatus(board, async (job, signal, id) => {
        seen.push({ job, signal, id, line: job.line });
        await gate.promise;
      }),
    );
    expect(board.lines).toEqual(['worker  1: waiting', 'worker  2: waiting']);
    expect(seen.map(({ id, line }) => [id, line])).toEqual([
      [1, 'waiting'],
      [2, 'waiting'],
    ]);
    expect(seen[0]!.job).toBeInstanceOf(StatusJob);
    expect(seen[0]!.signal).toBe(run.signal);
    gate.resolve();
    await collect(run);
  });

  it('closes each job with "done" when its worker ends, and passes the values through', async () => {
    const work = Array.from({ length: 30 }, (_, i) => i);
    const run = runWorkers(
      3,
      wrapWithStatus(board, async function* (job) {
        for (let item = work.shift(); item !== undefined; item = work.shift()) {
          job.update(`item ${item}`); // the seed's usage: show the current work
          await nextMacrotask();
          yield item * 2;
        }
      }),
    );
    const values = await collect(run);
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i * 2));
    expect(board.lines).toEqual(['worker  1: done', 'worker  2: done', 'worker  3: done']);
  });

  it('closes the job of a promise worker when its promise resolves', async () => {
    const gate = deferred();
    const run = runWorkers(
      1,
      wrapWithStatus(board, async (job) => {
        job.update('working');
        await gate.promise;
      }),
    );
    const done = collect(run);
    await nextMacrotask();
    expect(board.lines).toEqual(['worker  1: working']);
    gate.resolve();
    await expect(done).resolves.toEqual([]);
    expect(board.lines).toEqual(['worker  1: done']);
  });

  it('shows the failure on the failing worker\'s job and "stopped" on the others', async () => {
    const run = runWorkers(
      3,
      wrapWithStatus(board, async function* (job, signal, id) {
        if (id === 2) {
          await nextMacrotask();
          throw new Error('disk full');
        }
        if (id === 3) {
          // a promise-like wait that rejects when stopped
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        }
        for (;;) {
          await nextMacrotask();
          yield id;
        }
      }),
    );
    await expect(collect(run)).rejects.toThrow('disk full');
    expect(board.lines).toEqual(['worker  1: stopped', 'worker  2: failed: disk full', 'worker  3: stopped']);
  });

  it('shows "stopped" when the consumer leaves early', async () => {
    const run = runWorkers(
      2,
      wrapWithStatus(board, async function* (_job, _signal, id) {
        for (;;) yield id;
      }),
    );
    for await (const _ of run) break;
    expect(board.lines).toEqual(['worker  1: stopped', 'worker  2: stopped']);
  });

  it('marks the job failed when the constructor throws, and fails the run with that error', async () => {
    const broken = new Error('no connection');
    const run = runWorkers(
      1,
      wrapWithStatus(board, () => {
        throw broken;
      }),
    );
    await expect(run.next()).rejects.toBe(broken);
    expect(board.lines).toEqual(['worker  1: failed: no connection']);
  });

  it('marks the job failed when the constructor returns neither an async iterable nor a promise', async () => {
    const run = runWorkers(
      1,
      wrapWithStatus(board, () => 'oops' as never),
    );
    await expect(run.next()).rejects.toMatchObject({ code: 'ERR_STATUS_INVALID_ARGUMENT' });
    expect(board.lines[0]).toMatch(/^worker {2}1: failed: Expected worker 1's constructor/);
  });

  it('keeps the text of a worker that closed its own job', async () => {
    const run = runWorkers(
      1,
      wrapWithStatus(board, async (job) => {
        job.close('imported 3 files');
      }),
    );
    await collect(run);
    expect(board.lines).toEqual(['worker  1: imported 3 files']);
  });

  it('uses the prefix, initialText, completeText, stoppedText and failedText options', async () => {
    const options = {
      prefix: (id: number) => `[${String.fromCharCode(64 + id)}]`,
      initialText: 'queued',
      completeText: 'finished',
      stoppedText: 'cancelled',
      failedText: (error: unknown) => `crashed (${(error as Error).message})`,
    };
    const gate = deferred();
    const run = runWorkers(
      3,
      wrapWithStatus(
        board,
        async (_job, signal, id) => {
          if (id === 1) return;
          await gate.promise;
          if (id === 2) throw new Error('bad input');
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
        },
        options,
      ),
    );
    expect(board.lines).toEqual(['[A] queued', '[B] queued', '[C] queued']);
    gate.resolve();
    await expect(collect(run)).rejects.toThrow('bad input');
    expect(board.lines).toEqual(['[A] finished', '[B] crashed (bad input)', '[C] cancelled']);
  });

  it('formats printf-like prefix templates with the worker id', async () => {
    await collect(
      runWorkers(
        2,
        wrapWithStatus(board, async () => {}, { prefix: 'w%02d' }),
      ),
    );
    expect(board.lines).toEqual(['w01 done', 'w02 done']);
  });

  it('rejects invalid arguments at once with ERR_STATUS_INVALID_ARGUMENT', () => {
    const invalid = expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' });
    const worker = async (): Promise<void> => {};
    expect(() => wrapWithStatus({} as never, worker)).toThrow(invalid);
    expect(() => wrapWithStatus(board, 'worker' as never)).toThrow(invalid);
    expect(() => wrapWithStatus(board, worker, null as never)).toThrow(invalid);
    expect(() => wrapWithStatus(board, worker, { prefix: 'worker %s' })).toThrow(invalid);
    expect(() => wrapWithStatus(board, worker, { prefix: 3 as never })).toThrow(invalid);
    expect(() => wrapWithStatus(board, worker, { initialText: 1 as never })).toThrow(invalid);
    expect(() => wrapWithStatus(board, worker, { completeText: null as never })).toThrow(invalid);
    expect(() => wrapWithStatus(board, worker, { stoppedText: false as never })).toThrow(invalid);
    expect(() => wrapWithStatus(board, worker, { failedText: 'failed' as never })).toThrow(invalid);
    expect(board.lines).toEqual([]);
  });

  it('fails the run with ERR_STATUS_BOARD_CLOSED when the board was closed before the workers start', async () => {
    const wrapped = wrapWithStatus(board, async () => {});
    board.close();
    await expect(runWorkers(1, wrapped).next()).rejects.toMatchObject({ code: 'ERR_STATUS_BOARD_CLOSED' });
  });
});

describe('wrapWithStatus on a live board', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs the seed's migrate-data driver: ten workers share a queue of work and report it", async () => {
    const output = new FakeTty();
    const live = createStatusBoard({ output, throttleMs: 50 });
    const work = Array.from({ length: 40 }, (_, i) => `table_${String(i).padStart(2, '0')}`);
    const migrated: string[] = [];

    const driver = runWorkers(
      10,
      wrapWithStatus(live, async (job) => {
        for (let item = work.shift(); item !== undefined; item = work.shift()) {
          job.update(item);
          await nextMacrotask();
          migrated.push(item);
        }
      }),
    );
    await nextMacrotask();
    vi.advanceTimersByTime(0);
    const midway = screenOf(output);
    expect(midway).toHaveLength(10);
    expect(midway.every((line) => /^worker {1,2}\d+: table_\d\d$/.test(line))).toBe(true);

    await collect(driver);
    live.close();

    expect(migrated).toHaveLength(40);
    expect(new Set(migrated).size).toBe(40);
    expect(screenOf(output)).toEqual(
      Array.from({ length: 10 }, (_, i) => `worker ${String(i + 1).padStart(2, ' ')}: done`),
    );
  });
});
