/**
 * Dispatch overhead of @switchyard/metrics: the same thread pool, the same traffic, with a
 * WorkerMetrics collector registered (subscribed to the dispatch channels, scraped once per run)
 * and without. Runs alternate (off, on, off, on, ...) after a warm-up; medians and their ratio.
 *
 *   pnpm --filter @switchyard/metrics bench [-- --events 100000 --runs 7]
 */
import { parseArgs } from 'node:util';
import type { TenantId } from '@switchyard/core';
import { createThreadPool } from '@switchyard/pool-thread';
import { fixtures, guild } from '@switchyard/topology-suite';
import { Registry } from 'prom-client';
import { WorkerMetrics } from '../src/index.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '100000' }, runs: { type: 'string', default: '7' } },
});
const events = Number(values.events);
const runs = Number(values.runs);
const tenants: TenantId[] = Array.from({ length: 1000 }, (_, i) => guild(i * 7, i + 1));
const window = 2048;

const pool = await createThreadPool<any>({ workers: 2, filename: fixtures.basic });

/** Dispatches `events` waited events, at most `window` unfinished; resolves with the elapsed ms. */
async function run(): Promise<number> {
  const started = performance.now();
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < events) {
      const i = sent++;
      await pool.dispatch(tenants[i % tenants.length]!, { type: 'count' });
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return performance.now() - started;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await run(); // warm-up
const off: number[] = [];
const on: number[] = [];
for (let i = 0; i < runs; i++) {
  off.push(await run());
  const registry = new Registry();
  const metrics = new WorkerMetrics(pool, { registry });
  on.push(await run());
  await registry.metrics();
  metrics.close();
}
await pool.close();
const rate = (ms: number): string => `${Math.round((events / ms) * 1000).toLocaleString('en-US')} events/s`;
console.log(`thread pool (2 workers), ${events} waited dispatches over ${tenants.length} tenants, ${runs} runs each`);
console.log(`metrics off: median ${median(off).toFixed(0)} ms (${rate(median(off))})`);
console.log(`metrics on:  median ${median(on).toFixed(0)} ms (${rate(median(on))})`);
console.log(
  `overhead: ${((median(on) / median(off) - 1) * 100).toFixed(1)}% (on/off ${(median(on) / median(off)).toFixed(3)})`,
);
