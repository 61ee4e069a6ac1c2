import { pathToFileURL } from 'node:url';
import { describeTopology } from '../src/index.js';
import type { WorkerDefinition } from '@switchyard/core';
import { LocalWorker, MemoryKvStore, WorkerPool } from '@switchyard/core';

describeTopology('LocalWorker', {
  crossesBoundary: false,
  async create({ workers, fixture, options }) {
    const { worker } = (await import(pathToFileURL(fixture).href)) as { worker: WorkerDefinition };
    // A worker in this thread has no liveness probe and no restart: the other options apply as they are.
    const { livenessTimeoutMs: _liveness, timeoutKillAfterMs: _killAfter, restart: _restart, ...local } = options ?? {};
    // One store for the pool, as the thread and process pools have: a tenant's kv follows it when it moves.
    const store = local.store ?? new MemoryKvStore();
    return WorkerPool.create(workers, (id) => new LocalWorker(worker, { id, ...local, store }));
  },
});
