/**
 * Events per second through `WorkerPool<ThreadWorker>` with 2 threads and a trivial handler,
 * waited (`dispatch` with C concurrent callers) and not waited (`dispatchNoWait`), next to raw
 * piscina `run()` and tinypool `run()` of the same trivial task on 2 threads, in one run; then
 * ~1 KB events, 100,000 tenants, latency with one call in flight, and the heap an idle tenant costs.
 *
 * Run: `pnpm --filter @switchyard/pool-thread bench` (builds first under turbo; or `pnpm build && pnpm bench`).
 * Options: `--callers=64` (concurrent callers), `--runs=7`, `--ms=700` (length of one run),
 * `--trips=5000` (round trips per latency sample), `--only=small,kb,tenants,latency,heap` (parts to run).
 *
 * Each subject is warmed up, then measured `runs` times, interleaved with the other subjects
 * (round-robin, so a slow phase of this shared machine hits all of them); figures are medians.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import type { TenantId, WorkerPool } from '@switchyard/core';
import { shardFor } from '@switchyard/core';
import type { ThreadWorker, ThreadWorkerOptions } from '../src/index.js';
import { createThreadPool } from '../src/index.js';

const arg = (name: string, fallback: number): number => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
};
const CALLERS = arg('callers', 64);
const RUNS = arg('runs', 7);
const MS = arg('ms', 700);
const THREADS = 2;
const WORKER = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));
const TASK = fileURLToPath(new URL('./fixtures/task.mjs', import.meta.url));
const FLOOD = 20_000;
const TRIPS = arg('trips', 5000);
/** Which parts to run: `--only=small,kb,tenants,latency,heap` (default: all). */
const ONLY = new Set(
  (process.argv.find((a) => a.startsWith('--only='))?.slice(7) ?? 'small,kb,tenants,latency,heap').split(','),
);
/** A ~1 KB event, shaped like a small Discord message. */
const KB_EVENT = {
  type: 'MESSAGE_CREATE',
  n: 1,
  channelId: '1420070400000000001',
  author: { id: '1420070400000000002', username: 'someone', bot: false },
  content: 'x'.repeat(860),
};

/** Tenants created at different milliseconds, so they spread over both threads. */
const tenants: TenantId[] = Array.from({ length: 1000 }, (_, i) => ({
  kind: 'guild',
  id: ((BigInt(1_420_070_400_000 + i) << 22n) | 1n).toString(),
}));

/** 100,000 tenants spread over the shards, for the no-wait rate at scale. */
const manyTenants: TenantId[] = Array.from({ length: 100_000 }, (_, i) => ({
  kind: 'guild',
  id: ((BigInt(1_420_070_400_000 + i) << 22n) | 1n).toString(),
}));

interface Subject {
  readonly name: string;
  /** Runs for about `ms` and returns how many events or tasks completed. */
  run(ms: number): Promise<number>;
  close(): Promise<void>;
}

/** `callers` loops, each awaiting one call after the other until the deadline. */
async function closedLoop(
  ms: number,
  callers: number,
  call: (caller: number, i: number) => Promise<unknown>,
): Promise<number> {
  const deadline = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await call(caller, i);
        done++;
      }
    }),
  );
  return done;
}

function piscinaSubject(
  name: string,
  options: ConstructorParameters<typeof Piscina>[0] = {},
  event: unknown = 1,
): Subject {
  const pool = new Piscina({ filename: TASK, name: 'task', minThreads: THREADS, maxThreads: THREADS, ...options });
  return { name, run: (ms) => closedLoop(ms, CALLERS, () => pool.run(event)), close: () => pool.close() };
}

function piscinaFloodSubject(): Subject {
  const pool = new Piscina({ filename: TASK, name: 'task', minThreads: THREADS, maxThreads: THREADS });
  return {
    name: `piscina run() x${FLOOD} not awaited one by one`,
    async run(ms) {
      const deadline = performance.now() + ms;
      let done = 0;
      while (performance.now() < deadline) {
        await Promise.all(Array.from({ length: FLOOD }, () => pool.run(1)));
        done += FLOOD;
      }
      return done;
    },
    close: () => pool.close(),
  };
}

function tinypoolSubject(): Subject {
  const pool = new Tinypool({ filename: TASK, name: 'task', minThreads: THREADS, maxThreads: THREADS });
  return {
    name: `tinypool run(), ${CALLERS} callers`,
    run: (ms) => closedLoop(ms, CALLERS, () => pool.run(1)),
    close: () => pool.destroy(),
  };
}

/**
 * piscina with the caller batching by hand: every caller sends 64 events per `run()`, so 64 × 64
 * events are in flight (64 times what the `dispatch` callers keep in flight).
 */
function handBatchedSubject(event: unknown = 1, label = ''): Subject {
  const pool = new Piscina({ filename: TASK, name: 'batch', minThreads: THREADS, maxThreads: THREADS });
  const events = Array.from({ length: 64 }, () => event);
  return {
    name: `piscina run() of 64 events batched by hand, ${CALLERS} callers (${CALLERS * 64} in flight)${label}`,
    run: async (ms) => (await closedLoop(ms, CALLERS, () => pool.run(events))) * 64,
    close: () => pool.close(),
  };
}

/**
 * piscina with the calls of the same 64 callers gathered by hand: what is called in one turn goes
 * as one `run()` (the micro-batcher a user would write), so 64 events are in flight, as with `dispatch`.
 */
function microBatchedSubject(event: unknown = 1, label = ''): Subject {
  const pool = new Piscina({ filename: TASK, name: 'batch', minThreads: THREADS, maxThreads: THREADS });
  let pending: Array<{ event: unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  const flush = (): void => {
    const calls = pending;
    pending = [];
    pool.run(calls.map((call) => call.event)).then(
      (results: unknown[]) => calls.forEach((call, i) => call.resolve(results[i])),
      (error: unknown) => calls.forEach((call) => call.reject(error)),
    );
  };
  const call = (value: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (pending.push({ event: value, resolve, reject }) === 1) process.nextTick(flush);
    });
  return {
    name: `piscina, each turn's calls of ${CALLERS} callers batched by hand into one run() (${CALLERS} in flight)${label}`,
    run: (ms) => closedLoop(ms, CALLERS, () => call(event)),
    close: () => pool.close(),
  };
}

async function threadPool(
  options: Partial<Omit<ThreadWorkerOptions, 'workers'>> = {},
): Promise<WorkerPool<ThreadWorker<number, number>>> {
  return createThreadPool<any>({ workers: THREADS, filename: WORKER, ...options }) as Promise<
    WorkerPool<ThreadWorker<number, number>>
  >;
}

async function waitedSubject(
  name: string,
  options: Partial<ThreadWorkerOptions> = {},
  { callers = CALLERS, event = 1 as unknown } = {},
): Promise<Subject> {
  const pool = await threadPool(options);
  return {
    name,
    // Each call goes to the next of 1,000 tenants in the order the calls are made, as a bot's traffic
    // does: a caller's next call lands on either thread (a stride of `callers` would pin each caller
    // to one thread, which flatters batching).
    run: (ms) => {
      let next = 0;
      return closedLoop(ms, callers, () => pool.dispatch(tenants[next++ % tenants.length]!, event as number));
    },
    close: () => pool.close(),
  };
}

/**
 * No-wait bursts over `spread` tenants that already exist (each had an event first: the cost of
 * creating a tenant is not what this measures), timed until the pool holds nothing unfinished.
 */
async function noWaitSpreadSubject(spread: readonly TenantId[]): Promise<Subject> {
  const pool = await threadPool();
  for (const tenant of spread) pool.dispatchNoWait(tenant, 1);
  while (pool.stats().queued > 0) await new Promise((resolve) => setImmediate(resolve));
  return {
    name: `ThreadWorker dispatchNoWait, bursts of ${FLOOD} over ${spread.length.toLocaleString('en-US')} tenant${spread.length === 1 ? '' : 's'}`,
    async run(ms) {
      const deadline = performance.now() + ms;
      let done = 0;
      let next = 0;
      while (performance.now() < deadline) {
        for (let i = 0; i < FLOOD; i++) pool.dispatchNoWait(spread[next++ % spread.length]!, 1);
        while (pool.stats().queued > 0) await new Promise((resolve) => setImmediate(resolve));
        done += FLOOD;
      }
      return done;
    },
    close: () => pool.close(),
  };
}

async function noWaitSubject(burst: number): Promise<Subject> {
  const pool = await threadPool();
  return {
    name: `ThreadWorker dispatchNoWait, bursts of ${burst}`,
    async run(ms) {
      const deadline = performance.now() + ms;
      let done = 0;
      while (performance.now() < deadline) {
        for (let i = 0; i < burst; i++) pool.dispatchNoWait(tenants[i & 63]!, 1);
        // A waited event per tenant: each tenant's events run in order, so when these are back
        // every event of the burst was handled.
        await Promise.all(tenants.slice(0, 64).map((tenant) => pool.dispatch(tenant, 0)));
        done += burst;
      }
      return done;
    },
    close: () => pool.close(),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Round-trip latency with one call in flight: `TRIPS` calls one after another, p50 and p99 in µs. */
async function latency(call: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 500; i++) await call(i);
  const samples: number[] = [];
  for (let i = 0; i < TRIPS; i++) {
    const start = performance.now();
    await call(i);
    samples.push((performance.now() - start) * 1000);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

/** Heap one idle tenant holds in core's tenant runtime (the same code a thread runs), after a GC. */
async function heapPerIdleTenant(count: number): Promise<number> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { TenantRuntime, defineWorker, MemoryKvStore, tenantKv } = await import('@switchyard/core');
  const store = new MemoryKvStore();
  const runtime = new TenantRuntime(
    defineWorker({ createTenant: () => ({}), onEvent: (_state, event: number) => event }),
    { workerId: 0, kv: (tenant) => tenantKv(store, tenant) },
  );
  await runtime.start();
  gc();
  const before = process.memoryUsage().heapUsed;
  await Promise.all(manyTenants.slice(0, count).map((tenant) => runtime.dispatch(tenant, 1)));
  gc();
  const after = process.memoryUsage().heapUsed;
  await runtime.close();
  return (after - before) / count;
}

const load = (): string => loadavg()[0]!.toFixed(1);

async function measure(title: string, subjects: Subject[], base: Subject): Promise<void> {
  const loadBefore = load();
  const rates = new Map<Subject, number[]>(subjects.map((subject) => [subject, []]));
  for (const subject of subjects) await subject.run(300);
  for (let round = 0; round < RUNS; round++) {
    for (const subject of subjects) {
      const start = performance.now();
      const done = await subject.run(MS);
      rates.get(subject)!.push(done / ((performance.now() - start) / 1000));
    }
  }
  await Promise.all(subjects.map((subject) => subject.close()));
  const baseRate = median(rates.get(base)!);
  console.log(`\n${title} (load average ${loadBefore} → ${load()})\n`);
  const width = Math.max(...subjects.map((subject) => subject.name.length));
  for (const subject of subjects) {
    const rate = median(rates.get(subject)!);
    console.log(
      `${subject.name.padEnd(width)}  ${Math.round(rate).toLocaleString('en-US').padStart(10)} /s  ${(rate / baseRate).toFixed(2).padStart(6)}x`,
    );
  }
}

async function main(): Promise<void> {
  console.log(
    `${THREADS} threads, trivial handler, ${CALLERS} concurrent callers where awaited, each call to the next of 1,000 tenants; median of ${RUNS} runs of ${MS} ms (node ${process.version}); ratios against the row marked (base)`,
  );
  if (ONLY.has('small')) await measureSmall();
  if (ONLY.has('kb')) await measureKb();
  if (ONLY.has('tenants')) await measureTenants();
  if (ONLY.has('latency')) await measureLatency();
  if (ONLY.has('heap')) {
    const perTenant = await heapPerIdleTenant(100_000);
    console.log(`\nHeap per idle tenant ({} state, 100,000 tenants, after GC): ${Math.round(perTenant)} bytes`);
  }
}

async function measureSmall(): Promise<void> {
  const piscinaDefault = piscinaSubject(`piscina run(), ${CALLERS} callers (default options) (base)`);
  await measure(
    'Small events (a number)',
    [
      piscinaDefault,
      tinypoolSubject(),
      piscinaSubject(`piscina run(), ${CALLERS} callers, atomics 'async', concurrentTasksPerWorker ${CALLERS}`, {
        atomics: 'async',
        concurrentTasksPerWorker: CALLERS,
      }),
      microBatchedSubject(),
      handBatchedSubject(),
      await waitedSubject(`ThreadWorker dispatch, ${CALLERS} callers (default options)`),
      await waitedSubject(
        `ThreadWorker dispatch, ${CALLERS * 64} callers (as many in flight as hand-batched)`,
        {},
        {
          callers: CALLERS * 64,
        },
      ),
      await waitedSubject(`ThreadWorker dispatch, ${CALLERS} callers, unbatched (maxBatchSize 1)`, {
        maxBatchSize: 1,
      }),
      piscinaFloodSubject(),
      await noWaitSubject(2_000),
      await noWaitSubject(FLOOD),
    ],
    piscinaDefault,
  );
}

async function measureKb(): Promise<void> {
  const kbBase = piscinaSubject(
    `piscina run(), ${CALLERS} callers, atomics 'async', concurrentTasksPerWorker ${CALLERS}, ~1 KB (base)`,
    { atomics: 'async', concurrentTasksPerWorker: CALLERS },
    KB_EVENT,
  );
  await measure(
    `~1 KB events (${JSON.stringify(KB_EVENT).length} bytes of JSON)`,
    [
      kbBase,
      microBatchedSubject(KB_EVENT, ', ~1 KB'),
      handBatchedSubject(KB_EVENT, ', ~1 KB'),
      await waitedSubject(`ThreadWorker dispatch, ${CALLERS} callers, ~1 KB`, {}, { event: KB_EVENT }),
      await waitedSubject(
        `ThreadWorker dispatch, ${CALLERS * 64} callers, ~1 KB`,
        {},
        {
          callers: CALLERS * 64,
          event: KB_EVENT,
        },
      ),
    ],
    kbBase,
  );
}

async function measureTenants(): Promise<void> {
  const oneTenant = await noWaitSpreadSubject(manyTenants.slice(0, 1));
  await measure(
    'No-wait over many tenants (each burst timed until the pool holds nothing unfinished)',
    [oneTenant, await noWaitSpreadSubject(manyTenants.slice(0, 1000)), await noWaitSpreadSubject(manyTenants)],
    oneTenant,
  );
}

async function measureLatency(): Promise<void> {
  const loadBefore = load();
  const pool = await threadPool();
  const piscina = new Piscina({ filename: TASK, name: 'task', minThreads: THREADS, maxThreads: THREADS });
  const piscinaAsync = new Piscina({
    filename: TASK,
    name: 'task',
    minThreads: THREADS,
    maxThreads: THREADS,
    atomics: 'async',
  });
  // With one call in flight piscina keeps giving it to the same idle thread; a pool shards by
  // tenant, so calls for tenants of both threads alternate between them. The peer for that: two
  // one-thread piscina pools, called in turn.
  const halves = [0, 1].map(() => new Piscina({ filename: TASK, name: 'task', minThreads: 1, maxThreads: 1 }));
  // Tenants served by thread 0, so that one-tenant-at-a-time calls stay on one thread as piscina's do.
  const onThread0 = tenants.filter((tenant) => shardFor(tenant.id, THREADS) === 0);
  const subjects: Array<[string, (i: number) => Promise<unknown>]> = [
    ['piscina run() (default options)', () => piscina.run(1)],
    ["piscina run(), atomics 'async'", () => piscinaAsync.run(1)],
    ['piscina, two 1-thread pools in turn', (i) => halves[i & 1]!.run(1)],
    ['ThreadWorker dispatch, tenants of one thread', (i) => pool.dispatch(onThread0[i % onThread0.length]!, 1)],
    ['ThreadWorker dispatch, tenants of both threads', (i) => pool.dispatch(tenants[i % tenants.length]!, 1)],
  ];
  const samples = new Map<string, Array<{ p50: number; p99: number }>>(subjects.map(([name]) => [name, []]));
  // Interleaved, the order rotating each round; each figure is the median of the rounds' samples.
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const [name, call] = subjects[(k + round) % subjects.length]!;
      samples.get(name)!.push(await latency(call));
    }
  }
  await Promise.all([pool.close(), piscina.close(), piscinaAsync.close(), ...halves.map((half) => half.close())]);
  console.log(
    `\nLatency, one call in flight, ${TRIPS} round trips per sample, medians of ${RUNS} samples (µs; load average ${loadBefore} → ${load()})\n`,
  );
  const medianOf = (name: string, key: 'p50' | 'p99'): number => median(samples.get(name)!.map((s) => s[key]));
  const piscinaP50 = medianOf('piscina run() (default options)', 'p50');
  for (const [name] of subjects) {
    const p50 = medianOf(name, 'p50');
    const ratios = samples.get(name)!.map((s, i) => s.p50 / samples.get('piscina run() (default options)')![i]!.p50);
    console.log(
      `${name.padEnd(34)}  p50 ${p50.toFixed(0).padStart(5)}  p99 ${medianOf(name, 'p99').toFixed(0).padStart(6)}  ${(p50 / piscinaP50).toFixed(2)}x piscina's p50 (per round: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
    );
  }
}

await main();
