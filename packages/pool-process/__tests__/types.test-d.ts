import type { WorkerLike, WorkerPool } from '@switchyard/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { Hub, ProcessPool, ProcessWorker, WorkerOnlineInfo, WorkerProcess, WorkerStopInfo } from '../src/index.js';
import { createHub, createProcessPool, runWorkerProcess } from '../src/index.js';
import { runWorkerProcess as fromWorkerEntry } from '../src/worker/index.js';

describe('types', () => {
  it('createProcessPool resolves a WorkerPool of ProcessWorkers typed by event and result', () => {
    type Event = { type: 'ping' };
    expectTypeOf(createProcessPool<Event, number>).returns.resolves.toEqualTypeOf<ProcessPool<Event, number>>();
    expectTypeOf<ProcessPool<Event, number>>().toMatchTypeOf<WorkerPool<ProcessWorker<Event, number>>>();
    expectTypeOf<ProcessWorker<Event, number>>().toMatchTypeOf<WorkerLike<Event, number>>();
    expectTypeOf<ProcessPool<Event, number>['dispatch']>().returns.resolves.toEqualTypeOf<number>();
    expectTypeOf<ProcessPool<Event, number>['hub']>().toEqualTypeOf<Hub>();
  });

  it('types the online listener', () => {
    const worker = {} as ProcessWorker;
    worker.on('online', (info) => expectTypeOf(info).toEqualTypeOf<WorkerOnlineInfo>());
    worker.on('crash', (info) => expectTypeOf(info.workerId).toEqualTypeOf<number>());
  });

  it('createHub resolves a Hub, runWorkerProcess returns a WorkerProcess', () => {
    expectTypeOf(createHub).returns.resolves.toEqualTypeOf<Hub>();
    expectTypeOf(runWorkerProcess).returns.toEqualTypeOf<WorkerProcess>();
    expectTypeOf(fromWorkerEntry).toEqualTypeOf(runWorkerProcess);
    expectTypeOf<WorkerProcess['stopped']>().resolves.toEqualTypeOf<WorkerStopInfo>();
  });
});
