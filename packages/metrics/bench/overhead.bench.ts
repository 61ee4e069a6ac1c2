/**
 * Dispatch overhead of @switchyard/metrics: the same pool, the same traffic, with a WorkerMetrics
 * collector registered (subscribed to the dispatch channels, scraped once per run) and without.
 * Runs alternate (off/on, then on/off, ...) after a warm-up of both; medians and their ratio. `--topology`
 * picks a thread pool (2 threads) or a pool of 2 LocalWorkers (everything on this thread: the
 * per-dispatch cost of metrics is not hidden behind a thread hop). The handler counts (async, as
 * most handlers are); `--work 20` makes it keep its thread busy 20 µs first, a handler that does
 * something; `--timings false` registers the collector without its histograms.
 *
 *   pnpm --filter @switchyard/metrics bench [-- --topology local --events 100000 --runs 7 --warmup 3 --work 0]
 */
import { parseArgs } from 'node:util';
import type { TenantId, WorkerLike } from '@switchyard/core';
import { LocalWorker, WorkerPool } from '@switchyard/core';
import { createThreadPool } from '@switchyard/pool-thread';
import { guild } from '@switchyard/topology-suite';
import { worker as definition } from './fixtures/work.mjs';
import { Registry } from 'prom-client';
import { WorkerMetrics } from '../src/index.js';

const { values } = parseArgs({
  // `pnpm bench -- --runs 3` passes the `--` on.
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    events: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '7' },
    topology: { type: 'string', default: 'thread' },
    warmup: { type: 'string', default: '3' },
    work: { type: 'string', default: '0' },
    timings: { type: 'string', default: 'true' },
  },
});
const topology = values.topology;
if (topology !== 'thread' && topology !== 'local')
  throw new Error(`Expected --topology thread or local, got ${String(topology)}.`);
const events = Number(values.events);
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const event = { spinUs: Number(values.work) };
/** `--timings false`: the collector without its histograms (nothing of it runs per dispatch). */
const timings = values.timings !== 'false';
const fixture = new URL('./fixtures/work.mjs', import.meta.url);
const tenants: TenantId[] = Array.from({ length: 1000 }, (_, i) => guild(i * 7, i + 1));
const window = 2048;

const pool: WorkerLike<any, any> =
  topology === 'thread'
    ? await createThreadPool<any>({ workers: 2, filename: fixture })
    : await WorkerPool.create(2, (id) => new LocalWorker(definition, { id }));

/** CPU time (user + system, every thread of this process) of each run, in ms: less swayed by other load than wall time. */
const cpu: { off: number[]; on: number[] } = { off: [], on: [] };
let cpuOfLastRun = 0;

/** Dispatches `events` waited events, at most `window` unfinished; resolves with the elapsed ms. */
async function run(): Promise<number> {
  const started = performance.now();
  const usage = process.cpuUsage();
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < events) {
      const i = sent++;
      await pool.dispatch(tenants[i % tenants.length]!, event);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  const { user, system } = process.cpuUsage(usage);
  cpuOfLastRun = (user + system) / 1000;
  return performance.now() - started;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off: number[] = [];
const on: number[] = [];
const withMetrics = async (): Promise<number> => {
  const registry = new Registry();
  const metrics = new WorkerMetrics(pool, { registry, timings });
  const ms = await run();
  await registry.metrics();
  metrics.close();
  return ms;
};
// Warm-up of both sides, so that neither pays for compiling its path in the measured runs.
for (let i = 0; i < warmup; i++) {
  await run();
  await withMetrics();
}
// The order alternates too (off first, then on first), so that neither side always runs second.
for (let i = 0; i < runs; i++) {
  const offRun = async (): Promise<void> => {
    off.push(await run());
    cpu.off.push(cpuOfLastRun);
  };
  const onRun = async (): Promise<void> => {
    on.push(await withMetrics());
    cpu.on.push(cpuOfLastRun);
  };
  if (i % 2 === 0) {
    await offRun();
    await onRun();
  } else {
    await onRun();
    await offRun();
  }
}
console.log(`off runs: ${off.map((x) => x.toFixed(0)).join(' ')}; on runs: ${on.map((x) => x.toFixed(0)).join(' ')}`);
await pool.close();
const rate = (ms: number): string => `${Math.round((events / ms) * 1000).toLocaleString('en-US')} events/s`;
console.log(
  `${topology === 'thread' ? 'thread pool (2 workers)' : 'pool of 2 LocalWorkers'}, ${events} waited dispatches over ${tenants.length} tenants (${window} in flight), handler ${event.spinUs > 0 ? `busy ${event.spinUs} µs` : 'trivial'}, ${timings ? 'with' : 'without'} histograms, ${runs} runs each`,
);
console.log(`metrics off: median ${median(off).toFixed(0)} ms (${rate(median(off))})`);
console.log(`metrics on:  median ${median(on).toFixed(0)} ms (${rate(median(on))})`);
console.log(
  `overhead: ${((median(on) / median(off) - 1) * 100).toFixed(1)}% (on/off ${(median(on) / median(off)).toFixed(3)})`,
);
// Each pair ran back to back, under the same load: the median of their ratios is the steadier figure.
const pairs = on.map((ms, i) => ms / off[i]!);
console.log(`median of the ${runs} paired ratios on/off: ${median(pairs).toFixed(3)}`);
console.log(
  `CPU time (all threads): off median ${median(cpu.off).toFixed(0)} ms, on median ${median(cpu.on).toFixed(0)} ms: on/off ${(median(cpu.on) / median(cpu.off)).toFixed(3)}`,
);
const cpuPairs = cpu.on.map((ms, i) => ms / cpu.off[i]!);
console.log(
  `median of the ${runs} paired CPU ratios on/off: ${median(cpuPairs).toFixed(3)} (${cpuPairs.map((r) => r.toFixed(2)).join(' ')})`,
);
