import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/harness/options.js';

const IDS = ['threads', 'mpsc'];

describe('parseOptions', () => {
  it('defaults to every scenario, 5 rounds of 400 ms', () => {
    expect(parseOptions([], IDS, '/out')).toEqual({
      quick: false,
      only: [],
      rounds: 5,
      ms: 400,
      out: '/out',
      help: false,
    });
  });

  it('makes --quick one short round unless told otherwise', () => {
    expect(parseOptions(['--quick'], IDS, '/out')).toMatchObject({ quick: true, rounds: 1, ms: 60 });
    expect(parseOptions(['--quick', '--rounds', '2'], IDS, '/out')).toMatchObject({ quick: true, rounds: 2 });
  });

  it('reads --only as a comma-separated list of scenario ids', () => {
    expect(parseOptions(['--only', 'threads, mpsc'], IDS, '/out').only).toEqual(['threads', 'mpsc']);
    expect(parseOptions(['--only=mpsc'], IDS, '/out').only).toEqual(['mpsc']);
  });

  it.each([
    [['--only', 'thread']],
    [['--rounds', '0']],
    [['--ms', '1.5']],
    [['--ms', 'fast']],
    [['--fast']],
    [['positional']],
  ])('refuses %j with ERR_BENCH_INVALID_OPTION', (args) => {
    expect(() => parseOptions(args, IDS, '/out')).toThrow(
      expect.objectContaining({ code: 'ERR_BENCH_INVALID_OPTION' }),
    );
  });
});
