import type { WorkerCrashInfo, WorkerDefinition } from '@switchyard/core';
import { LocalWorker, MemoryKvStore, shardFor, WorkerPool } from '@switchyard/core';
import { createThreadPool } from '@switchyard/pool-thread';
import { fixtures, guild, guildOn } from '@switchyard/topology-suite';
import type { SuiteEvent } from '@switchyard/topology-suite';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../../src/index.js';

const { worker: basic } = (await import(pathToFileURL(fixtures.basic).href)) as {
  worker: WorkerDefinition<unknown, SuiteEvent, unknown>;
};

const opened: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

async function localPool(size: number): Promise<WorkerPool<LocalWorker<unknown, SuiteEvent, unknown>>> {
  const store = new MemoryKvStore();
  const pool = await WorkerPool.create(size, (id) => new LocalWorker(basic, { id, store }));
  opened.push(pool);
  return pool;
}

function metricsFor(target: WorkerPool<any>, pool = 'test'): { registry: Registry; metrics: WorkerMetrics } {
  const registry = new Registry();
  const metrics = new WorkerMetrics(target, { registry, pool });
  opened.push(metrics);
  return { registry, metrics };
}

/** The value of one series, by metric name and labels (`undefined` when absent). */
async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string | number>,
): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name.replace(/_(count|sum|bucket)$/, ''));
  const series = (metric?.values ?? []) as Array<{
    metricName?: string;
    labels: Record<string, unknown>;
    value: number;
  }>;
  return series.find(
    (s) =>
      (s.metricName ?? metric!.name) === name &&
      Object.entries(labels).every(([key, v]) => String(s.labels[key]) === String(v)),
  )?.value;
}

describe('WorkerMetrics', () => {
  it("reads each worker's tenants, queue, handled, failed and state when scraped", async () => {
    const pool = await localPool(2);
    const { registry } = metricsFor(pool);
    const a = guildOn(0, 2);
    const b = guildOn(1, 2);
    for (let i = 0; i < 5; i++) await pool.dispatch(a, { type: 'count' });
    await pool.dispatch(b, { type: 'count' });
    await expect(pool.dispatch(b, { type: 'throw-plain', message: 'x' })).rejects.toThrow('x');
    expect(await value(registry, 'switchyard_worker_handled_total', { pool: 'test', worker: 0 })).toBe(5);
    expect(await value(registry, 'switchyard_worker_handled_total', { pool: 'test', worker: 1 })).toBe(2);
    expect(await value(registry, 'switchyard_worker_failed_total', { worker: 1 })).toBe(1);
    expect(await value(registry, 'switchyard_worker_tenants', { worker: 0 })).toBe(1);
    expect(await value(registry, 'switchyard_worker_queued', { worker: 0 })).toBe(0);
    expect(await value(registry, 'switchyard_worker_state', { worker: 0, state: 'local' })).toBe(1);
    expect(await value(registry, 'switchyard_worker_state', { worker: 0, state: 'running' })).toBe(0);
    expect(await value(registry, 'switchyard_pool_workers', { pool: 'test' })).toBe(2);
    // Counters only grow: a second scrape adds what is new.
    await pool.dispatch(a, { type: 'count' });
    expect(await value(registry, 'switchyard_worker_handled_total', { worker: 0 })).toBe(6);
    const text = await registry.metrics();
    expect(text).toContain('switchyard_dispatch_queue_wait_seconds_bucket');
  });

  it("observes queue wait and handling time of this pool's dispatches only", async () => {
    const pool = await localPool(2);
    const other = await localPool(1);
    const { registry } = metricsFor(pool);
    const a = guildOn(1, 2);
    for (let i = 0; i < 7; i++) await pool.dispatch(a, { type: 'count' });
    pool.dispatchNoWait(a, { type: 'count' });
    await expect(pool.dispatch(a, { type: 'throw-plain', message: 'counted too' })).rejects.toThrow();
    for (let i = 0; i < 3; i++) await other.dispatch(a, { type: 'count' });
    for (const name of ['switchyard_dispatch_queue_wait_seconds_count', 'switchyard_dispatch_handling_seconds_count']) {
      expect(await value(registry, name, { pool: 'test', worker: 1 })).toBe(9);
      expect(await value(registry, name, { pool: 'test', worker: 0 })).toBeUndefined();
    }
    // Cumulative buckets: the last (+Inf) holds every observation, none is below 0.
    expect(await value(registry, 'switchyard_dispatch_handling_seconds_bucket', { worker: 1, le: '+Inf' })).toBe(9);
    const sum = await value(registry, 'switchyard_dispatch_handling_seconds_sum', { worker: 1 });
    expect(sum).toBeGreaterThan(0);
  });

  it.each(['local', 'thread'] as const)(
    'counts the wait behind a tenant’s earlier event as queue wait, not handling time (%s); a call that never ran has queue wait only',
    async (topology) => {
      const pool =
        topology === 'local'
          ? await localPool(1)
          : await createThreadPool<any>({ workers: 1, filename: fixtures.basic });
      if (topology === 'thread') opened.push(pool);
      const { registry } = metricsFor(pool as WorkerPool<any>);
      const a = guild(1);
      const waiting = pool.dispatch(a, { type: 'wait', key: `metrics-queue-${topology}` });
      const queued = pool.dispatch(a, { type: 'count' });
      const controller = new AbortController();
      const aborted = pool.dispatch(a, { type: 'count' }, { signal: controller.signal });
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
      await pool.dispatch(guild(2), { type: 'release', key: `metrics-queue-${topology}` });
      await expect(waiting).resolves.toBe('released');
      await expect(queued).resolves.toBe(1);
      // Handled: the release, the waiting event and the one queued behind it; the aborted one only waited.
      expect(await value(registry, 'switchyard_dispatch_handling_seconds_count', { worker: 0 })).toBe(3);
      expect(await value(registry, 'switchyard_dispatch_queue_wait_seconds_count', { worker: 0 })).toBe(4);
    },
  );

  it('counts resizes and moved tenants, and follows the workers a resize adds', async () => {
    const pool = await localPool(2);
    const { registry } = metricsFor(pool);
    const tenants = Array.from({ length: 50 }, (_, i) => guild(i * 7, i + 1));
    for (const tenant of tenants) await pool.dispatch(tenant, { type: 'count' });
    const info = await pool.resize(3);
    expect(info.moved).toBe(tenants.filter((t) => shardFor(t.id, 2) !== shardFor(t.id, 3)).length);
    expect(await value(registry, 'switchyard_resizes_total', { pool: 'test' })).toBe(1);
    expect(await value(registry, 'switchyard_resize_moved_tenants_total', { pool: 'test' })).toBe(info.moved);
    expect(await value(registry, 'switchyard_pool_workers', { pool: 'test' })).toBe(3);
    const onNew = tenants.find((t) => shardFor(t.id, 3) === 2)!;
    await pool.dispatch(onNew, { type: 'count' });
    expect(await value(registry, 'switchyard_worker_handled_total', { worker: 2 })).toBe(1);
    expect(await value(registry, 'switchyard_dispatch_handling_seconds_count', { worker: 2 })).toBe(1);
  });

  it('counts crashes and restarts of thread workers', async () => {
    const pool = await createThreadPool<any>({ workers: 1, filename: fixtures.basic, restart: { backoff: () => 0 } });
    opened.push(pool);
    const { registry } = metricsFor(pool);
    const crashed = new Promise<WorkerCrashInfo>((resolve) => pool.once('crash', resolve));
    await expect(pool.dispatch(guild(1), { type: 'exit' })).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    await crashed;
    await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
    expect(await value(registry, 'switchyard_worker_crashes_total', { worker: 0 })).toBe(1);
    expect(await value(registry, 'switchyard_worker_restarts_total', { worker: 0 })).toBe(1);
    expect(await value(registry, 'switchyard_worker_state', { worker: 0, state: 'running' })).toBe(1);
    expect(await value(registry, 'switchyard_worker_in_flight', { worker: 0 })).toBe(0);
  });

  it('counts broadcast outcomes through its hook, and rejects bad counts and options with ERR_INVALID_ARGUMENT', async () => {
    const pool = await localPool(1);
    const { registry, metrics } = metricsFor(pool);
    metrics.countBroadcast({ fulfilled: 3, rejected: 1 });
    metrics.countBroadcast({ fulfilled: 1, rejected: 0 });
    expect(await value(registry, 'switchyard_broadcasts_total', { outcome: 'fulfilled' })).toBe(4);
    expect(await value(registry, 'switchyard_broadcasts_total', { outcome: 'rejected' })).toBe(1);
    for (const bad of [null, { fulfilled: -1, rejected: 0 }, { fulfilled: 1.5, rejected: 0 }])
      expect(() => metrics.countBroadcast(bad as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    for (const options of [
      { registry: {} },
      { prefix: 'no spaces' },
      { pool: 1 },
      { buckets: [] },
      { buckets: [0.1, -1] },
      { timings: 'yes' },
    ])
      expect(() => new WorkerMetrics(pool, options as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    expect(() => new WorkerMetrics({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('with timings: false, registers no histograms and still reads every counter', async () => {
    const pool = await localPool(1);
    const registry = new Registry();
    opened.push(new WorkerMetrics(pool, { registry, pool: 'test', timings: false }));
    await pool.dispatch(guild(1), { type: 'count' });
    await expect(pool.dispatch(guild(1), { type: 'throw-plain', message: 'counted' })).rejects.toThrow();
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('switchyard_worker_handled_total');
    expect(names.filter((name) => name.startsWith('switchyard_dispatch_'))).toEqual([]);
    expect(await value(registry, 'switchyard_worker_handled_total', { worker: 0 })).toBe(2);
    expect(await value(registry, 'switchyard_worker_failed_total', { worker: 0 })).toBe(1);
  });

  it('unregisters everything and stops observing on close()', async () => {
    const pool = await localPool(1);
    const registry = new Registry();
    const metrics = new WorkerMetrics(pool, { registry, prefix: 'bot_' });
    await pool.dispatch(guild(1), { type: 'count' });
    expect(await value(registry, 'bot_dispatch_handling_seconds_count', { worker: 0 })).toBe(1);
    metrics.close();
    metrics.close();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    // A new collector starts from nothing: the closed one no longer observes.
    const again = new WorkerMetrics(pool, { registry, prefix: 'bot_' });
    opened.push(again);
    await pool.dispatch(guild(1), { type: 'count' });
    expect(await value(registry, 'bot_dispatch_handling_seconds_count', { worker: 0 })).toBe(1);
  });
});
