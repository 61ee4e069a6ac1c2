import { pathToFileURL } from 'node:url';
import { describeTopology } from '../src/index.js';
import type { WorkerDefinition } from '@switchyard/core';
import { LocalWorker, MemoryKvStore, WorkerPool } from '@switchyard/core';

describeTopology('LocalWorker', {
  crossesBoundary: false,
  async create({ workers, fixture, options }) {
    const { worker } = (await import(pathToFileURL(fixture).href)) as { worker: WorkerDefinition };
    const timeoutMs = options?.timeoutMs;
    // One store for the pool, as the thread and process pools have: a tenant's kv follows it when it moves.
    const store = new MemoryKvStore();
    return WorkerPool.create(
      workers,
      (id) => new LocalWorker(worker, { id, store, ...(timeoutMs === undefined ? {} : { timeoutMs }) }),
    );
  },
});
