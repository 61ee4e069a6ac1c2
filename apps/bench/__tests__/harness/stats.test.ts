import { describe, expect, it } from 'vitest';
import { median, percentiles, quantileSorted, rotation, roundRatios, spread } from '../../src/harness/stats.js';

describe('median', () => {
  it('takes the middle value of an odd count and the mean of the two middle values of an even count', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('does not reorder its input and is NaN when empty', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
    expect(median([])).toBeNaN();
  });
});

describe('quantileSorted and percentiles', () => {
  it('uses the nearest rank: the smallest value with at least q of the values at or below it', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(quantileSorted(sorted, 0.5)).toBe(500);
    expect(quantileSorted(sorted, 0.99)).toBe(990);
    expect(quantileSorted(sorted, 0.999)).toBe(999);
    expect(quantileSorted(sorted, 1)).toBe(1000);
    expect(quantileSorted(sorted, 0)).toBe(1);
    expect(quantileSorted([7], 0.999)).toBe(7);
  });

  it('refuses a q outside [0, 1]', () => {
    expect(() => quantileSorted([1], 1.5)).toThrow(RangeError);
  });

  it('sorts a copy and counts the samples', () => {
    const samples = [10, 1, 1000, 100, 5];
    expect(percentiles(samples)).toEqual({ p50: 10, p90: 1000, p99: 1000, p999: 1000, max: 1000, count: 5 });
    expect(samples).toEqual([10, 1, 1000, 100, 5]);
  });
});

describe('roundRatios', () => {
  it('divides round by round, then takes the median, min and max of the ratios', () => {
    // Round 2 is slow for both: a ratio of medians would be 1.5, the per-round ratio is 2 each time.
    expect(roundRatios([200, 20, 300], [100, 10, 150])).toEqual({ median: 2, min: 2, max: 2 });
    expect(roundRatios([1, 4, 9], [1, 2, 3])).toEqual({ median: 2, min: 1, max: 3 });
  });

  it('skips rounds where the divisor is 0 or a value is missing', () => {
    expect(roundRatios([10, 10, 10], [0, 5])).toEqual({ median: 2, min: 2, max: 2 });
    expect(spread([])).toEqual({ median: NaN, min: NaN, max: NaN });
    expect(roundRatios([1], [0]).median).toBeNaN();
  });
});

describe('rotation', () => {
  it('rotates by one place per round, so each contender runs first once every n rounds', () => {
    const items = ['a', 'b', 'c'];
    expect([0, 1, 2, 3].map((round) => rotation(items, round).join(''))).toEqual(['abc', 'bca', 'cab', 'abc']);
    expect(rotation([], 4)).toEqual([]);
  });
});
