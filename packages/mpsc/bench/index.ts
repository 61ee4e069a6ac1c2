/**
 * Throughput and wake-up latency of @switchyard/mpsc against MessagePort.postMessage, measured in
 * the same run. Run: `pnpm build && pnpm bench` (the worker side imports the built package).
 *
 * - Throughput: values/second from N producer threads (or the consumer's own thread) to one
 *   consumer, end to end (encode, transport, decode), for small numbers, short strings and ~1 KB
 *   JSON-like objects. Workers are started and the values built before the clock starts. Producer
 *   threads use `if (!producer.trySend(v)) await producer.send(v)` (the main table) or one
 *   `await producer.send(v)` per value (the second table); postMessage producers post in a loop.
 * - Latency: round trip main -> worker -> main with both sides idle (waiting in recv / on
 *   'message') before each ping.
 *
 * The two sides run alternately, RUNS times each after a warm-up run; figures are medians and the
 * ratio is the median of the per-pair ratios, so that load changes on a shared machine hit both.
 * CPU µs/value is the CPU time of the whole process (every thread) per value over the same
 * interval: unlike wall-clock rates it barely depends on what else the machine runs.
 */
import { once } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import { MessageChannel, Worker } from 'node:worker_threads';
// The built package, as users (and the producer threads) run it: `pnpm build` first.
import type { ProducerDescriptor } from '@switchyard/mpsc';
import { connect, define, undefine } from '@switchyard/mpsc';
import { shortLatin1 } from '../dist/shared/latin1.js';
import type { FastBuffer } from '../dist/shared/platform.js';
// @ts-expect-error -- plain JS shared with the worker, no type declarations.
import { makeValues } from './values.mjs';

/** `--full` (or `BENCH_FULL=1`): the long variant (5 runs, full-size totals, the bare-ring, awaited-send and latency tables); the default stays under 2 minutes. */
const FULL = process.argv.includes('--full') || process.env.BENCH_FULL === '1';
const RUNS = Number(process.env.RUNS ?? (FULL ? 5 : 3));
/** The default run sends a sixth of the full run's values per measurement. */
const SCALE = FULL ? 1 : 6;
const workerUrl = new URL('./worker.mjs', import.meta.url);
type Kind = 'number' | 'string' | 'object';
/** Scaled down, and a multiple of 4 so that 1, 2 or 4 producer threads share it evenly. */
const scaled = (n: number): number => Math.floor(n / SCALE / 4) * 4;
const TOTAL: Record<Kind, number> = {
  number: scaled(2_000_000),
  string: scaled(2_000_000),
  object: scaled(120_000),
};
/** Values each producer thread sends before the clock starts, to get its code optimized. */
const WARMUP: Record<Kind, number> = { number: scaled(100_000), string: scaled(100_000), object: scaled(10_000) };
const make = makeValues as (kind: Kind, count: number, offset?: number) => unknown[];

let sequence = 0;

/** Throughput, and CPU time of the whole process (all threads) per value. */
interface Result {
  rate: number;
  cpu: number;
}

interface Clock {
  time: number;
  cpu: NodeJS.CpuUsage;
}

function start_(): Clock {
  return { time: performance.now(), cpu: process.cpuUsage() };
}

function stop(clock: Clock, total: number): Result {
  const elapsed = performance.now() - clock.time;
  const cpu = process.cpuUsage(clock.cpu);
  return { rate: (total / elapsed) * 1000, cpu: (cpu.user + cpu.system) / total };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Starts producer workers, waits until they are ready, opens the gate and returns the start time. */
/**
 * Starts producer workers; each sends `warmup` values first (JIT warm-up; `drainWarmup` takes them
 * on the consumer side), then waits at a gate. `open` opens it and starts the clock.
 */
async function startProducers(
  mode: 'mpsc' | 'mpsc-await' | 'port' | 'bare',
  kind: Kind,
  producers: number,
  total: number,
  channel: (p: number) => [Record<string, unknown>, MessagePort[]],
  drainWarmup: (count: number) => Promise<void>,
): Promise<{ exited: Promise<unknown>; open: () => Clock }> {
  const start = new SharedArrayBuffer(4);
  const per = total / producers;
  const warmup = WARMUP[kind];
  const exits: Promise<unknown>[] = [];
  const ready: Promise<unknown>[] = [];
  for (let p = 0; p < producers; p++) {
    const [data, transferList] = channel(p);
    const worker = new Worker(workerUrl, {
      workerData: { mode, kind, count: per, offset: p * per, start, warmup, ...data },
      transferList,
    });
    exits.push(once(worker, 'exit'));
    ready.push(once(worker, 'message'));
  }
  await drainWarmup(warmup * producers);
  await Promise.all(ready);
  const gate = new Int32Array(start);
  return {
    exited: Promise.all(exits),
    open: () => {
      const clock = start_();
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      return clock;
    },
  };
}

async function mpscThreads(kind: Kind, producers: number, mode: 'mpsc' | 'mpsc-await' = 'mpsc'): Promise<Result> {
  const total = TOTAL[kind];
  const name = `bench-${++sequence}`;
  const queue = define<unknown>(name);
  const { exited, open } = await startProducers(
    mode,
    kind,
    producers,
    total,
    () => {
      const descriptor = queue.producer();
      return [{ descriptor }, [descriptor.port]];
    },
    async (count) => {
      for (let received = 0; received < count;) received += (await queue.recvMany(8192))!.length;
    },
  );
  const clock = open();
  let received = 0;
  while (received < total) received += (await queue.recvMany(8192))!.length;
  const result = stop(clock, total);
  await exited;
  undefine(name);
  return result;
}

async function portThreads(kind: Kind, producers: number): Promise<Result> {
  const total = TOTAL[kind];
  let received = 0;
  let expected = 0;
  let done!: () => void;
  let finished!: Promise<void>;
  const expect = (count: number): Promise<void> => {
    received = 0;
    expected = count;
    finished = new Promise<void>((resolve) => (done = resolve));
    return finished;
  };
  const ports: MessagePort[] = [];
  const { exited, open } = await startProducers(
    'port',
    kind,
    producers,
    total,
    () => {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', () => {
        if (++received === expected) done();
      });
      ports.push(port1);
      return [{ port: port2 }, [port2]];
    },
    (count) => expect(count),
  );
  void expect(total);
  const clock = open();
  await finished;
  const result = stop(clock, total);
  await exited;
  for (const port of ports) port.close();
  return result;
}

/**
 * What a minimal ring reaches for small values: N bare rings (see 'bare' in bench/worker.mjs), read in batches
 * into an array as recvMany does; strings are decoded the fastest way this package knows.
 */
async function bareThreads(kind: 'number' | 'string', producers: number): Promise<Result> {
  const total = TOTAL[kind];
  const rings: { header: Int32Array; data: Int32Array; bytes: Uint8Array; buffer: FastBuffer; head: number }[] = [];
  let received = 0;
  const drain = async (count: number): Promise<void> => {
    const goal = received + count;
    while (received < goal) {
      let moved = 0;
      for (const ring of rings) {
        const tail = Atomics.load(ring.header, 0);
        const { data, bytes, buffer } = ring;
        const mask = data.length - 1;
        const out: unknown[] = [];
        let head = ring.head;
        while (head !== tail) {
          const index = head & mask;
          if (kind === 'number') {
            out.push(data[index]);
            head++;
            continue;
          }
          const length = data[index]!;
          if (length === -1) {
            head += data.length - index;
            continue;
          }
          const at = (index + 1) * 4;
          out.push(shortLatin1(bytes, at, length) ?? buffer.latin1Slice(at, at + length));
          head += 1 + ((length + 3) >> 2);
        }
        moved += out.length;
        ring.head = head;
        Atomics.store(ring.header, 16, head);
      }
      received += moved;
      if (moved === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  const { exited, open } = await startProducers(
    'bare',
    kind,
    producers,
    total,
    () => {
      // Large enough never to fill in a run: producers never wait (a spinning producer would steal
      // the consumer's core on this 2-core machine), as mpsc producers never wait on unbounded queues.
      const ring = new SharedArrayBuffer(128 + (1 << 23));
      rings.push({
        header: new Int32Array(ring, 0, 32),
        data: new Int32Array(ring, 128),
        bytes: new Uint8Array(ring, 128),
        buffer: Buffer.from(ring, 128) as unknown as FastBuffer,
        head: 0,
      });
      return [{ ring }, []];
    },
    drain,
  );
  const clock = open();
  await drain(total);
  const result = stop(clock, total);
  await exited;
  return result;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Builds the values and promotes them out of the young generation (see bench/worker.mjs). */
function prebuilt(kind: Kind, total: number): unknown[] {
  const values = make(kind, total);
  gc?.();
  gc?.();
  return values;
}

async function mpscSameThread(kind: Kind): Promise<Result> {
  const total = TOTAL[kind];
  const values = prebuilt(kind, total);
  const name = `bench-${++sequence}`;
  const queue = define<unknown>(name);
  const clock = start_();
  const consumer = (async () => {
    let received = 0;
    while (received < total) received += (await queue.recvMany(8192))!.length;
  })();
  for (let i = 0; i < total; i++) if (!queue.trySend(values[i])) await queue.send(values[i]);
  await consumer;
  const result = stop(clock, total);
  undefine(name);
  return result;
}

async function portSameThread(kind: Kind): Promise<Result> {
  const total = TOTAL[kind];
  const values = prebuilt(kind, total);
  const { port1, port2 } = new MessageChannel();
  let received = 0;
  const finished = new Promise<void>((resolve) =>
    port2.on('message', () => {
      if (++received === total) resolve();
    }),
  );
  const clock = start_();
  for (let i = 0; i < total; i++) port1.postMessage(values[i]);
  await finished;
  const result = stop(clock, total);
  port1.close();
  return result;
}

const idle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Idle wake-up latency: round trips main -> worker -> main, through mpsc queues (one each way) or
 * a MessagePort, `rounds` of them after `warm` unmeasured ones, with a fresh echo worker. Before
 * each round trip both sides are idle (waiting in recv / on 'message') and the main thread passes
 * through the event loop once.
 *
 * Blocks of the two kinds alternate, each with a fresh worker: the OS places threads on the two
 * cores differently from one start to the next (round trips of ~20 µs or ~45 µs for both kinds),
 * and two echo workers alive at once disturb each other's figures.
 */
async function latency(kind: 'mpsc' | 'port', rounds: number, warm: number): Promise<number[]> {
  let round: (i: number) => Promise<void>;
  let stop: () => Promise<unknown>;
  if (kind === 'mpsc') {
    const pong = define<number>('bench-pong');
    const descriptor = pong.producer();
    const worker = new Worker(workerUrl, {
      workerData: { mode: 'echo-mpsc', descriptor },
      transferList: [descriptor.port],
    });
    const exited = once(worker, 'exit');
    const [pingDescriptor] = (await once(worker, 'message')) as [ProducerDescriptor<number>];
    const ping = connect(pingDescriptor);
    round = async (i) => {
      await ping.send(i);
      await pong.recv();
    };
    stop = async () => {
      await ping.send(-1);
      await exited;
      ping.close();
      undefine('bench-pong');
    };
  } else {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(workerUrl, { workerData: { mode: 'echo-port', port: port2 }, transferList: [port2] });
    const exited = once(worker, 'exit');
    let answered: (() => void) | undefined;
    port1.on('message', () => answered?.());
    round = async (i) => {
      const answer = new Promise<void>((resolve) => (answered = resolve));
      port1.postMessage(i);
      await answer;
    };
    stop = async () => {
      port1.postMessage(-1);
      await exited;
      port1.close();
    };
  }
  const samples: number[] = [];
  for (let i = 0; i < warm + rounds; i++) {
    await idle();
    const t0 = performance.now();
    await round(i);
    if (i >= warm) samples.push((performance.now() - t0) * 1000);
  }
  await stop();
  return samples;
}

interface Pair {
  a: Result;
  b: Result;
  ratio: number;
  cpuRatio: number;
}

/** Runs `a` and `b` alternately (so both see the same machine load), after one warm-up each. */
async function measurePair(a: () => Promise<Result>, b: () => Promise<Result>): Promise<Pair> {
  await a();
  await b();
  const as: Result[] = [];
  const bs: Result[] = [];
  for (let i = 0; i < RUNS; i++) {
    as.push(await a());
    bs.push(await b());
  }
  const mid = (results: Result[]): Result => ({
    rate: median(results.map((r) => r.rate)),
    cpu: median(results.map((r) => r.cpu)),
  });
  return {
    a: mid(as),
    b: mid(bs),
    ratio: median(as.map((x, i) => x.rate / bs[i]!.rate)),
    cpuRatio: median(as.map((x, i) => bs[i]!.cpu / x.cpu)),
  };
}

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`);

console.log(
  `@switchyard/mpsc vs MessagePort.postMessage — medians of ${RUNS} alternating runs after a warm-up (values/s, end to end)` +
    `${FULL ? '' : `; totals 1/${SCALE} of --full, without the bare-ring, awaited-send and latency tables (pass --full for them)`}\n`,
);
console.log(
  '| values | producers | mpsc values/s | postMessage values/s | ratio | mpsc CPU µs/value | postMessage CPU µs/value | CPU ratio |',
);
console.log('|---|---|---|---|---|---|---|---|');
const only = process.env.ONLY;
for (const kind of ['number', 'string', 'object'] as const) {
  if (only !== undefined && only !== kind) continue;
  for (const producers of [0, 1, 2, 4]) {
    const {
      a: mpsc,
      b: port,
      ratio,
      cpuRatio,
    } = await measurePair(
      () => (producers === 0 ? mpscSameThread(kind) : mpscThreads(kind, producers)),
      () => (producers === 0 ? portSameThread(kind) : portThreads(kind, producers)),
    );
    const label = kind === 'object' ? '~1 KB objects' : kind === 'string' ? 'short strings' : 'numbers';
    const where = producers === 0 ? 'same thread' : `${producers} thread${producers > 1 ? 's' : ''}`;
    console.log(
      `| ${label} | ${where} | ${fmt(mpsc.rate)} | ${fmt(port.rate)} | ${ratio.toFixed(1)}x | ${mpsc.cpu.toFixed(2)} | ${port.cpu.toFixed(2)} | ${cpuRatio.toFixed(1)}x |`,
    );
  }
}

if ((FULL && only === undefined) || only === 'bare') {
  console.log(
    '\nA bare ring for small values: one per producer thread, no API, no checks, one atomic store per value, against postMessage of the same values\n',
  );
  console.log(
    '| values | producers | bare ring values/s | postMessage values/s | ratio | bare ring CPU µs/value | postMessage CPU µs/value |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const kind of ['number', 'string'] as const) {
    for (const producers of [1, 2, 4]) {
      const {
        a: bare,
        b: port,
        ratio,
      } = await measurePair(
        () => bareThreads(kind, producers),
        () => portThreads(kind, producers),
      );
      const label = kind === 'string' ? 'short strings' : 'numbers';
      console.log(
        `| ${label} | ${producers} | ${fmt(bare.rate)} | ${fmt(port.rate)} | ${ratio.toFixed(1)}x | ${bare.cpu.toFixed(2)} | ${port.cpu.toFixed(2)} |`,
      );
    }
  }
}

if ((FULL && only === undefined) || only === 'await') {
  console.log('\nThe same with one `await producer.send(v)` per value instead of `trySend` (2 producer threads)\n');
  console.log(
    '| values | mpsc values/s | postMessage values/s | ratio | mpsc CPU µs/value | postMessage CPU µs/value | CPU ratio |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const kind of ['number', 'string', 'object'] as const) {
    const {
      a: mpsc,
      b: port,
      ratio,
      cpuRatio,
    } = await measurePair(
      () => mpscThreads(kind, 2, 'mpsc-await'),
      () => portThreads(kind, 2),
    );
    const label = kind === 'object' ? '~1 KB objects' : kind === 'string' ? 'short strings' : 'numbers';
    console.log(
      `| ${label} | ${fmt(mpsc.rate)} | ${fmt(port.rate)} | ${ratio.toFixed(1)}x | ${mpsc.cpu.toFixed(2)} | ${port.cpu.toFixed(2)} | ${cpuRatio.toFixed(1)}x |`,
    );
  }
}

if ((FULL && only === undefined) || only === 'latency') {
  const mpsc: number[] = [];
  const port: number[] = [];
  for (let block = 0; block < RUNS; block++) {
    // Which kind goes first alternates too. 5,000 unmeasured round trips first: a fresh worker's
    // first thousands have millisecond stalls (JIT compilation), more of them on the side that
    // runs more JavaScript.
    for (const kind of block % 2 === 0 ? (['mpsc', 'port'] as const) : (['port', 'mpsc'] as const)) {
      (kind === 'mpsc' ? mpsc : port).push(...(await latency(kind, 2000, 5000)));
    }
  }
  console.log(
    `\nIdle wake-up latency, round trip main -> worker -> main (µs; ${mpsc.length} of each, in alternating blocks)\n`,
  );
  console.log('| | p50 | p90 | p99 |');
  console.log('|---|---|---|---|');
  const row = (name: string, samples: number[]): string =>
    `| ${name} | ${[0.5, 0.9, 0.99].map((p) => percentile(samples, p).toFixed(1)).join(' | ')} |`;
  console.log(row('mpsc', mpsc));
  console.log(row('postMessage', port));
  console.log(
    `| ratio (mpsc / postMessage) | ${[0.5, 0.9, 0.99].map((p) => (percentile(mpsc, p) / percentile(port, p)).toFixed(2)).join(' | ')} |`,
  );
}
