import { describe, expect, it } from 'vitest';
import { formatPrefix, formatRate, renderProgressBar } from '../../src/index.js';

describe('formatPrefix', () => {
  it.each([
    ['worker %2d:', 3, 'worker  3:'],
    ['worker %2d:', 12, 'worker 12:'],
    ['worker %2d:', 123, 'worker 123:'],
    ['worker %d:', 7, 'worker 7:'],
    ['w%03d', 7, 'w007'],
    ['[%-3d]', 7, '[7  ]'],
    ['%d%%', 50, '50%'],
    ['no id', 4, 'no id'],
    ['%d/%d', 2, '2/2'],
    ['%03d', -4, '-04'],
  ])('formats %j with %d as %j', (template, id, expected) => {
    expect(formatPrefix(template, id)).toBe(expected);
  });

  it.each(['worker %s', '%', 'trailing %', '%-%', '%x'])('rejects %j with ERR_STATUS_INVALID_ARGUMENT', (template) => {
    expect(() => formatPrefix(template, 1)).toThrow(expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' }));
  });
});

describe('formatRate', () => {
  it.each([
    [undefined, '-/s'],
    [Number.NaN, '-/s'],
    [0, '0.0/s'],
    [0.25, '0.3/s'],
    [9.94, '9.9/s'],
    [10, '10/s'],
    [9_999, '9999/s'],
    [12_345, '12.3k/s'],
    [2_500_000, '2.5M/s'],
    [-3, '0.0/s'],
  ])('formats %j as %j', (rate, expected) => {
    expect(formatRate(rate)).toBe(expected);
  });
});

describe('renderProgressBar', () => {
  it('fills the bar in proportion and floors the percentage', () => {
    expect(renderProgressBar(1, 3, 2, 6)).toBe('[██░░░░]  33% 1/3 2.0/s');
    expect(renderProgressBar(0, 5, undefined, 4)).toBe('[░░░░]   0% 0/5 -/s');
    expect(renderProgressBar(5, 5, 1000, 4)).toBe('[████] 100% 5/5 1000/s');
    expect(renderProgressBar(9, 5, undefined, 4)).toBe('[████] 100% 9/5 -/s');
  });
});
