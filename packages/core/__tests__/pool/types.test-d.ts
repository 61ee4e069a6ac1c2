import { describe, expectTypeOf, it } from 'vitest';
import type { Job, JobBuilder, Middleware } from '../../src/pool/Job.js';
import { wrap } from '../../src/pool/Job.js';
import type { CounterMiddleware, ElapsedMiddleware } from '../../src/pool/middlewares.js';
import { counter, elapsed, retry, wait } from '../../src/pool/middlewares.js';
import type { PoolConfig, PoolErrorInfo, PoolStats } from '../../src/pool/Pool.js';
import { Pool } from '../../src/pool/Pool.js';

describe('pool types', () => {
  it('accepts synchronous and asynchronous jobs', () => {
    expectTypeOf<() => void>().toExtend<Job>();
    expectTypeOf<(signal: AbortSignal) => Promise<void>>().toExtend<Job>();
    expectTypeOf<(signal: AbortSignal) => Promise<number>>().not.toExtend<Job>();
    expectTypeOf<() => Job>().toEqualTypeOf<JobBuilder>();
  });

  it('makes every built-in middleware a pool Middleware', () => {
    expectTypeOf(counter()).toExtend<Middleware>();
    expectTypeOf(elapsed()).toExtend<Middleware>();
    expectTypeOf(elapsed()).toExtend<CounterMiddleware>();
    expectTypeOf(retry(1)).toEqualTypeOf<Middleware>();
    expectTypeOf(wait(1)).toEqualTypeOf<Middleware>();
    expectTypeOf<ConstructorParameters<typeof Pool>>().toEqualTypeOf<
      [config?: PoolConfig, ...middlewares: Middleware[]]
    >();
  });

  it('lets counter and elapsed wrap any function, keeping its type', () => {
    const handler = (event: { id: string }, attempt: number): Promise<number> => Promise.resolve(attempt);
    expectTypeOf(counter()(handler)).toEqualTypeOf(handler);
    expectTypeOf(wrap(handler, counter(), elapsed())).toEqualTypeOf(handler);
    expectTypeOf<ElapsedMiddleware['average']>().toEqualTypeOf<number>();
  });

  it('types the error event and stats', () => {
    const pool = new Pool();
    pool.on('error', (error, info) => {
      expectTypeOf(error).toBeUnknown();
      expectTypeOf(info).toEqualTypeOf<PoolErrorInfo>();
    });
    expectTypeOf(pool.stats()).toEqualTypeOf<PoolStats>();
    // @ts-expect-error counts are numbers
    new Pool({ min: '1' });
    // @ts-expect-error unknown event
    pool.on('exit', () => {});
  });
});
