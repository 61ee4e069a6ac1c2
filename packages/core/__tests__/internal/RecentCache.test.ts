import { describe, expect, it } from 'vitest';
import { RecentCache } from '../../src/internal/RecentCache.js';

describe('RecentCache', () => {
  it('keeps a working set of up to limit keys across generations, and forgets what was not used for two', () => {
    const cache = new RecentCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    // Full: 'c' starts a new generation; 'a' and 'b' are still found (and 'a' moves back).
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, 2, 3]);
    cache.set('d', 4);
    cache.set('e', 5);
    expect(cache.get('a')).toBeUndefined();
    expect([cache.get('d'), cache.get('e')]).toEqual([4, 5]);
  });

  it('always hits a cycle over as many keys as its limit', () => {
    const cache = new RecentCache<number, number>(100);
    let misses = 0;
    for (let round = 0; round < 5; round++) {
      for (let key = 0; key < 100; key++) {
        if (cache.get(key) === undefined) {
          misses++;
          cache.set(key, key);
        }
      }
    }
    expect(misses).toBe(100);
  });
});
