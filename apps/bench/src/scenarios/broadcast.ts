import { createThreadPool } from '@switchyard/pool-thread';
import { CheckFailedError } from '../harness/errors.js';
import type { ContenderPlan, ContenderRun, ScenarioFactory } from '../harness/Scenario.js';
import { latencyLoop } from './loops.js';
import { fixture } from './payloads.js';
import { spreadTenant } from './threads.js';

type Pool = Awaited<ReturnType<typeof createThreadPool>>;

function contender(name: string, workers: number, call: (pool: Pool, i: number) => Promise<unknown>): ContenderPlan {
  return {
    name,
    kind: 'switchyard',
    async start(): Promise<ContenderRun> {
      const pool = await createThreadPool({ workers, filename: fixture('switchyard-worker.mjs') });
      return {
        async check() {
          const entries = await pool.broadcast(41);
          const values = entries.map((entry) => (entry.status === 'fulfilled' ? entry.value : entry.reason));
          if (values.length !== workers || values.some((value) => value !== 42))
            throw new CheckFailedError(
              `${name}: broadcast(41) answered ${JSON.stringify(values)}, expected ${workers} × 42.`,
            );
          const answer = await pool.dispatch(spreadTenant(0, 0), 41 as never);
          if (answer !== 42)
            throw new CheckFailedError(`${name}: dispatch(41) answered ${String(answer)}, expected 42.`);
        },
        run: (ms) => latencyLoop(ms, (i) => call(pool, i)),
        close: () => pool.close(),
      };
    },
  };
}

/** Scenario: what a broadcast to every worker costs next to one dispatch, one call in flight. */
export const broadcastScenario: ScenarioFactory = () => ({
  id: 'broadcast',
  title: 'Broadcast round trip vs one dispatch',
  description:
    'One call in flight at a time, timed from the call to its answer: pool.broadcast(n) (every worker answers) ' +
    'against pool.dispatch(tenant, n) (one worker answers), on the same kind of thread pool.',
  groups: [
    {
      id: 'broadcast-threads',
      title: '2 threads, one call in flight',
      kind: 'latency',
      unit: 'calls',
      reference: 'Switchyard thread pool dispatch',
      contenders: [
        contender('Switchyard thread pool dispatch', 2, (pool, i) => pool.dispatch(spreadTenant(0, i), i as never)),
        contender('Switchyard thread pool broadcast (2 workers)', 2, (pool, i) => pool.broadcast(i)),
        contender('Switchyard thread pool broadcast (4 workers)', 4, (pool, i) => pool.broadcast(i)),
      ],
    },
  ],
});
