/**
 * Round-trip dispatches/second and no-wait events/second through 2 worker processes for a trivial
 * handler, over the hub's WebSocket (this package) and over child_process IPC (`process.send`, one
 * message per event and per reply), measured in the same run and reported as ratios. Both sides
 * run the same definition through core's TenantRuntime, so the difference is the transport.
 *
 * Besides throughput it reports the CPU time each event cost (master + workers, from
 * process.cpuUsage and /proc/<pid>/stat), which says more than wall time on a shared machine.
 *
 * Then the round-trip latency with one call in flight (p50 and p99, µs, and the CPU time per round
 * trip), hub against IPC, rounds interleaved.
 *
 * Run: pnpm --filter @switchyard/core build && pnpm build && pnpm bench
 * Knobs: BENCH_ROUNDS (7), BENCH_ROUND_TRIPS (40000), BENCH_NO_WAIT (200000), BENCH_LATENCY_TRIPS
 * (3000 per sample), BENCH_ONLY (`throughput`, `latency` or both, comma-separated; default both).
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TenantId } from '@switchyard/core';
import { MemoryKvStore, shardFor, tenantKey, tenantKv, TenantRuntime } from '@switchyard/core';
import { createProcessPool } from '../dist/index.js';
import { worker as trivial } from './fixtures/trivial.mjs';

const WORKERS = 2;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 40_000);
const NO_WAIT = Number(process.env.BENCH_NO_WAIT ?? 200_000);
const LATENCY_TRIPS = Number(process.env.BENCH_LATENCY_TRIPS ?? 3000);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'throughput,latency').split(','));
const IN_FLIGHT = [1, 16, 64, 256];
const EVENT = { type: 'inc' };
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

const tenants: TenantId[] = Array.from({ length: 64 }, (_, i) => ({
  kind: 'guild',
  id: ((BigInt(1_420_070_400_000 + i * 7919) << 22n) | 1n).toString(),
}));

interface Target {
  name: string;
  pids: number[];
  dispatch(tenant: TenantId): Promise<unknown>;
  dispatchNoWait(tenant: TenantId): void;
  close(): Promise<void>;
}

async function hubTarget(name: string, localSocket: boolean): Promise<Target> {
  const pool = await createProcessPool({
    workers: WORKERS,
    module: fixture('trivial.mjs'),
    hub: { logger: silent, localSocket },
    // The no-wait producer sends 10,000 events per turn; IPC queues without bound, so let the
    // master's buffer hold them too. maxInFlight keeps its default.
    maxBufferedEvents: 1_000_000,
  });
  return {
    name,
    pids: pool.workers.map((w) => w.pid!),
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
    const child = fork(fixture('ipc-child.mjs'), [String(i)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
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
    pids: children.map((c) => c.pid!),
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
          (child) => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.disconnect())),
        ),
      );
    },
  };
}

/** `total` waited dispatches with `inFlight` of them outstanding at any time. */
async function roundTrips(target: Target, total: number, inFlight: number): Promise<void> {
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < total) await target.dispatch(tenants[sent++ % tenants.length]!);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/** `total` no-wait events, then one waited dispatch per tenant (FIFO per tenant: all are done when these are). */
async function noWait(target: Target, total: number): Promise<void> {
  for (let i = 0; i < total; i++) {
    target.dispatchNoWait(tenants[i % tenants.length]!);
    // Let the transports write now and then, as a producer reading from a socket would.
    if (i % 10_000 === 9_999) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(tenants.map((tenant) => target.dispatch(tenant)));
}

/** CPU time (µs) a process used so far, from /proc (Linux). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100;
}

interface Sample {
  perSecond: number;
  masterCpu: number;
  workerCpu: number;
}

async function measure(target: Target, events: number, run: () => Promise<void>): Promise<Sample> {
  const master = process.cpuUsage();
  const workers = target.pids.map(cpuOf);
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(master);
  const workerCpu = target.pids.reduce((sum, pid, i) => sum + cpuOf(pid) - workers[i]!, 0);
  return { perSecond: events / seconds, masterCpu: (used.user + used.system) / events, workerCpu: workerCpu / events };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** CPU µs per event of TenantRuntime alone in this process, fed in batches as a worker is: the floor of the worker column. */
async function runtimeAlone(): Promise<number> {
  const store = new MemoryKvStore();
  const runtime = new TenantRuntime(trivial, { workerId: 0, kv: (tenant) => tenantKv(store, tenant) });
  await runtime.start();
  const samples: number[] = [];
  for (let round = 0; round < 6; round++) {
    const before = process.cpuUsage();
    for (let batch = 0; batch < 100; batch++) {
      const pending: Array<Promise<unknown>> = [];
      for (let i = 0; i < 2048; i++) pending.push(runtime.dispatch(tenants[i % 32]!, EVENT));
      await Promise.all(pending);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / (100 * 2048));
  }
  await runtime.close();
  return median(samples.slice(1));
}

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * Round-trip latency with one call in flight: `LATENCY_TRIPS` calls one after another, in µs,
 * sorted, and the CPU time (µs, master + workers) they cost per round trip.
 */
async function latencySample(target: Target): Promise<{ sorted: number[]; cpu: number }> {
  for (let i = 0; i < 300; i++) await target.dispatch(tenants[i % tenants.length]!);
  const samples: number[] = [];
  const master = process.cpuUsage();
  const workers = target.pids.map(cpuOf);
  for (let i = 0; i < LATENCY_TRIPS; i++) {
    const start = performance.now();
    await target.dispatch(tenants[i % tenants.length]!);
    samples.push((performance.now() - start) * 1000);
  }
  const used = process.cpuUsage(master);
  const workerCpu = target.pids.reduce((sum, pid, i) => sum + cpuOf(pid) - workers[i]!, 0);
  return { sorted: samples.sort((a, b) => a - b), cpu: (used.user + used.system + workerCpu) / LATENCY_TRIPS };
}

async function measureLatency(targets: Target[], ipc: Target): Promise<void> {
  const loadBefore = loadavg()[0]!.toFixed(1);
  const p50s = new Map<Target, number[]>(targets.map((t) => [t, []]));
  const p99s = new Map<Target, number[]>(targets.map((t) => [t, []]));
  const cpus = new Map<Target, number[]>(targets.map((t) => [t, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const target of order) {
      const { sorted, cpu } = await latencySample(target);
      p50s.get(target)!.push(sorted[Math.floor(sorted.length * 0.5)]!);
      p99s.get(target)!.push(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!);
      cpus.get(target)!.push(cpu);
    }
  }
  const ipcP50 = median(p50s.get(ipc)!);
  const ipcCpu = median(cpus.get(ipc)!);
  console.log(
    `\nLatency with one call in flight (${LATENCY_TRIPS} round trips per sample, medians of ${ROUNDS} samples, µs; load average ${loadBefore} → ${loadavg()[0]!.toFixed(1)})\n`,
  );
  // On a busy 2-CPU machine both processes of a round trip often share one CPU: the CPU time per
  // round trip is then what the latency is made of, and it moves less with the load than the p50.
  console.log('| transport | p50 | p99 | p50 vs IPC | CPU µs per round trip (master + workers) | CPU vs IPC |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const target of targets) {
    const p50 = median(p50s.get(target)!);
    const cpu = median(cpus.get(target)!);
    const versus = (value: number, base: number): string => (target === ipc ? '' : `${(value / base).toFixed(2)}x`);
    console.log(
      `| ${target.name} | ${p50.toFixed(0)} | ${median(p99s.get(target)!).toFixed(0)} | ${versus(p50, ipcP50)} | ${cpu.toFixed(1)} | ${versus(cpu, ipcCpu)} |`,
    );
  }
}

async function main(): Promise<void> {
  const targets = [await hubTarget('hub, Unix socket', true), await hubTarget('hub, TCP', false), await ipcTarget()];
  const ipc = targets[2]!;
  console.log(
    `${WORKERS} worker processes, trivial handler, ${ROUNDS} rounds (median), node ${process.version}, ${cpus().length} CPUs`,
  );
  if (ONLY.has('throughput')) await measureThroughput(targets, ipc);
  if (ONLY.has('latency')) await measureLatency(targets, ipc);
  await Promise.all(targets.map((t) => t.close()));
}

async function measureThroughput(targets: Target[], ipc: Target): Promise<void> {
  console.log(`load average at the start: ${loadavg()[0]!.toFixed(1)}`);
  const scenarios = [
    ...IN_FLIGHT.map((n) => {
      const total = n === 1 ? ROUND_TRIPS / 4 : ROUND_TRIPS;
      return { name: `round trips, ${n} in flight`, events: total, run: (t: Target) => roundTrips(t, total, n) };
    }),
    { name: 'no-wait events', events: NO_WAIT, run: (t: Target) => noWait(t, NO_WAIT) },
  ];
  for (const scenario of scenarios) for (const target of targets) await scenario.run(target); // warm-up
  const rows: string[] = [];
  for (const scenario of scenarios) {
    const samples = new Map<Target, Sample[]>(targets.map((t) => [t, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so that no side always runs first.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const target of order)
        samples.get(target)!.push(await measure(target, scenario.events, () => scenario.run(target)));
    }
    const summary = (t: Target) => ({
      perSecond: median(samples.get(t)!.map((s) => s.perSecond)),
      cpu: median(samples.get(t)!.map((s) => s.masterCpu)) + median(samples.get(t)!.map((s) => s.workerCpu)),
      master: median(samples.get(t)!.map((s) => s.masterCpu)),
      worker: median(samples.get(t)!.map((s) => s.workerCpu)),
    });
    const base = summary(ipc);
    for (const target of targets) {
      const s = summary(target);
      const ratio = target === ipc ? '' : `${(s.perSecond / base.perSecond).toFixed(2)}x`;
      rows.push(
        `| ${scenario.name} | ${target.name} | ${format(s.perSecond)} | ${ratio} | ${s.master.toFixed(1)} + ${s.worker.toFixed(1)} = ${s.cpu.toFixed(1)} |`,
      );
    }
  }
  console.log('\n| scenario | transport | events/s | vs IPC | CPU µs per event (master + workers) |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
  console.log(
    `\nTenantRuntime alone, in this process, fed 2048 events per turn: ${(await runtimeAlone()).toFixed(1)} µs CPU per event (the floor of the workers' share).`,
  );
}

await main();
