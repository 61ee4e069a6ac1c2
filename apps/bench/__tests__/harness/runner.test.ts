import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectAnswer } from '../../src/harness/checks.js';
import type { ProgressSink, RunSettings } from '../../src/harness/runner.js';
import { HISTOGRAM_BOUNDS_US, histogram, runGroup } from '../../src/harness/runner.js';
import type { ContenderPlan, GroupPlan, RunOutput } from '../../src/harness/Scenario.js';

const settings: RunSettings = { rounds: 3, ms: 100, warmupMs: 50, checkTimeoutMs: 1_000 };
const silent: ProgressSink = { group: () => undefined, step: () => undefined, log: () => undefined };

beforeEach(() => {
  // Each run "lasts" exactly its ms: the rates are then exact.
  vi.useFakeTimers({ toFake: ['performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Spy {
  readonly calls: string[];
}

function fake(
  name: string,
  spy: Spy,
  options: { perMs?: number; answer?: number; startFails?: boolean; latencies?: number[] } = {},
): ContenderPlan {
  const { perMs = 1, answer = 42, startFails = false, latencies } = options;
  return {
    name,
    kind: name.startsWith('Switchyard') ? 'switchyard' : 'peer',
    async start() {
      spy.calls.push(`${name}:start`);
      if (startFails) throw Object.assign(new Error('cannot start'), { code: 'ERR_TEST_START' });
      return {
        async check() {
          spy.calls.push(`${name}:check`);
          expectAnswer(`${name}(41)`, answer, 42);
        },
        async run(ms): Promise<RunOutput> {
          spy.calls.push(`${name}:run:${ms}`);
          vi.advanceTimersByTime(ms);
          return { ops: perMs * ms, ...(latencies === undefined ? {} : { latenciesUs: latencies }) };
        },
        async close() {
          spy.calls.push(`${name}:close`);
        },
      };
    },
  };
}

const group = (contenders: ContenderPlan[], kind: GroupPlan['kind'] = 'throughput'): GroupPlan => ({
  id: 'g',
  title: 'group',
  kind,
  unit: 'events',
  reference: 'Switchyard',
  contenders,
});

describe('runGroup', () => {
  it('checks every contender first, warms each up, then runs rotated rounds and closes them all', async () => {
    const spy: Spy = { calls: [] };
    const record = await runGroup(group([fake('Switchyard', spy), fake('peer', spy, { perMs: 3 })]), settings, silent);
    expect(spy.calls).toEqual([
      'Switchyard:start',
      'Switchyard:check',
      'peer:start',
      'peer:check',
      'Switchyard:run:50',
      'peer:run:50',
      'Switchyard:run:100',
      'peer:run:100',
      'peer:run:100',
      'Switchyard:run:100',
      'Switchyard:run:100',
      'peer:run:100',
      'Switchyard:close',
      'peer:close',
    ]);
    const [reference, peer] = record.contenders;
    expect(reference!.rounds.map((r) => r.position)).toEqual([0, 1, 0]);
    expect(peer!.rounds.map((r) => r.position)).toEqual([1, 0, 1]);
    expect(reference!.perSecond).toEqual({ median: 1000, min: 1000, max: 1000 });
    expect(peer!.perSecond).toEqual({ median: 3000, min: 3000, max: 3000 });
    expect(peer!.ratio).toEqual({ median: 3, min: 3, max: 3 });
    expect(reference!.ratio).toEqual({ median: 1, min: 1, max: 1 });
    expect(peer!.rounds[0]).toMatchObject({ round: 0, ops: 300, wallMs: 100, perSecond: 3000 });
  });

  it('never times a contender whose answer is wrong, and records why', async () => {
    const spy: Spy = { calls: [] };
    const record = await runGroup(
      group([fake('Switchyard', spy), fake('broken', spy, { answer: 41 }), fake('absent', spy, { startFails: true })]),
      settings,
      silent,
    );
    expect(spy.calls.filter((c) => c.startsWith('broken:'))).toEqual(['broken:start', 'broken:check', 'broken:close']);
    const broken = record.contenders[1]!;
    expect(broken).toMatchObject({ status: 'failed', rounds: [], perSecond: null, ratio: null });
    expect(broken.error?.code).toBe('ERR_BENCH_CHECK_FAILED');
    expect(record.contenders[2]).toMatchObject({ status: 'failed', error: { code: 'ERR_TEST_START' } });
    expect(record.contenders[0]).toMatchObject({ status: 'ok' });
    expect(record.contenders[0]!.rounds).toHaveLength(3);
  });

  it('pools the latency samples of the timed rounds only (not the warm-up) into percentiles and a histogram', async () => {
    const spy: Spy = { calls: [] };
    const record = await runGroup(
      group([fake('Switchyard', spy, { latencies: [10, 20, 30, 1000] })], 'latency'),
      settings,
      silent,
    );
    const contender = record.contenders[0]!;
    expect(contender.latencyUs).toMatchObject({ count: 12, p50: 20, max: 1000 });
    expect(contender.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(12);
    expect(contender.rounds[0]!.latencyUs).toMatchObject({ count: 4, p50: 20, p99: 1000 });
  });
});

describe('runGroup with a contender that stalls', () => {
  it('drops it with ERR_BENCH_RUN_TIMEOUT once its run passes the bound, closes it and goes on', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout'] });
    const spy: Spy = { calls: [] };
    const stalls: ContenderPlan = {
      name: 'stalls',
      kind: 'peer',
      async start() {
        let runs = 0;
        return {
          check: async () => undefined,
          run: (ms) => (++runs === 1 ? Promise.resolve({ ops: ms }) : new Promise<RunOutput>(() => undefined)),
          close: async () => void spy.calls.push('stalls:close'),
        };
      },
    };
    const pending = runGroup(group([fake('Switchyard', spy), stalls]), settings, silent);
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(30_000);
    const record = await pending;
    expect(record.contenders[1]).toMatchObject({
      status: 'failed',
      error: { code: 'ERR_BENCH_RUN_TIMEOUT' },
      rounds: [],
    });
    expect(spy.calls).toContain('stalls:close');
    expect(record.contenders[0]!.rounds).toHaveLength(3);
  });
});

describe('histogram', () => {
  it('puts each sample in the first bucket whose bound is at least the sample, the rest in the last', () => {
    const { boundsUs, counts } = histogram([1, 1, 10, 1e9]);
    expect(boundsUs).toBe(HISTOGRAM_BOUNDS_US);
    expect(counts[0]).toBe(2);
    expect(counts[boundsUs.indexOf(10)]).toBe(1);
    expect(counts[counts.length - 1]).toBe(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(4);
  });
});
