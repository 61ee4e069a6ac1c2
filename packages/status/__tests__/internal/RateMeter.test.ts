import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../src/internal/RateMeter.js';

describe('RateMeter', () => {
  it('has no rate before two samples at different times', () => {
    const meter = new RateMeter(1_000);
    expect(meter.sample(0, 0)).toBeUndefined();
    expect(meter.sample(0, 5)).toBeUndefined();
    expect(meter.sample(500, 10)).toBe(20);
  });

  it('measures over the window, from the newest sample at least a window old', () => {
    const meter = new RateMeter(1_000);
    meter.sample(0, 0);
    meter.sample(1_000, 1_000); // 1000/s
    meter.sample(2_000, 1_010); // 10/s during the last second
    expect(meter.rate).toBe(10);
  });

  it('keeps a bounded number of samples however often it is called', () => {
    const meter = new RateMeter(1_000);
    for (let i = 0; i < 100_000; i++) meter.sample(i / 10, i);
    expect(meter.samples).toBeLessThanOrEqual(20);
    expect(meter.rate).toBeCloseTo(10_000, 0);
  });

  it('starts again when the counter goes down or the clock goes back', () => {
    const meter = new RateMeter(1_000);
    meter.sample(0, 0);
    meter.sample(1_000, 100);
    expect(meter.sample(1_500, 50)).toBeUndefined();
    expect(meter.sample(2_500, 150)).toBe(100);
    expect(meter.sample(2_000, 200)).toBeUndefined();
  });
});
