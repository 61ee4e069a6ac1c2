import { describe, expect, it } from 'vitest';
import { matchesOutput, normalizeOutput } from '../src/expected.js';

describe('normalizeOutput', () => {
  it('drops trailing whitespace, carriage returns and blank lines at both ends', () => {
    expect(normalizeOutput('\n\na  \r\nb\t\n\n')).toBe('a\nb');
  });
});

describe('matchesOutput', () => {
  it('matches the same lines exactly', () => {
    expect(matchesOutput('a\nb\n', 'a\nb')).toBe(true);
    expect(matchesOutput('a\nb\nc\n', 'a\nb')).toBe(false);
    expect(matchesOutput('a\n', 'a\nb')).toBe(false);
    expect(matchesOutput('a.b\n', 'a?b')).toBe(false);
  });

  it('treats … in a line as any text within that line', () => {
    expect(matchesOutput('process 48213 up\n', 'process … up')).toBe(true);
    expect(matchesOutput('process  up\n', 'process … up')).toBe(true);
    expect(matchesOutput('proc 1 up\n', 'process … up')).toBe(false);
    expect(matchesOutput('process 1\n2 up\n', 'process … up')).toBe(false);
    expect(matchesOutput('took 12 ms (3 failed)\n', 'took … ms (… failed)')).toBe(true);
  });

  it('treats a line of its own … as any number of lines', () => {
    expect(matchesOutput('start\nx\ny\nend\n', 'start\n…\nend')).toBe(true);
    expect(matchesOutput('start\nend\n', 'start\n…\nend')).toBe(true);
    expect(matchesOutput('start\nx\n', 'start\n…')).toBe(true);
    expect(matchesOutput('x\nend\n', 'start\n…\nend')).toBe(false);
  });

  it('matches empty output only against an empty block', () => {
    expect(matchesOutput('', '')).toBe(true);
    expect(matchesOutput('', 'a')).toBe(false);
    expect(matchesOutput('a', '')).toBe(false);
  });
});
