import { describe, expect, it } from 'vitest';
import { defaultRestartBackoff } from '../../src/index.js';
import { restartDelay, restartPolicy } from '../../src/remote/restart.js';

describe('restart policy', () => {
  it('backs off 3 s per consecutive failure, at most 15 s, as the seed does', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(defaultRestartBackoff)).toEqual([3000, 6000, 9000, 12000, 15000, 15000, 15000]);
  });

  it('defaults to that backoff, 10 consecutive failures and 30 s to count as stable', () => {
    expect(restartPolicy(undefined)).toEqual({
      backoff: defaultRestartBackoff,
      maxConsecutiveFailures: 10,
      stableAfterMs: 30_000,
    });
  });

  it('rejects a backoff answer that is not a finite number >= 0 with ERR_INVALID_ARGUMENT', () => {
    for (const answer of [-1, Number.NaN, Infinity, '5']) {
      const policy = restartPolicy({ backoff: () => answer as number });
      expect(() => restartDelay(policy, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
    expect(restartDelay(restartPolicy({ backoff: (failures) => failures * 10 }), 3)).toBe(30);
  });
});
