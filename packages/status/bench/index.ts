/**
 * Benchmarks of @switchyard/status, each against a peer measured in the same run. Run:
 * `pnpm --filter @switchyard/status bench` (BENCH_RUNS=n to change the number of runs, default 9).
 *
 * 1. Merging workers: `runWorkers` over 4 async-generator workers, against the usual hand-written
 *    `Promise.race` merge, and against draining the same generators one after the other (no
 *    merging at all: the floor).
 * 2. Reporting: `job.update()` on a live (TTY) board, which only records the change and redraws at
 *    most every `throttleMs`, against calling log-update on every update (what a board without
 *    throttling does).
 */
import { Writable } from 'node:stream';
import { createLogUpdate } from 'log-update';
import { createStatusBoard, runWorkers } from '../src/index.js';

const runs = Number(process.env.BENCH_RUNS ?? 9);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Operations per second: median of `runs` timed rounds after 3 warm-up rounds. */
async function measure(round: () => Promise<number> | number): Promise<number> {
  for (let i = 0; i < 3; i++) await round();
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    const operations = await round();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(operations / seconds);
  }
  return median(rates);
}

// ---------------------------------------------------------------------------------------------
// 1. Merging workers
// ---------------------------------------------------------------------------------------------

const WORKERS = 4;
const PER_WORKER = 50_000;

async function* numbers(count: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) yield i;
}

/** The merge people write by hand: race every source's pending next(). */
async function* raceMerge<T>(sources: Array<AsyncIterable<T>>): AsyncGenerator<T> {
  const iterators = sources.map((source) => source[Symbol.asyncIterator]());
  const pull = (index: number): Promise<{ index: number; result: IteratorResult<T> }> =>
    iterators[index]!.next().then((result) => ({ index, result }));
  const pending = new Map(iterators.map((_, index) => [index, pull(index)]));
  while (pending.size > 0) {
    const { index, result } = await Promise.race(pending.values());
    if (result.done === true) {
      pending.delete(index);
    } else {
      pending.set(index, pull(index));
      yield result.value;
    }
  }
}

async function mergeRunWorkers(): Promise<number> {
  let sum = 0;
  for await (const value of runWorkers(WORKERS, () => numbers(PER_WORKER))) sum += value;
  return check(sum);
}

async function mergeRace(): Promise<number> {
  let sum = 0;
  for await (const value of raceMerge(Array.from({ length: WORKERS }, () => numbers(PER_WORKER)))) sum += value;
  return check(sum);
}

async function sequential(): Promise<number> {
  let sum = 0;
  for (let w = 0; w < WORKERS; w++) for await (const value of numbers(PER_WORKER)) sum += value;
  return check(sum);
}

function check(sum: number): number {
  const expected = (WORKERS * PER_WORKER * (PER_WORKER - 1)) / 2;
  if (sum !== expected) throw new Error(`Lost or duplicated values: sum ${sum}, expected ${expected}`);
  return WORKERS * PER_WORKER;
}

// ---------------------------------------------------------------------------------------------
// 2. Reporting
// ---------------------------------------------------------------------------------------------

const UPDATES = 20_000;

class CountingSink extends Writable {
  isTTY = true;
  columns = 100;
  rows = 40;
  writes = 0;
  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.writes++;
    callback();
  }
}

let boardWrites = 0;
let directWrites = 0;

async function boardUpdates(): Promise<number> {
  const output = new CountingSink();
  const board = createStatusBoard({ output, hideCursor: false });
  const jobs = Array.from({ length: 8 }, (_, i) =>
    board.addJob({ prefix: `worker ${i + 1}:`, initialText: 'waiting' }),
  );
  for (let i = 0; i < UPDATES; i++) {
    const job = jobs[i % jobs.length]!;
    job.update(`item ${i}`);
    job.progress(i, UPDATES);
  }
  board.close(); // draws the final frame
  boardWrites = output.writes;
  return UPDATES;
}

async function logUpdateEveryTime(): Promise<number> {
  const output = new CountingSink();
  const log = createLogUpdate(output, { showCursor: true });
  const lines = Array.from({ length: 8 }, (_, i) => `worker ${i + 1}: waiting`);
  for (let i = 0; i < UPDATES; i++) {
    lines[i % lines.length] = `worker ${(i % lines.length) + 1}: item ${i} ${Math.floor((i / UPDATES) * 100)}%`;
    log(lines.join('\n'));
  }
  log.done();
  directWrites = output.writes;
  return UPDATES;
}

// ---------------------------------------------------------------------------------------------

const fmt = (rate: number, unit: string): string =>
  rate >= 1e6 ? `${(rate / 1e6).toFixed(2)}M ${unit}/s` : `${(rate / 1e3).toFixed(0)}k ${unit}/s`;

async function main(): Promise<void> {
  process.stdout.write(`@switchyard/status benchmarks, node ${process.version}, median of ${runs} runs\n\n`);

  // Interleave the subjects so that machine noise hits them alike.
  const merged = { runWorkers: [] as number[], race: [] as number[], sequential: [] as number[] };
  for (let i = 0; i < 3; i++) {
    merged.runWorkers.push(await measure(mergeRunWorkers));
    merged.race.push(await measure(mergeRace));
    merged.sequential.push(await measure(sequential));
  }
  const rw = median(merged.runWorkers);
  const race = median(merged.race);
  const seq = median(merged.sequential);
  process.stdout.write(`Merging ${WORKERS} workers x ${PER_WORKER} values\n`);
  process.stdout.write(
    `  runWorkers                  ${fmt(rw, 'values')}  (${(rw / race).toFixed(2)}x Promise.race merge)\n`,
  );
  process.stdout.write(`  Promise.race merge (peer)   ${fmt(race, 'values')}\n`);
  process.stdout.write(
    `  sequential, no merge (floor) ${fmt(seq, 'values')}  (runWorkers at ${((rw / seq) * 100).toFixed(0)}% of it)\n\n`,
  );

  const reporting = { board: [] as number[], direct: [] as number[] };
  for (let i = 0; i < 3; i++) {
    reporting.board.push(await measure(boardUpdates));
    reporting.direct.push(await measure(logUpdateEveryTime));
  }
  const board = median(reporting.board);
  const direct = median(reporting.direct);
  process.stdout.write(`Reporting ${UPDATES} updates over 8 rows on a TTY\n`);
  process.stdout.write(
    `  board job.update+progress   ${fmt(board, 'updates')}  (${(board / direct).toFixed(1)}x log-update per update), ${boardWrites} writes\n`,
  );
  process.stdout.write(`  log-update per update (peer) ${fmt(direct, 'updates')}, ${directWrites} writes\n`);
}

await main();
