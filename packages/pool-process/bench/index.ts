/**
 * Round-trip dispatches/second and no-wait events/second through 2 worker processes for a trivial
 * handler, over the hub's WebSocket (this package) and over child_process IPC (process.send, one
 * message per event), measured in the same run and reported as ratios. Both sides run the same
 * definition through core's TenantRuntime, so the difference is the transport.
 *
 * Run: pnpm --filter @switchyard/core build && pnpm build && pnpm bench
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TenantId } from '@switchyard/core';
import { shardFor, tenantKey } from '@switchyard/core';
import { createProcessPool } from '../dist/index.js';

const WORKERS = 2;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 40_000);
const NO_WAIT = Number(process.env.BENCH_NO_WAIT ?? 200_000);
const IN_FLIGHT = [1, 16, 256];
const EVENT = { type: 'inc' };
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

const tenants: TenantId[] = Array.from({ length: 64 }, (_, i) => ({ kind: 'guild', id: ((BigInt(1_420_070_400_000 + i * 7919) << 22n) | 1n).toString() }));

interface Target {
  name: string;
  dispatch(tenant: TenantId): Promise<unknown>;
  dispatchNoWait(tenant: TenantId): void;
  close(): Promise<void>;
}

async function processTarget(): Promise<Target> {
  const pool = await createProcessPool({ workers: WORKERS, module: fixture('trivial.mjs'), hub: { logger: silent }, maxBufferedEvents: 1_000_000, maxInFlight: 1_000_000 });
  return {
    name: 'hub (ws)',
    dispatch: (tenant) => pool.dispatch(tenant, EVENT),
    dispatchNoWait: (tenant) => pool.dispatchNoWait(tenant, EVENT),
    close: () => pool.close(),
  };
}

async function ipcTarget(): Promise<Target> {
  const children: ChildProcess[] = [];
  const pending = new Map<number, (value: unknown) => void>();
  let ids = 0;
  for (let i = 0; i < WORKERS; i++) {
    const child = fork(fixture('ipc-child.mjs'), [String(i)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    child.on('message', (message: [string, number, unknown]) => {
      const resolve = pending.get(message[1]);
      pending.delete(message[1]);
      resolve?.(message[2]);
    });
    await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
    children.push(child);
  }
  const childFor = (tenant: TenantId): ChildProcess => children[shardFor(tenant.id, WORKERS)]!;
  return {
    name: 'IPC (process.send)',
    dispatch: (tenant) =>
      new Promise((resolve) => {
        const id = ++ids;
        pending.set(id, resolve);
        childFor(tenant).send(['d', id, tenantKey(tenant), EVENT]);
      }),
    dispatchNoWait: (tenant) => {
      childFor(tenant).send(['n', 0, tenantKey(tenant), EVENT]);
    },
    close: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once('exit', () => resolve());
              child.disconnect();
            }),
        ),
      );
    },
  };
}

/** `total` waited dispatches with `inFlight` of them outstanding at any time. */
async function roundTrips(target: Target, total: number, inFlight: number): Promise<number> {
  const started = performance.now();
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < total) {
      const tenant = tenants[sent++ % tenants.length]!;
      await target.dispatch(tenant);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return total / ((performance.now() - started) / 1000);
}

/** `total` no-wait events, then one waited dispatch per tenant (FIFO per tenant: all are done when these are). */
async function noWait(target: Target, total: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    target.dispatchNoWait(tenants[i % tenants.length]!);
    // Let the transports write now and then, as a producer reading from a socket would.
    if (i % 10_000 === 9_999) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(tenants.map((tenant) => target.dispatch(tenant)));
  return total / ((performance.now() - started) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const hub = await processTarget();
  const ipc = await ipcTarget();
  const targets = [hub, ipc];
  const scenarios = [...IN_FLIGHT.map((n) => ({ name: `round trips, ${n} in flight`, run: (t: Target) => roundTrips(t, n === 1 ? ROUND_TRIPS / 4 : ROUND_TRIPS, n) })), { name: 'no-wait events', run: (t: Target) => noWait(t, NO_WAIT) }];
  console.log(`${WORKERS} worker processes, trivial handler, ${ROUNDS} rounds (median), node ${process.version}`);
  // Warm-up: every scenario once on each side.
  for (const scenario of scenarios) for (const target of targets) await scenario.run(target);
  const rows: Array<{ scenario: string; hub: number; ipc: number }> = [];
  for (const scenario of scenarios) {
    const samples = new Map<Target, number[]>(targets.map((t) => [t, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so that neither side always runs on a warmer machine.
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) samples.get(target)!.push(await scenario.run(target));
    }
    rows.push({ scenario: scenario.name, hub: median(samples.get(hub)!), ipc: median(samples.get(ipc)!) });
  }
  console.log('\n| scenario | hub (ws), /s | IPC (process.send), /s | ratio |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of rows) console.log(`| ${row.scenario} | ${format(row.hub)} | ${format(row.ipc)} | ${(row.hub / row.ipc).toFixed(2)}x |`);
  await Promise.all(targets.map((t) => t.close()));
}

await main();
