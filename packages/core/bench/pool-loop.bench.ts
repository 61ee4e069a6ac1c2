// Pool loop overhead: how much a pool adds per job call, against the loops one would write by hand,
// and how responsive the event loop stays while a synchronous job runs non-stop.
//
//   pnpm exec tsx __tests__/pool/bench/loop-overhead.bench.ts
//
// Medians of 7 measured runs after 2 warm-up runs; every peer is measured in the same run.
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import type { Job } from '../src/pool/Job.js';
import { Pool } from '../src/pool/Pool.js';

/** BENCH_FULL=1: the README's 200,000 calls and 7 runs; the default keeps `pnpm bench` under 2 minutes. */
const FULL = process.env.BENCH_FULL === '1';
const CALLS = FULL ? 200_000 : 100_000;
const RUNS = FULL ? 7 : 5;
const WARMUP = 2;

let sink = 0;
const syncJob: Job = () => {
  sink++;
};
const asyncJob: Job = async () => {
  sink++;
};

type Runner = (job: Job, calls: number) => Promise<void>;

/** Lower bound: `await job()` in a plain loop. A sync job never yields: it starves the event loop for the whole run. */
const tightLoop: Runner = async (job, calls) => {
  const signal = new AbortController().signal;
  for (let i = 0; i < calls; i++) await job(signal);
};

/** The obvious non-starving loop: one `setImmediate` between calls. */
const immediateLoop: Runner = (job, calls) =>
  new Promise((resolve, reject) => {
    const signal = new AbortController().signal;
    let left = calls;
    const step = (): void => {
      Promise.resolve(job(signal)).then(() => {
        if (--left === 0) resolve();
        else setImmediate(step);
      }, reject);
    };
    setImmediate(step);
  });

function poolRunner(workers: number): Runner {
  return (job, calls) =>
    new Promise((resolve, reject) => {
      let left = calls;
      const pool = new Pool({ initial: workers });
      pool.start((signal) => {
        const result = job(signal);
        if (--left === 0) pool.close().then(resolve, reject);
        return result;
      });
    });
}

async function measure(runner: Runner, job: Job): Promise<number> {
  const samples: number[] = [];
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const start = performance.now();
    await runner(job, CALLS);
    const ns = ((performance.now() - start) * 1e6) / CALLS;
    if (run >= WARMUP) samples.push(ns);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** The longest gap between `setTimeout(0)` pings while `runner` runs, in ms. */
async function maxLag(runner: Runner, job: Job, calls: number): Promise<number> {
  let last = performance.now();
  let worst = 0;
  let done = false;
  const ping = (): void => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (!done) setTimeout(ping, 0);
  };
  setTimeout(ping, 0);
  await runner(job, calls);
  done = true;
  await new Promise((resolve) => setTimeout(resolve, 5));
  return worst;
}

const peers: Array<[string, Runner]> = [
  ['await loop (starves the event loop)', tightLoop],
  ['setImmediate between calls', immediateLoop],
  ['Pool, 1 worker', poolRunner(1)],
  ['Pool, 8 workers', poolRunner(8)],
];

for (const [jobName, job] of [
  ['sync job', syncJob],
  ['async job', asyncJob],
] as const) {
  const results: Array<[string, number]> = [];
  for (const [name, runner] of peers) results.push([name, await measure(runner, job)]);
  const immediate = results[1]![1];
  const tight = results[0]![1];
  console.log(`\n${jobName}: ${CALLS} calls, median of ${RUNS} runs (ns per call)`);
  for (const [name, ns] of results) {
    console.log(
      `  ${name.padEnd(36)} ${ns.toFixed(1).padStart(8)} ns/call   ` +
        `${(immediate / ns).toFixed(1).padStart(5)}x the setImmediate loop   +${(ns - tight).toFixed(1)} ns over the await loop`,
    );
  }
}

console.log('\nlongest event-loop gap (setTimeout(0) pings) while 2,000,000 sync calls run:');
for (const [name, runner] of peers) {
  console.log(`  ${name.padEnd(36)} ${(await maxLag(runner, syncJob, 2_000_000)).toFixed(1).padStart(8)} ms`);
}
if (sink < 0) console.log(sink);
