/**
 * Events per second through `WorkerPool<ThreadWorker>` with 2 threads and a trivial handler,
 * waited (`dispatch` with C concurrent callers) and not waited (`dispatchNoWait`), next to raw
 * piscina `run()` and tinypool `run()` of the same trivial task on 2 threads, in one run.
 *
 * Run: `pnpm --filter @switchyard/pool-thread bench` (builds first under turbo; or `pnpm build && pnpm bench`).
 * Options: `--callers=64` (concurrent callers), `--runs=7`, `--ms=700` (length of one run).
 *
 * Each subject is warmed up, then measured `runs` times, interleaved with the other subjects
 * (round-robin, so a slow phase of this shared machine hits all of them); figures are medians.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import type { TenantId, WorkerPool } from '@switchyard/core';
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

/** Tenants created at different milliseconds, so they spread over both threads. */
const tenants: TenantId[] = Array.from({ length: 1000 }, (_, i) => ({
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

function piscinaSubject(name: string, options: ConstructorParameters<typeof Piscina>[0] = {}): Subject {
  const pool = new Piscina({ filename: TASK, name: 'task', minThreads: THREADS, maxThreads: THREADS, ...options });
  return { name, run: (ms) => closedLoop(ms, CALLERS, () => pool.run(1)), close: () => pool.close() };
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

/** piscina with the caller batching by hand: 64 events per `run()`, 64 callers' worth per round. */
function handBatchedSubject(): Subject {
  const pool = new Piscina({ filename: TASK, name: 'batch', minThreads: THREADS, maxThreads: THREADS });
  const events = Array.from({ length: 64 }, () => 1);
  return {
    name: `piscina run() of 64 events batched by hand, ${CALLERS} callers`,
    run: async (ms) => (await closedLoop(ms, CALLERS, () => pool.run(events))) * 64,
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

async function waitedSubject(name: string, options: Partial<ThreadWorkerOptions> = {}): Promise<Subject> {
  const pool = await threadPool(options);
  return {
    name,
    // Each call goes to the next of 1,000 tenants, as a bot's traffic does (not pinned per caller).
    run: (ms) =>
      closedLoop(ms, CALLERS, (caller, i) => pool.dispatch(tenants[(caller + i * CALLERS) % tenants.length]!, 1)),
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

async function main(): Promise<void> {
  const subjects: Subject[] = [
    piscinaSubject(`piscina run(), ${CALLERS} callers (default options)`),
    tinypoolSubject(),
    await waitedSubject(`ThreadWorker dispatch, ${CALLERS} callers (batched, default options)`),
    await waitedSubject(`ThreadWorker dispatch, ${CALLERS} callers, unbatched (maxBatchSize 1, 16 tasks in flight)`, {
      maxBatchSize: 1,
      maxInFlight: 16,
    }),
    piscinaSubject(`piscina run(), ${CALLERS} callers, concurrentTasksPerWorker 16`, {
      concurrentTasksPerWorker: 16,
      atomics: 'disabled',
    }),
    piscinaFloodSubject(),
    piscinaSubject(`piscina run(), ${CALLERS} callers, atomics 'async', concurrentTasksPerWorker ${CALLERS}`, {
      atomics: 'async',
      concurrentTasksPerWorker: CALLERS,
    }),
    handBatchedSubject(),
    await noWaitSubject(2_000),
    await noWaitSubject(FLOOD),
  ];
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

  const base = median(rates.get(subjects[0]!)!);
  console.log(
    `\n${THREADS} threads, trivial handler, ${CALLERS} concurrent callers where awaited; median of ${RUNS} runs of ${MS} ms (node ${process.version})\n`,
  );
  const width = Math.max(...subjects.map((subject) => subject.name.length));
  for (const subject of subjects) {
    const rate = median(rates.get(subject)!);
    console.log(
      `${subject.name.padEnd(width)}  ${Math.round(rate).toLocaleString('en-US').padStart(10)} /s  ${(rate / base).toFixed(2).padStart(6)}x piscina`,
    );
  }
}

await main();
