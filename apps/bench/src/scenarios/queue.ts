import { createWorkers } from '@switchyard/core';
import fastq from 'fastq';
import PQueue from 'p-queue';
import { expectAnswer } from '../harness/checks.js';
import type { ContenderPlan, ContenderRun, ScenarioFactory } from '../harness/Scenario.js';
import { bursts } from './loops.js';

/** Tasks queued at once before the queue is released: a queue that is never empty. */
const BATCH = 1_000;

interface Queue {
  push(n: number): Promise<number>;
  /** Queues `count` tasks and resolves when all ran; defaults to `push` each and await them all. */
  burst?(count: number): Promise<void>;
  close(): Promise<void>;
}

const double = (n: number): number => n * 2;

/** A contender over a queue that runs `double` one task at a time. */
function queueContender(name: string, kind: 'switchyard' | 'peer', open: () => Queue): ContenderPlan {
  return {
    name,
    kind,
    async start(): Promise<ContenderRun> {
      const queue = open();
      return {
        async check() {
          const order: number[] = [];
          const answers = await Promise.all([1, 2, 3].map((n) => queue.push(n).then((r) => (order.push(n), r))));
          expectAnswer(`${name}: double 1, 2, 3`, answers, [2, 4, 6]);
          expectAnswer(`${name}: completion order`, order, [1, 2, 3]);
        },
        run: async (ms) => ({
          ops: await bursts(ms, async () => {
            if (queue.burst !== undefined) {
              await queue.burst(BATCH);
              return BATCH;
            }
            const all = new Array<Promise<number>>(BATCH);
            for (let i = 0; i < BATCH; i++) all[i] = queue.push(i);
            await Promise.all(all);
            return BATCH;
          }),
        }),
        close: () => queue.close(),
      };
    },
  };
}

/**
 * Scenario 5: core's per-worker task queue (`Worker.enqueue`, one task at a time, in order) vs
 * p-queue with concurrency 1 and fastq (callback and promise APIs), with 1,000 tasks queued at a time.
 */
export const queueScenario: ScenarioFactory = () => ({
  id: 'queue',
  title: 'Per-worker queue vs p-queue and fastq',
  description:
    'One task at a time, in order, in this thread: bursts of 1,000 trivial synchronous tasks enqueued then awaited. ' +
    'Measures enqueue + run + settle per task.',
  groups: [
    {
      id: 'sync-tasks',
      title: 'Trivial synchronous tasks, 1,000 queued at a time',
      kind: 'throughput',
      unit: 'tasks',
      reference: 'Switchyard Worker.enqueue',
      contenders: [
        queueContender('Switchyard Worker.enqueue', 'switchyard', () => {
          const [worker] = createWorkers(1);
          return { push: (n) => worker!.enqueue(double, n), close: () => worker!.close() };
        }),
        queueContender('p-queue (concurrency 1)', 'peer', () => {
          const queue = new PQueue({ concurrency: 1 });
          return { push: (n) => queue.add(() => double(n)), close: () => queue.onIdle() };
        }),
        queueContender('fastq (callback API)', 'peer', () => {
          const queue = fastq<unknown, number, number>((n, done) => done(null, double(n)), 1);
          return {
            push: (n) =>
              new Promise<number>((resolve, reject) =>
                queue.push(n, (error, result) => (error ? reject(error) : resolve(result!))),
              ),
            // The way the callback API is meant to be used: one callback, no promise per task.
            burst: (count) =>
              new Promise<void>((resolve, reject) => {
                let left = count;
                const done = (error: Error | null): void => {
                  if (error) reject(error);
                  else if (--left === 0) resolve();
                };
                for (let i = 0; i < count; i++) queue.push(i, done);
              }),
            close: async () => queue.kill(),
          };
        }),
        queueContender('fastq (promise API)', 'peer', () => {
          const queue = fastq.promise<unknown, number, number>(async (n) => double(n), 1);
          return { push: (n) => queue.push(n), close: () => queue.drained() };
        }),
      ],
    },
  ],
});
