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
 * Adds a `startRssBytes` metric to a plan: how much resident memory starting it added (this
 * process's growth, plus the RSS of its child processes).
 */
function withStartMemory(plan: ContenderPlan): ContenderPlan {
  return {
    ...plan,
    async start(): Promise<ContenderRun> {
      globalThis.gc?.();
      const before = process.memoryUsage().rss;
      const run = await plan.start();
      await run.check();
      const grown = process.memoryUsage().rss - before;
      const children = (run.pids?.() ?? []).reduce((sum, pid) => sum + processRssBytes(pid), 0);
      return { ...run, metrics: async () => ({ startRssBytes: grown + children }) };
    },
  };
}

const series = (plan: ContenderPlan, name: string, workers: number): ContenderPlan =>
  withStartMemory({ ...plan, series: name, x: workers });

/** Scenario 8: throughput and memory with 1, 2 and 4 workers. */
export const scalingScenario: ScenarioFactory = () => ({
  id: 'scaling',
  title: 'Scaling with workers: 1, 2, 4',
  description:
    `${CALLERS} callers over 1,000 tenants on 1, 2 or 4 workers (on a 2-core machine 4 workers cannot be faster than 2). ` +
    'Memory: resident memory that starting the pool added to this process, plus its worker processes’.',
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
