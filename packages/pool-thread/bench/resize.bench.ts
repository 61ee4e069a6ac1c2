/**
 * Live resharding pause: a thread pool of 2 workers whose N tenants all hold state is resized to 3
 * while 64 callers keep dispatching round-robin over every tenant. The pause is the longest delay
 * any dispatch saw while the resize ran, compared with the longest one in a window of the same
 * traffic just before (the peer in the same run). N = 1,000 and 100,000.
 *
 *   pnpm --filter @switchyard/pool-thread exec tsx bench/resize.bench.ts [--tenants 1000,100000]
 */
import { parseArgs } from 'node:util';
import type { ResizeInfo, TenantId } from '@switchyard/core';
import { fixtures, guild } from '@switchyard/topology-suite';
import { createThreadPool } from '../src/index.js';

const { values } = parseArgs({ options: { tenants: { type: 'string', default: '1000,100000' } } });
const LANES = 64;

interface Window {
  max: number;
  p99: number;
  count: number;
}

function summary(latencies: number[]): Window {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    max: sorted.at(-1) ?? 0,
    p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
    count: sorted.length,
  };
}

async function measure(count: number): Promise<{ baseline: Window; during: Window; info: ResizeInfo }> {
  const pool = await createThreadPool<any>({ workers: 2, filename: fixtures.basic, maxQueue: 1_000_000 });
  const tenants: TenantId[] = Array.from({ length: count }, (_, i) => guild(Math.floor(i / 4), (i % 4) + 1));
  // Every tenant gets its state.
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < count) await pool.dispatch(tenants[next++]!, { type: 'count' });
    }),
  );
  let phase: 'baseline' | 'during' | 'stop' = 'baseline';
  const latencies = { baseline: [] as number[], during: [] as number[] };
  let cursor = 0;
  const lanes = Array.from({ length: LANES }, async () => {
    while (phase !== 'stop') {
      const tenant = tenants[cursor++ % count]!;
      const issued = performance.now();
      const seenIn = phase;
      await pool.dispatch(tenant, { type: 'count' });
      latencies[seenIn].push(performance.now() - issued);
    }
  });
  // A baseline window of the same traffic, as long as the resize will roughly take (at least 1 s).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  phase = 'during';
  const info = await pool.resize(3);
  phase = 'stop';
  await Promise.all(lanes);
  await pool.close();
  return { baseline: summary(latencies.baseline), during: summary(latencies.during), info };
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;
const results: Array<[number, Awaited<ReturnType<typeof measure>>]> = [];
for (const count of values.tenants.split(',').map(Number)) {
  const result = await measure(count);
  results.push([count, result]);
  const { baseline, during, info } = result;
  console.log(
    `${count.toLocaleString('en-US')} tenants, 2 → 3 threads: moved ${info.moved.toLocaleString('en-US')} in ${ms(info.durationMs)}; ` +
      `longest delay during the resize ${ms(during.max)} (p99 ${ms(during.p99)}, ${during.count} dispatches) vs ${ms(baseline.max)} before (p99 ${ms(baseline.p99)}): ` +
      `${(during.max / baseline.max).toFixed(1)}x; longest hold in the pool ${ms(info.longestHoldMs)}`,
  );
}
if (results.length === 2) {
  const [[a, ra], [b, rb]] = results as [[number, (typeof results)[0][1]], [number, (typeof results)[0][1]]];
  console.log(
    `pause with ${b.toLocaleString('en-US')} tenants / with ${a.toLocaleString('en-US')}: ${(rb.during.max / ra.during.max).toFixed(1)}x`,
  );
}
