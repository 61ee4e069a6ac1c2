import type { TenantId, WorkerLike, WorkerPool } from '@switchyard/core';
import { defineWorker } from '@switchyard/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { ThreadWorker, ThreadWorkerStats } from '../src/index.js';
import { createThreadPool } from '../src/index.js';

export const counter = defineWorker({
  createTenant: () => ({ seen: 0 }),
  onEvent: (state, event: { type: 'ping'; n: number }) => ({ seen: ++state.seen, n: event.n }),
});
declare const tenant: TenantId;

describe('types', () => {
  it('types a pool by the definition it runs', async () => {
    const pool = await createThreadPool<typeof counter>({ workers: 2, filename: 'counter.js' });
    expectTypeOf(pool).toEqualTypeOf<
      WorkerPool<ThreadWorker<{ type: 'ping'; n: number }, { seen: number; n: number }>>
    >();
    expectTypeOf(pool.dispatch(tenant, { type: 'ping', n: 1 })).resolves.toEqualTypeOf<{ seen: number; n: number }>();
    // @ts-expect-error the event must match the definition
    void pool.dispatch(tenant, { type: 'pong' });
    expectTypeOf(pool.workers[0]!.stats()).toEqualTypeOf<ThreadWorkerStats>();
  });

  it('is a WorkerLike', () => {
    expectTypeOf<ThreadWorker<string, number>>().toExtend<WorkerLike<string, number>>();
  });
});
