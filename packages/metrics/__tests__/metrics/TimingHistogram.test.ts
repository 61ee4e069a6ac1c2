import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TimingHistogram } from '../../src/metrics/TimingHistogram.js';

const BUCKETS = [0.0001, 0.001, 0.01, 0.1, 1];

/** The values of the registry's only metric, histogram lines included. */
async function values(registry: Registry): Promise<Array<{ value: number; labels: object; metricName?: string }>> {
  const [metric] = await registry.getMetricsAsJSON();
  return metric!.values as Array<{ value: number; labels: object; metricName?: string }>;
}

/** Observations per worker id, on bucket bounds, between them, at 0 and past the last bound. */
const OBSERVED: Array<[worker: number, seconds: number]> = [
  [0, 0],
  [0, 0.0001],
  [0, 0.00005],
  [5, 0.002],
  [0, 0.5],
  [5, 3],
  [0, 1],
  [5, 0.01],
  [5, 0.0100001],
  [0, 0.0000003],
];

describe('TimingHistogram', () => {
  it("reports exactly what prom-client's own Histogram reports for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const histogram = new TimingHistogram('timing_seconds', 'Timings.', [...BUCKETS].reverse(), 'p');
    ours.registerMetric(histogram as never);
    const reference = new Histogram({
      name: 'timing_seconds',
      help: 'Timings.',
      labelNames: ['pool', 'worker'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    for (const [worker, seconds] of OBSERVED) {
      histogram.observe(worker, seconds);
      reference.observe({ pool: 'p', worker }, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const counts = (await values(ours)).filter((v) => v.metricName === 'timing_seconds_count');
    const count = (worker: number): unknown =>
      counts.find((v) => 'worker' in v.labels && v.labels.worker === worker)?.value;
    expect([count(0), count(5)]).toEqual([6, 4]);
  });

  it('forgets every series on reset, then counts afresh', async () => {
    const registry = new Registry();
    const histogram = new TimingHistogram('timing_seconds', 'Timings.', BUCKETS, 'p');
    registry.registerMetric(histogram as never);
    histogram.observe(1, 0.5);
    registry.resetMetrics();
    expect(await values(registry)).toEqual([]);
    histogram.observe(2, 0.5);
    expect((await values(registry)).filter((v) => v.metricName === 'timing_seconds_count')).toEqual([
      { value: 1, labels: { pool: 'p', worker: 2 }, metricName: 'timing_seconds_count' },
    ]);
  });
});
