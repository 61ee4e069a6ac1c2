/**
 * Enqueue throughput of a core Worker against p-queue with concurrency 1, the library people
 * reach for to run tasks one at a time. Run: `pnpm --filter @switchyard/core bench`.
 *
 * Each round holds the queue with a blocking task, enqueues N trivial tasks, releases it and waits
 * until every task ran: so the figure covers enqueue, queueing and draining, with N tasks queued.
 */
import PQueue from 'p-queue';
import { createWorkers } from '../src/index.js';

interface Subject {
  name: string;
  round(n: number): Promise<void>;
}

const noop = (): number => 1;

function worker(): Subject {
  return {
    name: 'switchyard Worker',
    async round(n) {
      const [w] = createWorkers(1);
      let release!: () => void;
      void w!.enqueue(() => new Promise<void>((resolve) => (release = resolve)));
      const all: Array<Promise<number>> = new Array(n);
      for (let i = 0; i < n; i++) all[i] = w!.enqueue(noop);
      release();
      await Promise.all(all);
    },
  };
}

function pQueue(): Subject {
  return {
    name: 'p-queue (concurrency 1)',
    async round(n) {
      const queue = new PQueue({ concurrency: 1 });
      let release!: () => void;
      void queue.add(() => new Promise<void>((resolve) => (release = resolve)));
      const all: Array<Promise<number | void>> = new Array(n);
      for (let i = 0; i < n; i++) all[i] = queue.add(noop);
      release();
      await Promise.all(all);
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Tasks per second, median of `runs` rounds after warm-up, with `n` tasks queued per round. */
async function measure(subject: Subject, n: number, runs: number): Promise<number> {
  const totalPerRound = Math.max(n, 20_000);
  const rounds = Math.ceil(totalPerRound / n);
  for (let i = 0; i < 3; i++) for (let r = 0; r < rounds; r++) await subject.round(n);
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) await subject.round(n);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push((rounds * n) / seconds);
  }
  return median(rates);
}

const fmt = (rate: number): string => `${(rate / 1e6).toFixed(2)}M tasks/s`;

async function main(): Promise<void> {
  // BENCH_FULL=1: the README's 9 runs; the default 5 keeps `pnpm bench` under 2 minutes.
  const runs = Number(process.env.BENCH_RUNS ?? (process.env.BENCH_FULL === '1' ? 9 : 5));
  const subjects = [worker(), pQueue()];
  const results = new Map<string, Map<number, number>>();
  // Interleave subjects so that machine noise hits both alike.
  for (const n of [1_000, 100_000]) {
    for (const subject of subjects) {
      const byN = results.get(subject.name) ?? new Map<number, number>();
      byN.set(n, await measure(subject, n, runs));
      results.set(subject.name, byN);
    }
  }
  const ours = results.get(subjects[0]!.name)!;
  const peer = results.get(subjects[1]!.name)!;
  console.log(`enqueue throughput, median of ${runs} runs (node ${process.version})`);
  for (const n of [1_000, 100_000]) {
    console.log(
      `  ${n.toLocaleString('en')} queued: Worker ${fmt(ours.get(n)!)}, p-queue ${fmt(peer.get(n)!)}, ratio ${(ours.get(n)! / peer.get(n)!).toFixed(2)}x`,
    );
  }
  console.log(
    `  Worker with 100,000 queued runs at ${(ours.get(100_000)! / ours.get(1_000)!).toFixed(2)}x its rate with 1,000 queued (p-queue: ${(peer.get(100_000)! / peer.get(1_000)!).toFixed(2)}x)`,
  );
}

await main();
