/**
 * Live resharding pause on threads (and, as the peer topology, in this thread): a pool of 2 whose
 * N tenants all hold state is resized to 3 while 64 callers keep dispatching round-robin over
 * every tenant (see `measureResizePause` in @switchyard/topology-suite/bench). N = 1,000 and 100,000.
 *
 *   pnpm --filter @switchyard/pool-thread bench:resize [-- --tenants 1000,100000 --topology thread,local]
 */
import { parseArgs } from 'node:util';
import type { WorkerDefinition } from '@switchyard/core';
import { LocalWorker, MemoryKvStore, WorkerPool } from '@switchyard/core';
import { fixtures } from '@switchyard/topology-suite';
import type { ResizablePool, ResizePause } from '@switchyard/topology-suite/bench';
import { measureResizePause, reportResizePauses } from '@switchyard/topology-suite/bench';
import { pathToFileURL } from 'node:url';
import { createThreadPool } from '../src/index.js';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '1000,100000' },
    topology: { type: 'string', default: 'thread,local' },
  },
});
const { worker } = (await import(pathToFileURL(fixtures.basic).href)) as { worker: WorkerDefinition };
const create: Record<string, () => Promise<ResizablePool>> = {
  thread: () => createThreadPool<any>({ workers: 2, filename: fixtures.basic, maxQueue: 1_000_000 }),
  local: () => {
    const store = new MemoryKvStore();
    return WorkerPool.create(2, (id) => new LocalWorker(worker, { id, store })) as Promise<ResizablePool>;
  },
};
for (const topology of values.topology.split(',')) {
  const results: ResizePause[] = [];
  for (const count of values.tenants.split(',').map(Number))
    results.push(await measureResizePause(create[topology]!, count));
  console.log(reportResizePauses(topology, results));
}
