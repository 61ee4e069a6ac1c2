import { describe, expect, it } from 'vitest';
import { PoolConfigError } from '../../src/errors/errors.js';
import type { PoolConfig } from '../../src/pool/Pool.js';
import { Pool } from '../../src/pool/Pool.js';
import { CountingJob, GatedJob, turn } from './helpers.js';

function configError(config: unknown): PoolConfigError {
  try {
    new Pool(config as PoolConfig);
  } catch (error) {
    expect(error).toBeInstanceOf(PoolConfigError);
    return error as PoolConfigError;
  }
  throw new Error(`Expected new Pool(${JSON.stringify(config)}) to throw`);
}

describe('PoolConfig defaults', () => {
  it('starts one worker with the default config', async () => {
    const gated = new GatedJob();
    const pool = new Pool();
    pool.start(gated.job);
    expect(pool.size).toBe(1);
    await gated.untilInFlight(1);
    expect(gated.calls).toHaveLength(1);
    const closing = pool.close();
    gated.calls[0]!.release();
    await closing;
  });

  it('starts `min` workers when min > 1 and initial is not given', () => {
    const pool = new Pool({ min: 3 });
    pool.start(() => {});
    expect(pool.size).toBe(3);
    return pool.close();
  });

  it('has no maximum by default (max 0)', async () => {
    const pool = new Pool();
    pool.start(() => {});
    for (let i = 0; i < 99; i++) pool.more();
    expect(pool.size).toBe(100);
    await pool.close();
  });

  it('lets less() remove every worker by default (min 0), pausing the job', async () => {
    const counting = new CountingJob();
    const pool = new Pool();
    pool.start(counting.job);
    await counting.untilTotal(1);
    pool.less();
    expect(pool.size).toBe(0);
    const total = counting.total;
    await turn();
    await turn();
    expect(counting.total).toBe(total);
    await pool.close();
  });

  it('accepts an explicit initial of 0: the pool runs with no worker until more()', async () => {
    const counting = new CountingJob();
    const pool = new Pool({ initial: 0 });
    pool.start(counting.job);
    expect(pool.running).toBe(true);
    expect(pool.size).toBe(0);
    await turn();
    await turn();
    expect(counting.total).toBe(0);
    pool.more();
    await counting.untilTotal(1);
    await pool.close();
    expect(counting.perSignal.size).toBe(1);
  });

  it('accepts min > 0 with max 0 (no limit), and initial above min', () => {
    const pool = new Pool({ min: 5, max: 0, initial: 7 });
    pool.start(() => {});
    expect(pool.size).toBe(7);
    return pool.close();
  });

  it('accepts initial equal to min and to max', async () => {
    for (const config of [
      { min: 2, max: 4, initial: 2 },
      { min: 2, max: 4, initial: 4 },
      { min: 3, max: 3 },
    ]) {
      const pool = new Pool(config);
      pool.start(() => {});
      expect(pool.size).toBe(config.initial ?? 3);
      await pool.close();
    }
  });
});

describe('PoolConfig validation', () => {
  it('rejects negative counts with ERR_POOL_CONFIG, saying what was expected and what arrived', () => {
    for (const field of ['min', 'max', 'initial'] as const) {
      const error = configError({ [field]: -1 });
      expect(error.code).toBe('ERR_POOL_CONFIG');
      expect(error.message).toBe(`Expected \`${field}\` to be an integer >= 0, got number -1.`);
    }
  });

  it('rejects non-integer and non-number counts with ERR_POOL_CONFIG', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, '2', null, 2n]) {
      for (const field of ['min', 'max', 'initial'] as const) {
        expect(configError({ [field]: bad }).code).toBe('ERR_POOL_CONFIG');
      }
    }
    expect(configError({ min: '2' }).message).toBe('Expected `min` to be an integer >= 0, got "2".');
  });

  it('rejects min > max when max > 0 with ERR_POOL_CONFIG', () => {
    const error = configError({ min: 5, max: 3 });
    expect(error.code).toBe('ERR_POOL_CONFIG');
    expect(error.message).toBe('Expected `min` to be <= `max` (3), got 5.');
  });

  it('rejects initial below min or above max with ERR_POOL_CONFIG', () => {
    const below = configError({ min: 2, max: 4, initial: 1 });
    expect(below.code).toBe('ERR_POOL_CONFIG');
    expect(below.message).toBe('Expected `initial` to be between `min` (2) and `max` (4), got 1.');
    const above = configError({ min: 2, max: 4, initial: 5 });
    expect(above.code).toBe('ERR_POOL_CONFIG');
    expect(above.message).toBe('Expected `initial` to be between `min` (2) and `max` (4), got 5.');
    const unbounded = configError({ min: 3, initial: 2 });
    expect(unbounded.message).toBe('Expected `initial` to be >= `min` (3), got 2.');
  });

  it('rejects a non-boolean stopOnErrors with ERR_POOL_CONFIG', () => {
    const error = configError({ stopOnErrors: 'yes' });
    expect(error.code).toBe('ERR_POOL_CONFIG');
    expect(error.message).toBe('Expected `stopOnErrors` to be a boolean, got "yes".');
  });

  it('rejects a config that is not an object with ERR_POOL_CONFIG', () => {
    expect(configError(null).code).toBe('ERR_POOL_CONFIG');
    expect(configError(3).message).toBe('Expected the pool config to be an object, got number 3.');
  });

  it('rejects a middleware that is not a function with ERR_POOL_CONFIG', () => {
    let caught: unknown;
    try {
      new Pool({}, (job) => job, 'log' as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'ERR_POOL_CONFIG',
      message: 'Expected middleware 1 to be a function (job) => job, got "log".',
    });
  });
});
