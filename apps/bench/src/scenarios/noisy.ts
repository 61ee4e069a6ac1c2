import { setTimeout as sleep } from 'node:timers/promises';
import type { TenantId, TenantLimits } from '@switchyard/core';
import { createThreadPool } from '@switchyard/pool-thread';
import { CheckFailedError } from '../harness/errors.js';
import type { ContenderPlan, ContenderRun, ScenarioFactory } from '../harness/Scenario.js';
import { percentiles } from '../harness/stats.js';
import { fixture, makeTenants } from './payloads.js';

/** CPU each event costs in the worker. */
const COST_US = 40;
/** The well-behaved tenants, each sending at {@link NORMAL_PER_TENANT_PER_S}. */
const NORMAL_TENANTS = 20;
const NORMAL_PER_TENANT_PER_S = 100;
/** The flooder sends 10x what all the others send together. */
const FLOOD_FACTOR = 10;
const NORMAL_PER_MS = (NORMAL_TENANTS * NORMAL_PER_TENANT_PER_S) / 1000;
const FLOOD_PER_MS = NORMAL_PER_MS * FLOOD_FACTOR;
/** The budget every tenant gets in the guarded contender: 5x a normal tenant's rate, 32 unfinished. */
const LIMITS: TenantLimits = { maxQueued: 32, rate: { per: NORMAL_PER_TENANT_PER_S * 5, intervalMs: 1000 } };

type Pool = Awaited<ReturnType<typeof createThreadPool>>;

interface Phase {
  /** The normal tenants' latencies (µs). */
  samples: number[];
  /** Flood events refused by the flooder's budget. */
  refused: number;
}

/**
 * One phase of open-loop traffic: the normal tenants send their events at their rate (each
 * timed from the call to its answer), and with `flood` the flooder sends 10x as many with
 * `dispatchNoWait`. Waits for everything accepted to finish.
 */
async function phase(pool: Pool, ms: number, flood: boolean, normals: TenantId[], flooder: TenantId): Promise<Phase> {
  const samples: number[] = [];
  let refused = 0;
  const onRefused = (): void => void refused++;
  pool.on('dispatchError', onRefused);
  const pending: Promise<void>[] = [];
  const event = { costUs: COST_US };
  const start = performance.now();
  let normalSent = 0;
  let floodSent = 0;
  for (let now = start; now < start + ms; now = performance.now()) {
    const normalDue = Math.floor((now - start) * NORMAL_PER_MS);
    for (; normalSent < normalDue; normalSent++) {
      const sentAt = performance.now();
      pending.push(
        pool.dispatch(normals[normalSent % normals.length]!, event as never).then(() => {
          samples.push((performance.now() - sentAt) * 1000);
        }),
      );
    }
    if (flood) {
      const floodDue = Math.floor((now - start) * FLOOD_PER_MS);
      for (; floodSent < floodDue; floodSent++) pool.dispatchNoWait(flooder, event as never);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // A normal tenant's refusal would be a failure of the scenario: Promise.all rethrows it.
  await Promise.all(pending);
  // Let the flooder's backlog drain, so that the next phase starts from an idle worker.
  while (pool.stats().queued > 0) await sleep(2);
  pool.off('dispatchError', onRefused);
  return { samples, refused };
}

function contender(name: string, limits: TenantLimits | undefined): ContenderPlan {
  const ratios: number[] = [];
  const quietP99: number[] = [];
  const floodedP99: number[] = [];
  let refusedPerFloodSecond = 0;
  let runs = 0;
  return {
    name,
    kind: 'switchyard',
    async start(): Promise<ContenderRun> {
      const pool = await createThreadPool({
        workers: 1,
        filename: fixture('noisy-worker.mjs'),
        ...(limits === undefined ? {} : { tenantLimits: limits }),
      });
      const tenants = makeTenants(NORMAL_TENANTS + 1, 50_000);
      const flooder = tenants.pop()!;
      return {
        async check() {
          const counts = await Promise.all(tenants.map((tenant) => pool.dispatch(tenant, { costUs: 1 } as never)));
          if (counts.some((count) => count !== 1))
            throw new CheckFailedError(
              `${name}: expected every tenant's first event to count 1, got ${counts.join(',')}.`,
            );
        },
        async run(ms) {
          // The same run measures the quiet worker and the flooded one: their p99s are a per-round ratio.
          const quiet = await phase(pool, ms / 2, false, tenants, flooder);
          const flooded = await phase(pool, ms / 2, true, tenants, flooder);
          // The first run is the harness's warm-up: not recorded.
          if (runs++ > 0) {
            const q = percentiles(quiet.samples).p99;
            const f = percentiles(flooded.samples).p99;
            quietP99.push(q);
            floodedP99.push(f);
            ratios.push(f / q);
            refusedPerFloodSecond = flooded.refused / (ms / 2 / 1000);
          }
          return {
            ops: quiet.samples.length + flooded.samples.length,
            latenciesUs: Float64Array.from(flooded.samples),
          };
        },
        async metrics() {
          const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN;
          return {
            quietP99Us: median(quietP99),
            floodedP99Us: median(floodedP99),
            floodedToQuietP99: median(ratios),
            floodRefusedPerSecond: refusedPerFloodSecond,
          };
        },
        close: () => pool.close(),
      };
    },
  };
}

/** Scenario: one tenant floods at 10x everyone else; per-tenant budgets keep the others' p99. */
export const noisyScenario: ScenarioFactory = () => ({
  id: 'noisy',
  title: 'A noisy tenant: one tenant floods at 10x everyone else',
  description:
    `1 thread; ${NORMAL_TENANTS} tenants send ${NORMAL_PER_TENANT_PER_S} events/s each (open loop, waited, timed), ` +
    `one more sends ${FLOOD_FACTOR}x all of them together (dispatchNoWait); every event costs ${COST_US} µs of CPU. ` +
    'Each round measures the same pool quiet, then flooded: floodedToQuietP99 is the median per-round ratio of the ' +
    `others' p99 latency flooded to quiet (goal with tenantLimits: at most 2). tenantLimits: maxQueued ${LIMITS.maxQueued}, ` +
    `rate ${LIMITS.rate!.per}/s per tenant. Latency columns: the flooded phase.`,
  groups: [
    {
      id: 'noisy-threads',
      title: '1 thread, 20 tenants + 1 flooder',
      kind: 'latency',
      unit: 'events',
      reference: 'Switchyard thread, tenantLimits',
      contenders: [
        contender('Switchyard thread, tenantLimits', LIMITS),
        contender('Switchyard thread, no per-tenant limit', undefined),
      ],
      msFactor: 5,
    },
  ],
});
