import { createThreadPool } from '@switchyard/pool-thread';
import { Piscina } from 'piscina';
import { expectAnswer } from '../harness/checks.js';
import type { ContenderPlan, ContenderRun, ScenarioFactory } from '../harness/Scenario.js';
import { latencyLoop } from './loops.js';
import { fixture, TRIVIAL } from './payloads.js';
import { ForkPool, poolPids, switchyardProcesses } from './processes.js';
import { checkSwitchyardPool, spreadTenant } from './threads.js';

type Pool = Awaited<ReturnType<ReturnType<typeof switchyardProcesses>>>;

function switchyard(name: string, open: () => Promise<Pool>, processes: boolean): ContenderPlan {
  return {
    name,
    kind: 'switchyard',
    async start(): Promise<ContenderRun> {
      const pool = await open();
      return {
        check: () => checkSwitchyardPool(name, pool, TRIVIAL),
        run: (ms) => latencyLoop(ms, (i) => pool.dispatch(spreadTenant(0, i), i)),
        ...(processes ? { pids: () => poolPids(pool) } : {}),
        close: () => pool.close(),
      };
    },
  };
}

function peer(
  name: string,
  open: () => Promise<{ run(input: unknown): Promise<unknown>; pids?(): number[]; close(): Promise<void> }>,
): ContenderPlan {
  return {
    name,
    kind: 'peer',
    async start(): Promise<ContenderRun> {
      const pool = await open();
      return {
        async check() {
          expectAnswer(`${name}: event 41`, await pool.run(41), 42);
        },
        run: (ms) => latencyLoop(ms, (i) => pool.run(i)),
        ...(pool.pids === undefined ? {} : { pids: () => pool.pids!() }),
        close: () => pool.close(),
      };
    },
  };
}

/** Scenario 3: round-trip latency with one request in flight (an idle service answering one user). */
export const latencyScenario: ScenarioFactory = () => ({
  id: 'latency',
  title: 'Latency at 1 in flight',
  description:
    'One request at a time, each timed from the call to its answer: the idle-service case, where batching cannot help. ' +
    'Percentiles over every sample of every round.',
  groups: [
    {
      id: 'latency-threads',
      title: '2 threads, one request in flight',
      kind: 'latency',
      unit: 'requests',
      reference: 'Switchyard thread pool dispatch',
      contenders: [
        switchyard(
          'Switchyard thread pool dispatch',
          () =>
            createThreadPool<never>({
              workers: 2,
              filename: fixture('switchyard-worker.mjs'),
            }) as unknown as Promise<Pool>,
          false,
        ),
        peer('piscina run(), default options', async () => {
          const pool = new Piscina({ filename: fixture('task.mjs'), name: 'task', minThreads: 2, maxThreads: 2 });
          return { run: (input) => pool.run(input), close: () => pool.close() };
        }),
      ],
    },
    {
      id: 'latency-processes',
      title: '2 processes, one request in flight',
      kind: 'latency',
      unit: 'requests',
      reference: 'Switchyard process pool dispatch',
      contenders: [
        switchyard('Switchyard process pool dispatch', switchyardProcesses(2), true),
        peer('fork + IPC (advanced serialization)', () => ForkPool.start(2)),
      ],
    },
  ],
});
