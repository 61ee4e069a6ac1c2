import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestBudget } from '../../src/index.js';

describe('RequestBudget', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets perSecond requests through per one-second window, the rest in order in the next windows', async () => {
    const budget = new RequestBudget(2);
    const went: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) => budget.acquire().then(() => went.push(i)));
    await vi.advanceTimersByTimeAsync(0);
    expect(went).toEqual([0, 1]);
    expect(budget.waiting).toBe(3);
    await vi.advanceTimersByTimeAsync(999);
    expect(went).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(went).toEqual([0, 1, 2, 3]);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(all);
    expect(went).toEqual([0, 1, 2, 3, 4]);
    expect(budget.waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never lets a new request overtake one that waits', async () => {
    const budget = new RequestBudget(1);
    const went: string[] = [];
    void budget.acquire().then(() => went.push('first'));
    void budget.acquire().then(() => went.push('second'));
    await vi.advanceTimersByTimeAsync(1000);
    void budget.acquire().then(() => went.push('third'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(went).toEqual(['first', 'second', 'third']);
  });

  it.each([0, 1.5, -1, Number.NaN])('rejects perSecond %s with ERR_BOT_CONFIG', (perSecond) => {
    expect(() => new RequestBudget(perSecond)).toThrow(expect.objectContaining({ code: 'ERR_BOT_CONFIG' }));
  });
});
