import type { LocalWorker, Pool, WorkerLike, WorkerPool } from '@switchyard/core';
import type { ThreadWorker } from '@switchyard/pool-thread';
import type {
  JobPoolStats,
  StatusJob,
  WatchTarget,
  WorkerConstructor,
  WorkerRun,
  WorkerSource,
  WorkerValue,
} from '../src/index.js';
import { createStatusBoard, runWorkers, wrapWithStatus } from '../src/index.js';
import { describe, expectTypeOf, it } from 'vitest';

describe('runWorkers types', () => {
  it('yields the values of async generator workers', () => {
    const run = runWorkers(2, async function* (id: number) {
      yield id;
    });
    expectTypeOf(run).toEqualTypeOf<WorkerRun<number>>();
    expectTypeOf(run).toMatchTypeOf<AsyncIterable<number>>();
  });

  it('yields nothing (never) for promise workers', () => {
    const run = runWorkers(2, async () => {});
    expectTypeOf(run).toEqualTypeOf<WorkerRun<never>>();
  });

  it('yields the union of mixed workers', () => {
    async function* strings(): AsyncGenerator<string> {
      yield 'a';
    }
    const run = runWorkers(2, (id) => (id === 1 ? strings() : Promise.resolve()));
    expectTypeOf(run).toEqualTypeOf<WorkerRun<string>>();
  });

  it('gives the constructor the id and the signal', () => {
    runWorkers(1, (id, signal) => {
      expectTypeOf(id).toEqualTypeOf<number>();
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      return Promise.resolve();
    });
  });

  it('rejects constructors that return neither an async iterable nor a promise', () => {
    // @ts-expect-error -- a number is not a worker
    runWorkers(1, () => 42);
    // @ts-expect-error -- a sync iterable is not a worker
    runWorkers(1, () => [1, 2, 3]);
  });

  it('WorkerValue extracts the value type', () => {
    expectTypeOf<WorkerValue<AsyncIterable<Date>>>().toEqualTypeOf<Date>();
    expectTypeOf<WorkerValue<Promise<void>>>().toEqualTypeOf<never>();
    expectTypeOf<WorkerConstructor<WorkerSource<number>>>().parameters.toEqualTypeOf<[number, AbortSignal]>();
  });
});

describe('wrapWithStatus types', () => {
  it('gives the constructor the job, the signal and the id, and keeps the value type', () => {
    const board = createStatusBoard();
    const wrapped = wrapWithStatus(board, async function* (job, signal, id) {
      expectTypeOf(job).toEqualTypeOf<StatusJob>();
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(id).toEqualTypeOf<number>();
      yield { id };
    });
    expectTypeOf(runWorkers(2, wrapped)).toEqualTypeOf<WorkerRun<{ id: number }>>();
    expectTypeOf(
      runWorkers(
        2,
        wrapWithStatus(board, async () => {}),
      ),
    ).toEqualTypeOf<WorkerRun<never>>();
    board.close();
  });
});

describe('watch targets', () => {
  it('accepts core WorkerPools, WorkerLikes and job pools', () => {
    expectTypeOf<WorkerPool<LocalWorker>>().toMatchTypeOf<WatchTarget>();
    expectTypeOf<WorkerPool<ThreadWorker>>().toMatchTypeOf<WatchTarget>();
    expectTypeOf<Pool>().toMatchTypeOf<WatchTarget>();
    expectTypeOf<LocalWorker>().toMatchTypeOf<WatchTarget>();
    expectTypeOf<WorkerLike>().toMatchTypeOf<WatchTarget>();
    expectTypeOf<{ stats(): JobPoolStats }>().toMatchTypeOf<WatchTarget>();
    expectTypeOf<{
      stats(): { workers: number; stopping: number; iterations: number; failures: number };
    }>().toMatchTypeOf<WatchTarget>();
  });

  it('rejects other objects', () => {
    const board = createStatusBoard();
    // @ts-expect-error -- no stats(), no workers
    board.watch({ size: 3 });
    board.close();
  });
});
