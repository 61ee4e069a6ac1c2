import { createThreadPool } from '@switchyard/pool-thread';
import { Piscina } from 'piscina';
import { processRssBytes } from '../harness/cpu.js';
import type { ContenderPlan, ContenderRun, ScenarioFactory } from '../harness/Scenario.js';
import { TRIVIAL, fixture } from './payloads.js';
import { poolPids, switchyardProcesses } from './processes.js';
import { switchyardWaited, taskPoolContender } from './threads.js';

const CALLERS = 64;
const WORKER_COUNTS = [1, 2, 4];

/**
 * Adds a `workerRssBytes` metric to a plan with worker processes: their resident memory after the
 * rounds. Threads live in this process, whose memory every contender of the group shares, so no
 * per-pool figure is given for them (an RSS difference around one pool's start was dominated by
 * the collector and allocator, down to negative values, and was dropped).
 */
function withWorkerMemory(plan: ContenderPlan): ContenderPlan {
  return {
    ...plan,
    async start(): Promise<ContenderRun> {
      const run = await plan.start();
      if (run.pids === undefined) return run;
      const pids = run.pids.bind(run);
      return {
        ...run,
        metrics: async () => ({ workerRssBytes: pids().reduce((sum, pid) => sum + processRssBytes(pid), 0) }),
      };
    },
  };
}

const series = (plan: ContenderPlan, name: string, workers: number): ContenderPlan =>
  withWorkerMemory({ ...plan, series: name, x: workers });

/** Scenario 8: throughput and memory with 1, 2 and 4 workers. */
export const scalingScenario: ScenarioFactory = () => ({
  id: 'scaling',
  title: 'Scaling with workers: 1, 2, 4',
  description:
    `${CALLERS} callers over 1,000 tenants on 1, 2 or 4 workers (on a 2-core machine 4 workers cannot be faster than 2). ` +
    'Memory: resident memory of the worker processes after the rounds (threads share this process’s memory and get no separate figure).',
  groups: [
    {
      id: 'scaling',
      title: `${CALLERS} callers, ${TRIVIAL.title}`,
      kind: 'throughput',
      unit: 'events',
      reference: 'Switchyard threads, 2 workers',
      contenders: WORKER_COUNTS.flatMap((workers) => [
        series(
          switchyardWaited(
            `Switchyard threads, ${workers} worker${workers > 1 ? 's' : ''}`,
            TRIVIAL,
            CALLERS,
            false,
            () => createThreadPool<never>({ workers, filename: fixture('switchyard-worker.mjs') }) as never,
          ),
          'Switchyard threads',
          workers,
        ),
        series(
          switchyardWaited(
            `Switchyard processes, ${workers} worker${workers > 1 ? 's' : ''}`,
            TRIVIAL,
            CALLERS,
            false,
            switchyardProcesses(workers),
            poolPids,
          ),
          'Switchyard processes',
          workers,
        ),
        series(
          taskPoolContender(`piscina run(), ${workers} thread${workers > 1 ? 's' : ''}`, TRIVIAL, CALLERS, () => {
            const pool = new Piscina({
              filename: fixture('task.mjs'),
              name: 'task',
              minThreads: workers,
              maxThreads: workers,
            });
            return { run: (input) => pool.run(input), close: () => pool.close() };
          }),
          'piscina run()',
          workers,
        ),
      ]),
    },
  ],
});
