import type { TenantId } from '@switchyard/core';
import { MemoryKvStore, TenantRuntime, tenantKv } from '@switchyard/core';
import { createThreadPool } from '@switchyard/pool-thread';
import type { ContenderPlan, ContenderRun, ScenarioFactory } from '../harness/Scenario.js';
import { closedLoop } from './loops.js';
import { fixture, makeTenants, TRIVIAL } from './payloads.js';
import { checkSwitchyardPool } from './threads.js';

const CALLERS = 64;

/**
 * Heap bytes per idle tenant in this thread: core's TenantRuntime (what runs inside each worker)
 * with the bench's handler, `count` tenants each given one event, heap measured after full GCs.
 * Needs `--expose-gc` (the `start` script passes it); without it, `undefined`.
 */
export async function heapPerIdleTenant(count: number): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  const { worker } = (await import(fixture('switchyard-worker.mjs'))) as {
    worker: ConstructorParameters<typeof TenantRuntime>[0];
  };
  const store = new MemoryKvStore();
  const runtime = new TenantRuntime(worker, { workerId: 0, kv: (tenant) => tenantKv(store, tenant) });
  await runtime.start();
  const tenants = makeTenants(count, 10_000_000);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i += 1_000) {
    await Promise.all(tenants.slice(i, i + 1_000).map((tenant) => runtime.dispatch(tenant, 1)));
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  // Keep the tenant ids alive until after the measurement: they are the caller's, not the runtime's.
  const perTenant = (after - before) / count;
  tenants.length = 0;
  await runtime.close();
  return perTenant;
}

function contender(tenantCount: number, measureHeap: boolean): ContenderPlan {
  const name = `Switchyard dispatch, ${CALLERS} callers over ${tenantCount.toLocaleString('en-US')} tenant${tenantCount > 1 ? 's' : ''}`;
  return {
    name,
    kind: 'switchyard',
    async start(): Promise<ContenderRun> {
      const pool = await createThreadPool<never>({ workers: 2, filename: fixture('switchyard-worker.mjs') });
      const tenants: TenantId[] = makeTenants(tenantCount);
      const step = tenantCount > 1 ? 104_729 % tenantCount || 1 : 0;
      return {
        check: () => checkSwitchyardPool(name, pool as never, TRIVIAL),
        run: async (ms) => ({
          ops: await closedLoop(ms, CALLERS, (caller, i) =>
            pool.dispatch(tenants[(caller * 7919 + i * step) % tenantCount]! as never, i as never),
          ),
        }),
        async metrics() {
          if (!measureHeap) return {};
          const heap = await heapPerIdleTenant(Math.min(tenantCount, 100_000));
          return heap === undefined || tenantCount < 1_000 ? {} : { heapBytesPerIdleTenant: heap };
        },
        close: () => pool.close(),
      };
    },
  };
}

/** Scenario 4: throughput as the tenant count grows, and what an idle tenant costs in memory. */
export const tenantsScenario: ScenarioFactory = ({ quick }) => ({
  id: 'tenants',
  title: 'Tenants: 1 vs 1,000 vs 100,000',
  description:
    `${CALLERS} callers on 2 threads, events spread over 1, 1,000 or 100,000 tenants (each tenant has its own state in its thread). ` +
    'Heap per idle tenant: core’s TenantRuntime (what runs in each worker) holding that many tenants, after full GCs, in the main thread.',
  groups: [
    {
      id: 'tenants',
      title: '2 threads, 64 callers',
      kind: 'throughput',
      unit: 'events',
      reference: contender(1_000, false).name,
      // --quick checks answers only: no heap measurement.
      contenders: [contender(1, !quick), contender(1_000, !quick), contender(100_000, !quick)],
    },
  ],
});
