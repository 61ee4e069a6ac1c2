import type { ResizeInfo, TenantId, WorkerLike } from '@switchyard/core';
import type { SuiteEvent } from './fixtures/basic.js';
import { guild } from './tenants.js';

/** A pool of the suite's fixture worker that can be resized. */
export type ResizablePool = WorkerLike<SuiteEvent, unknown> & { resize(size: number): Promise<ResizeInfo> };

/** Latencies of one window of traffic. */
export interface LatencyWindow {
  max: number;
  p99: number;
  count: number;
}

/** What {@link measureResizePause} measured for one tenant count. */
export interface ResizePause {
  tenants: number;
  baseline: LatencyWindow;
  during: LatencyWindow;
  info: ResizeInfo;
}

function summary(latencies: number[]): LatencyWindow {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { max: sorted.at(-1) ?? 0, p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0, count: sorted.length };
}

/**
 * The resize pause benchmark, the same for every topology: a pool of 2 whose `count` tenants all
 * hold state is resized to 3 while `lanes` callers keep dispatching round-robin over every tenant.
 * The pause is the longest delay any dispatch saw while the resize ran; the peer is the longest one
 * in a second of the same traffic just before.
 */
export async function measureResizePause(
  create: () => Promise<ResizablePool>,
  count: number,
  lanes = 64,
): Promise<ResizePause> {
  const pool = await create();
  const tenants: TenantId[] = Array.from({ length: count }, (_, i) => guild(Math.floor(i / 4), (i % 4) + 1));
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < count) await pool.dispatch(tenants[next++]!, { type: 'count' });
    }),
  );
  let phase: 'baseline' | 'during' | 'stop' = 'baseline';
  const latencies = { baseline: [] as number[], during: [] as number[] };
  let cursor = 0;
  const callers = Array.from({ length: lanes }, async () => {
    while (phase !== 'stop') {
      // A LocalWorker answers in microtasks: let timers (the baseline's end) run now and then.
      if (cursor % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
      const tenant = tenants[cursor++ % count]!;
      const issued = performance.now();
      const seenIn: string = phase;
      await pool.dispatch(tenant, { type: 'count' });
      if (seenIn === 'baseline' || seenIn === 'during') latencies[seenIn].push(performance.now() - issued);
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  phase = 'during';
  const info = await pool.resize(3);
  phase = 'stop';
  await Promise.all(callers);
  await pool.close();
  return { tenants: count, baseline: summary(latencies.baseline), during: summary(latencies.during), info };
}

/** One line per measurement, and the ratio of the pauses of the last and the first tenant count. */
export function reportResizePauses(topology: string, results: readonly ResizePause[]): string {
  const ms = (n: number): string => `${n.toFixed(1)} ms`;
  const lines = results.map(
    ({ tenants, baseline, during, info }) =>
      `${topology}, ${tenants.toLocaleString('en-US')} tenants, 2 → 3: moved ${info.moved.toLocaleString('en-US')} in ${ms(info.durationMs)}; ` +
      `longest delay during the resize ${ms(during.max)} (p99 ${ms(during.p99)}, ${during.count} dispatches) vs ${ms(baseline.max)} before (p99 ${ms(baseline.p99)}): ` +
      `${(during.max / baseline.max).toFixed(1)}x; longest hold in the pool ${ms(info.longestHoldMs)}`,
  );
  if (results.length > 1) {
    const first = results[0]!;
    const last = results.at(-1)!;
    lines.push(
      `${topology}: pause with ${last.tenants.toLocaleString('en-US')} tenants / with ${first.tenants.toLocaleString('en-US')}: ${(last.during.max / first.during.max).toFixed(1)}x`,
    );
  }
  return lines.join('\n');
}
