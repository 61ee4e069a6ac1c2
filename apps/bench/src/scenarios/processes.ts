import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import cluster from 'node:cluster';
import type { WorkerLike, WorkerPool } from '@switchyard/core';
import { createProcessPool } from '@switchyard/pool-process';
import { FixedClusterPool } from 'poolifier';
import { expectAnswer } from '../harness/checks.js';
import type { GroupPlan, ScenarioFactory } from '../harness/Scenario.js';
import { bursts } from './loops.js';
import type { Payload } from './payloads.js';
import { fixture, TRIVIAL } from './payloads.js';
import { handBatchContender, switchyardNoWait, switchyardWaited, taskPoolContender } from './threads.js';

const WORKERS = 2;
const NO_WAIT_BURST = 10_000;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

type Pool = WorkerPool<WorkerLike<unknown, unknown>>;

/** Child process ids of a Switchyard process pool, for the CPU column. */
export const poolPids = (pool: Pool): number[] =>
  pool.workers.map((w) => (w as unknown as { pid?: number }).pid).filter((pid): pid is number => pid !== undefined);

/** Switchyard's process topology with `workers` worker processes. */
export const switchyardProcesses = (workers: number) => () =>
  createProcessPool({
    workers,
    module: fixture('switchyard-worker.mjs'),
    hub: { logger: silent },
  }) as unknown as Promise<Pool>;

/**
 * The fork peer: `workers` children from `child_process.fork` with `serialization: 'advanced'`
 * (structured clone over IPC), requests round robin, answers matched by id from a counter.
 */
export class ForkPool {
  readonly children: ChildProcess[] = [];
  readonly #pending = new Map<number, (value: unknown) => void>();
  #ids = 0;
  #next = 0;

  static async start(workers: number): Promise<ForkPool> {
    const pool = new ForkPool();
    for (let i = 0; i < workers; i++) {
      const child = fork(fixture('ipc-child.mjs'), [], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: [],
      });
      child.on('message', (message: [number, unknown]) => {
        const resolve = pool.#pending.get(message[0]);
        pool.#pending.delete(message[0]);
        resolve?.(message[1]);
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      pool.children.push(child);
    }
    return pool;
  }

  pids(): number[] {
    return this.children.map((child) => child.pid!);
  }

  run(input: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      const id = ++this.#ids;
      this.#pending.set(id, resolve);
      this.children[this.#next++ % this.children.length]!.send([id, input]);
    });
  }

  /** A message that is not answered (id 0). */
  send(input: unknown): void {
    this.children[this.#next++ % this.children.length]!.send([0, input]);
  }

  /** One answered message per child: IPC keeps order, so every earlier message was handled. */
  async flush(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise((resolve) => {
            const id = ++this.#ids;
            this.#pending.set(id, resolve);
            child.send([id, 0]);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.disconnect();
          }),
      ),
    );
  }
}

const poolifierCluster = (workers: number) => {
  const pool = new FixedClusterPool(workers, fixture('poolifier-cluster-worker.cjs'), {
    errorHandler: () => undefined,
  });
  return {
    run: (input: unknown) => pool.execute(input),
    pids: () => Object.values(cluster.workers ?? {}).map((w) => w!.process.pid!),
    close: () => pool.destroy(),
  };
};

function inFlightGroup(inFlight: number, payload: Payload): GroupPlan {
  const reference = `Switchyard dispatch, ${inFlight} in flight over 1,000 tenants`;
  const open = switchyardProcesses(WORKERS);
  const forkContender = taskPoolContender(
    `fork + IPC (advanced serialization), ${inFlight} in flight`,
    payload,
    inFlight,
    () => ForkPool.start(WORKERS),
  );
  const clusterContender = taskPoolContender(
    `poolifier FixedClusterPool, ${inFlight} in flight`,
    payload,
    inFlight,
    () => poolifierCluster(WORKERS),
  );
  return {
    id: `processes-${inFlight}`,
    title: `${WORKERS} processes, ${inFlight} in flight, ${payload.title}`,
    kind: 'throughput',
    unit: 'events',
    reference,
    contenders: [
      switchyardWaited(reference, payload, inFlight, false, open, poolPids),
      forkContender,
      clusterContender,
      ...(inFlight >= 64
        ? [handBatchContender(`fork + IPC, hand-batched 64 per message`, payload, () => ForkPool.start(WORKERS))]
        : []),
    ],
  };
}

/**
 * Scenario 2: tenant dispatch on worker processes, Switchyard (hub over a local socket) against
 * `child_process.fork` with IPC, by hand and hand-batched, and poolifier's cluster pool.
 */
export const processesScenario: ScenarioFactory = () => ({
  id: 'processes',
  title: 'Tenant dispatch on processes',
  description:
    `Events to ${WORKERS} worker processes with 1, 16 or 64 in flight (closed loop), and fire-and-forget. ` +
    'CPU/op counts this process and the worker processes.',
  groups: [
    inFlightGroup(1, TRIVIAL),
    inFlightGroup(16, TRIVIAL),
    inFlightGroup(64, TRIVIAL),
    {
      id: 'processes-no-wait',
      title: `${WORKERS} processes, fire and forget, ${TRIVIAL.title}`,
      kind: 'throughput',
      unit: 'events',
      reference: `Switchyard dispatchNoWait, bursts of 10,000`,
      contenders: [
        switchyardNoWait(
          `Switchyard dispatchNoWait, bursts of 10,000`,
          TRIVIAL,
          switchyardProcesses(WORKERS),
          poolPids,
        ),
        {
          name: 'fork + IPC send() without answer, bursts of 10,000',
          kind: 'peer',
          async start() {
            const pool = await ForkPool.start(WORKERS);
            return {
              async check() {
                expectAnswer('fork + IPC: event 41', await pool.run(41), 42);
              },
              run: async (ms) => ({
                ops: await bursts(ms, async () => {
                  for (let i = 0; i < NO_WAIT_BURST; i++) pool.send(i);
                  await pool.flush();
                  return NO_WAIT_BURST;
                }),
              }),
              pids: () => pool.pids(),
              close: () => pool.close(),
            };
          },
        },
      ],
    },
  ],
});
