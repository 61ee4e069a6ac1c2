/**
 * What a node costs per call, against the peer that does the same work without it, measured in
 * the same run. Run: `pnpm --filter @switchyard/node bench` (after `pnpm build`).
 *
 * - local: `defineNode` and `@onWorker` calls against a core `worker.enqueue` (the primitive they
 *   wrap) and a plain async call;
 * - thread: a `spawnNode` thread proxy against raw piscina with one thread running the same function;
 * - process: a `spawnNode` process proxy against a raw `child_process.fork` + IPC echo
 *   (`serialization: 'advanced'`);
 * - startup: time from spawn to the first answer, same peers.
 *
 * Calls are measured sequentially (one in flight: latency) and in batches of 1,000 in flight
 * (throughput). Medians of BENCH_RUNS (default 3; 7 with BENCH_FULL=1) runs after a warm-up; subjects are interleaved so
 * machine noise hits them alike.
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createWorkers } from '@switchyard/core';
import { defineNode, Node, onWorker, spawnNode } from '@switchyard/node';
import type { RemoteNode } from '@switchyard/node';
import { Piscina } from 'piscina';

type MathModule = { math: { add: (a: number, b: number) => Promise<number> } };

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
// BENCH_FULL=1: the README's 7 runs; the default 3 keeps `pnpm bench` under 2 minutes.
const runs = Number(process.env.BENCH_RUNS ?? (process.env.BENCH_FULL === '1' ? 7 : 3));

/** One way of calling `add(a, b)`; `call` resolves with the sum. */
interface Subject {
  name: string;
  call(a: number, b: number): Promise<number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Calls per second: `total` calls, `inFlight` at a time. */
async function rate(subject: Subject, total: number, inFlight: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let done = 0; done < total; done += inFlight) {
    const batch: Array<Promise<number>> = new Array(inFlight);
    for (let i = 0; i < inFlight; i++) batch[i] = subject.call(i, 1);
    const sums = await Promise.all(batch);
    if (sums[inFlight - 1] !== inFlight) throw new Error(`${subject.name} answered ${sums[inFlight - 1]}`);
  }
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Median calls/s of each subject, interleaved, after a warm-up. */
async function compare(subjects: Subject[], total: number, inFlight: number): Promise<number[]> {
  for (const subject of subjects) await rate(subject, total, inFlight);
  const rates = subjects.map((): number[] => []);
  for (let run = 0; run < runs; run++) {
    for (const [i, subject] of subjects.entries()) rates[i]!.push(await rate(subject, total, inFlight));
  }
  return rates.map(median);
}

const fmt = (perSecond: number): string =>
  perSecond >= 1e6
    ? `${(perSecond / 1e6).toFixed(2)}M/s`
    : perSecond >= 1e3
      ? `${(perSecond / 1e3).toFixed(1)}k/s`
      : `${perSecond.toFixed(0)}/s`;

function report(title: string, subjects: Subject[], sequential: number[], batched: number[]): void {
  console.log(title);
  const peer = subjects.length - 1;
  for (const [i, subject] of subjects.entries()) {
    const ratio =
      i === peer
        ? '(peer)'
        : `${(sequential[i]! / sequential[peer]!).toFixed(2)}x / ${(batched[i]! / batched[peer]!).toFixed(2)}x of peer`;
    console.log(
      `  ${subject.name.padEnd(34)} 1 in flight ${fmt(sequential[i]!).padStart(9)}   1,000 in flight ${fmt(batched[i]!).padStart(9)}   ${ratio}`,
    );
  }
}

// --- local ---------------------------------------------------------------------------------

class MathNode extends Node {
  @onWorker(0)
  async add(a: number, b: number): Promise<number> {
    return a + b;
  }
}

async function local(): Promise<void> {
  const add = (a: number, b: number): number => a + b;
  const m = defineNode((node) => {
    const [w] = node.workers(1);
    return { add: w!.function(add) };
  });
  const classNode = new MathNode();
  const [worker] = createWorkers(1);
  const subjects: Subject[] = [
    { name: 'defineNode m.add()', call: (a, b) => m.add(a, b) },
    { name: 'Node @onWorker add()', call: (a, b) => classNode.add(a, b) },
    { name: 'async function (no queue)', call: async (a, b) => add(a, b) },
    { name: 'core worker.enqueue(add)', call: (a, b) => worker!.enqueue(add, a, b) },
  ];
  const sequential = await compare(subjects, 100_000, 1);
  const batched = await compare(subjects, 100_000, 1_000);
  report('local calls', subjects, sequential, batched);
  m.kill();
  classNode.kill();
  worker!.kill();
}

// --- thread and process --------------------------------------------------------------------

function piscinaPeer(): Subject & { close(): Promise<void> } {
  const pool = new Piscina({
    filename: fixture('piscina-add.mjs'),
    name: 'add',
    minThreads: 1,
    maxThreads: 1,
    concurrentTasksPerWorker: 1_000,
  });
  return {
    name: 'raw piscina, 1 thread',
    call: (a, b) => pool.run({ a, b }) as Promise<number>,
    close: () => pool.destroy(),
  };
}

function ipcPeer(child: ChildProcess): Subject {
  let nextId = 1;
  const pending = new Map<number, (value: number) => void>();
  child.on('message', ({ id, value }: { id: number; value: number }) => {
    pending.get(id)!(value);
    pending.delete(id);
  });
  return {
    name: 'raw fork + IPC (advanced)',
    call: (a, b) =>
      new Promise<number>((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        child.send({ id, a, b });
      }),
  };
}

async function remote(): Promise<void> {
  const thread = await spawnNode<MathModule>(fixture('math.node.mjs'), { topology: 'thread' });
  const piscina = piscinaPeer();
  const threadSubjects: Subject[] = [
    { name: 'spawnNode thread proxy', call: (a, b) => thread.math.add(a, b) },
    piscina,
  ];
  report(
    'thread round trips',
    threadSubjects,
    await compare(threadSubjects, 5_000, 1),
    await compare(threadSubjects, 50_000, 1_000),
  );
  await thread.kill();
  await piscina.close();

  const processNode = await spawnNode<MathModule>(fixture('math.node.mjs'), { topology: 'process' });
  const child = fork(fixture('ipc-add.mjs'), { serialization: 'advanced' });
  const processSubjects: Subject[] = [
    { name: 'spawnNode process proxy', call: (a, b) => processNode.math.add(a, b) },
    ipcPeer(child),
  ];
  report(
    'process round trips',
    processSubjects,
    await compare(processSubjects, 5_000, 1),
    await compare(processSubjects, 50_000, 1_000),
  );
  await processNode.kill();
  child.disconnect();
  await once(child, 'exit');
}

// --- startup -------------------------------------------------------------------------------

async function timeMs(start: () => Promise<() => Promise<void>>): Promise<number> {
  const began = process.hrtime.bigint();
  const stop = await start();
  const ms = Number(process.hrtime.bigint() - began) / 1e6;
  await stop();
  return ms;
}

async function startup(): Promise<void> {
  const starters: Array<[string, () => Promise<() => Promise<void>>]> = [
    [
      'spawnNode thread, first answer',
      async () => {
        const node: RemoteNode<MathModule> = await spawnNode<MathModule>(fixture('math.node.mjs'), {
          topology: 'thread',
        });
        await node.math.add(1, 1);
        return () => node.kill();
      },
    ],
    [
      'raw piscina, first answer',
      async () => {
        const peer = piscinaPeer();
        await peer.call(1, 1);
        return () => peer.close();
      },
    ],
    [
      'spawnNode process, first answer',
      async () => {
        const node = await spawnNode<MathModule>(fixture('math.node.mjs'), { topology: 'process' });
        await node.math.add(1, 1);
        return () => node.kill();
      },
    ],
    [
      'raw fork + IPC, first answer',
      async () => {
        const child = fork(fixture('ipc-add.mjs'), { serialization: 'advanced' });
        await ipcPeer(child).call(1, 1);
        return async () => {
          child.kill('SIGKILL');
          await once(child, 'exit');
        };
      },
    ],
  ];
  for (const [, start] of starters) await timeMs(start);
  const times = starters.map((): number[] => []);
  for (let run = 0; run < runs; run++)
    for (const [i, [, start]] of starters.entries()) times[i]!.push(await timeMs(start));
  console.log('startup (spawn to first answer)');
  for (const [i, [name]] of starters.entries()) console.log(`  ${name.padEnd(34)} ${median(times[i]!).toFixed(1)} ms`);
  console.log(
    `  thread: ${(median(times[0]!) / median(times[1]!)).toFixed(2)}x of raw piscina; process: ${(median(times[2]!) / median(times[3]!)).toFixed(2)}x of raw fork`,
  );
}

console.log(`@switchyard/node, median of ${runs} runs (node ${process.version}, ${process.platform}/${process.arch})`);
await local();
await remote();
await startup();
