import { describe, expectTypeOf, it } from 'vitest';
import type {
  BroadcastResult,
  QuarantineInfo,
  RecycleInfo,
  RemoteWorkerOptions,
  WorkerContext,
  WorkerLikeListener,
} from '../../src/index.js';
import { defineWorker, LocalWorker, WorkerPool } from '../../src/index.js';

const worker = defineWorker({
  createTenant: () => ({ n: 0 }),
  onEvent: (state) => ++state.n,
  onBroadcast: (message: unknown, ctx) => {
    expectTypeOf(ctx).toEqualTypeOf<WorkerContext>();
    return String(message);
  },
});

describe('control plane types', () => {
  it('types broadcast entries by the value the caller expects, and release as a boolean', async () => {
    const pool = await WorkerPool.create(2, (id) => new LocalWorker(worker, { id }));
    expectTypeOf(pool.broadcast<string>('x')).resolves.toEqualTypeOf<BroadcastResult<string>[]>();
    expectTypeOf(pool.broadcast('x')).resolves.toEqualTypeOf<BroadcastResult[]>();
    const [entry] = await pool.broadcast<number>(1);
    if (entry?.status === 'fulfilled') expectTypeOf(entry.value).toEqualTypeOf<number>();
    else if (entry !== undefined) expectTypeOf(entry.reason).toBeUnknown();
    expectTypeOf(pool.release).returns.toEqualTypeOf<boolean>();
  });

  it('types the new events and options', () => {
    expectTypeOf<WorkerLikeListener<'quarantine'>>().parameters.toEqualTypeOf<[QuarantineInfo]>();
    expectTypeOf<WorkerLikeListener<'recycled'>>().parameters.toEqualTypeOf<[RecycleInfo]>();
    expectTypeOf<{ recycle: { maxEvents: 1 } }>().toExtend<RemoteWorkerOptions>();
    expectTypeOf<{ tenantLimits: { rate: { per: 1 } } }>().not.toExtend<RemoteWorkerOptions>();
    // A LocalWorker shares its caller's heap: maxHeapBytes is not one of its options.
    expectTypeOf<{ recycle: { maxHeapBytes: 1 } }>().not.toExtend<ConstructorParameters<typeof LocalWorker>[1]>();
  });
});
