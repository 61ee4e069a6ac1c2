import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resultsBaseName } from '../../src/harness/files.js';
import { RESULTS_SCHEMA, validateResults } from '../../src/harness/results.js';

const raw = (): Record<string, any> =>
  JSON.parse(readFileSync(new URL('../fixtures/recorded-quick.json', import.meta.url), 'utf8'));

describe('validateResults', () => {
  it('accepts a recorded run with machine info, options and every raw round', () => {
    const results = validateResults(raw());
    expect(results.schema).toBe(RESULTS_SCHEMA);
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.loadBefore).toHaveLength(3);
    const ids = results.scenarios.map((s) => s.id);
    expect(ids).toEqual(['threads', 'processes', 'latency', 'tenants', 'queue', 'mpsc', 'scaling', 'bot']);
    for (const contender of results.scenarios.flatMap((s) => s.groups.flatMap((g) => g.contenders))) {
      expect(contender.status).toBe('ok');
      expect(contender.rounds).toHaveLength(results.options.rounds);
    }
  });

  it.each([
    ['a missing field', (r: Record<string, any>) => delete r.machine.node, '$.machine.node'],
    ['an unknown field', (r: Record<string, any>) => (r.scenarios[0].extra = 1), '$.scenarios[0].extra'],
    [
      'a wrong type',
      (r: Record<string, any>) => (r.scenarios[0].groups[0].contenders[0].rounds[0].ops = '5'),
      '$.scenarios[0].groups[0].contenders[0].rounds[0].ops',
    ],
    ['a NaN written as null where a number must be', (r: Record<string, any>) => (r.options.ms = null), '$.options.ms'],
    ['an unknown schema version', (r: Record<string, any>) => (r.schema = 'switchyard-bench/0'), '$.schema'],
    [
      'a reference that names no contender',
      (r: Record<string, any>) => (r.scenarios[0].groups[0].reference = 'nobody'),
      '$.scenarios[0].groups[0].reference',
    ],
  ])('refuses %s with ERR_BENCH_INVALID_RESULTS naming the path', (_, spoil, path) => {
    const results = raw();
    spoil(results);
    expect(() => validateResults(results)).toThrow(
      expect.objectContaining({ code: 'ERR_BENCH_INVALID_RESULTS', path }),
    );
  });
});

describe('resultsBaseName', () => {
  it('is the start time and the commit, marked when quick', () => {
    const options = { quick: false, rounds: 5, ms: 400, warmupMs: 400, only: [] };
    expect(resultsBaseName({ startedAt: '2026-12-07T01:02:03.456Z', commit: 'abc1234', options })).toBe(
      '2026-12-07-010203-abc1234',
    );
    expect(
      resultsBaseName({
        startedAt: '2026-12-07T01:02:03.456Z',
        commit: 'abc1234',
        options: { ...options, quick: true },
      }),
    ).toBe('2026-12-07-010203-abc1234-quick');
  });
});
