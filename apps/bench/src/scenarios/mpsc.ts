import { once } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import { MessageChannel, Worker } from 'node:worker_threads';
import { define, undefine } from '@switchyard/mpsc';
import { expectAnswer } from '../harness/checks.js';
import type { ContenderPlan, ContenderRun, GroupPlan, ScenarioFactory } from '../harness/Scenario.js';
import { bursts } from './loops.js';
import { fixture } from './payloads.js';

type Kind = 'number' | 'string' | 'object';
const KINDS: ReadonlyArray<{ kind: Kind; title: string; burst: number }> = [
  { kind: 'number', title: 'numbers', burst: 20_000 },
  { kind: 'string', title: 'short strings', burst: 20_000 },
  { kind: 'object', title: '~1 KB objects', burst: 2_000 },
];
let sequence = 0;

/** The consumer side: receives until `count` values arrived; collects them when asked (the check). */
interface Consumer {
  take(count: number, keep: boolean): Promise<unknown[]>;
  close(): void;
}

const producerKey = (kind: Kind, value: unknown): [number, number] => {
  if (kind === 'string') {
    const [p, i] = (value as string).slice(1).split(':');
    return [Number(p), Number(i)];
  }
  const seq = kind === 'number' ? (value as number) : (value as { seq: number }).seq;
  return [Math.floor(seq / 1_000_000), seq % 1_000_000];
};

function contender(mode: 'mpsc' | 'postMessage', kind: Kind, producers: number, burst: number): ContenderPlan {
  const name =
    mode === 'mpsc'
      ? `mpsc, ${producers} producer thread${producers > 1 ? 's' : ''}`
      : `postMessage, ${producers} producer thread${producers > 1 ? 's' : ''}`;
  return {
    name,
    kind: mode === 'mpsc' ? 'switchyard' : 'peer',
    async start(): Promise<ContenderRun> {
      const workers: Worker[] = [];
      let consumer: Consumer;
      const channels: Array<[Record<string, unknown>, MessagePort[]]> = [];
      if (mode === 'mpsc') {
        const queueName = `bench-mpsc-${++sequence}`;
        const queue = define<unknown>(queueName);
        for (let p = 0; p < producers; p++) {
          const descriptor = queue.producer();
          channels.push([{ descriptor }, [descriptor.port]]);
        }
        consumer = {
          async take(count, keep) {
            const kept: unknown[] = [];
            let received = 0;
            while (received < count) {
              const values = await queue.recvMany(8192);
              if (values === undefined) throw new Error('the queue closed');
              received += values.length;
              if (keep) kept.push(...values);
            }
            return kept;
          },
          close: () => {
            queue.close();
            undefine(queueName);
          },
        };
      } else {
        const ports: MessagePort[] = [];
        let expected = 0;
        let received = 0;
        let keep = false;
        let kept: unknown[] = [];
        let done: (() => void) | undefined;
        const onMessage = (value: unknown): void => {
          if (keep) kept.push(value);
          if (++received === expected) done?.();
        };
        for (let p = 0; p < producers; p++) {
          const { port1, port2 } = new MessageChannel();
          port1.on('message', onMessage);
          ports.push(port1);
          channels.push([{ port: port2 }, [port2]]);
        }
        consumer = {
          take(count, keepValues) {
            received = 0;
            expected = count;
            keep = keepValues;
            kept = [];
            return new Promise((resolve) => {
              done = () => resolve(kept);
            });
          },
          close: () => {
            for (const port of ports) port.close();
          },
        };
      }
      for (let p = 0; p < producers; p++) {
        const [data, transferList] = channels[p]!;
        const worker = new Worker(fixture('mpsc-producer.mjs'), {
          workerData: { mode, kind, producer: p, ...data },
          transferList,
        });
        workers.push(worker);
        await once(worker, 'message');
      }
      const round = async (count: number, keep: boolean): Promise<unknown[]> => {
        const taken = consumer.take(count * producers, keep);
        for (const worker of workers) worker.postMessage(count);
        return taken;
      };
      return {
        async check() {
          const values = await round(500, true);
          const seen = Array.from({ length: producers }, () => [] as number[]);
          for (const value of values) {
            const [p, i] = producerKey(kind, value);
            seen[p]?.push(i);
          }
          const inOrder = Array.from({ length: 500 }, (_, i) => i);
          expectAnswer(
            `${name}: ${kind} values 0..499 from each producer, each once, in order`,
            seen,
            seen.map(() => inOrder),
          );
        },
        run: async (ms) => ({
          ops: await bursts(ms, async () => {
            await round(burst, false);
            return burst * producers;
          }),
        }),
        async close() {
          await Promise.all(
            workers.map(async (worker) => {
              const exited = once(worker, 'exit');
              worker.postMessage('close');
              await exited;
            }),
          );
          consumer.close();
        },
      };
    },
  };
}

/** Scenario 6: @switchyard/mpsc against MessagePort.postMessage, 1, 2 and 4 producer threads to one consumer. */
export const mpscScenario: ScenarioFactory = () => ({
  id: 'mpsc',
  title: 'MPSC channel vs postMessage',
  description:
    'Values from 1, 2 or 4 producer threads to one consumer (the main thread), end to end: build, encode, transport, decode. ' +
    'Producers use trySend (awaiting send only when the queue is full); postMessage producers post in a loop.',
  groups: KINDS.flatMap(({ kind, title, burst }) =>
    [1, 2, 4].map((producers): GroupPlan => ({
      id: `mpsc-${kind}-${producers}`,
      title: `${title}, ${producers} producer thread${producers > 1 ? 's' : ''}`,
      kind: 'throughput',
      unit: 'values',
      reference: contender('mpsc', kind, producers, burst).name,
      contenders: [contender('mpsc', kind, producers, burst), contender('postMessage', kind, producers, burst)],
    })),
  ),
});
