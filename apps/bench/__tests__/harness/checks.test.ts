import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectAnswer, runCheck } from '../../src/harness/checks.js';
import { CheckFailedError } from '../../src/harness/errors.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('expectAnswer', () => {
  it('accepts a deeply equal answer', () => {
    expect(() => expectAnswer('x', { seq: 42, bytes: [1] }, { seq: 42, bytes: [1] })).not.toThrow();
  });

  it('refuses a wrong answer with ERR_BENCH_CHECK_FAILED, saying what was asked and what came back', () => {
    let caught: unknown;
    try {
      expectAnswer('piscina run(41)', 41, 42);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CheckFailedError);
    expect(caught).toMatchObject({ code: 'ERR_BENCH_CHECK_FAILED' });
    expect((caught as Error).message).toContain('piscina run(41)');
  });

  it('tells a number from a string and a missing key from an undefined one', () => {
    expect(() => expectAnswer('x', '42', 42)).toThrow(CheckFailedError);
    expect(() => expectAnswer('x', {}, { a: undefined })).toThrow(CheckFailedError);
  });
});

describe('runCheck', () => {
  it('fails a check that never answers once its bound passes', async () => {
    vi.useFakeTimers();
    const outcome = runCheck('silent peer', () => new Promise<void>(() => undefined), 30_000).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await outcome).toMatchObject({ code: 'ERR_BENCH_CHECK_FAILED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('wraps another error as a check failure with the error as its cause', async () => {
    const cause = new Error('worker exited');
    const error = await runCheck('crashing peer', () => Promise.reject(cause), 1_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BENCH_CHECK_FAILED', cause });
  });

  it('resolves when the check passes and leaves no timer behind', async () => {
    vi.useFakeTimers();
    await runCheck('good peer', async () => undefined, 1_000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
