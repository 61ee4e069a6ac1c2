/**
 * Live resharding pause on worker processes: a pool of 2 whose N tenants all hold state is resized
 * to 3 while 64 callers keep dispatching round-robin over every tenant (see `measureResizePause` in
 * @switchyard/topology-suite/bench). N = 1,000 and 100,000.
 *
 *   pnpm --filter @switchyard/pool-process bench:resize [-- --tenants 1000,100000]
 */
import { parseArgs } from 'node:util';
import { fixtures } from '@switchyard/topology-suite';
import type { ResizablePool, ResizePause } from '@switchyard/topology-suite/bench';
import { measureResizePause, reportResizePauses } from '@switchyard/topology-suite/bench';
import { createProcessPool } from '../src/index.js';

const { values } = parseArgs({ options: { tenants: { type: 'string', default: '1000,100000' } } });
const results: ResizePause[] = [];
for (const count of values.tenants.split(',').map(Number)) {
  results.push(
    await measureResizePause(
      () =>
        createProcessPool({
          workers: 2,
          module: fixtures.basic,
          stdio: 'ignore',
          maxQueue: 1_000_000,
        }) as Promise<ResizablePool>,
      count,
    ),
  );
}
console.log(reportResizePauses('process', results));
