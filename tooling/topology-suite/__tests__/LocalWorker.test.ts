import { pathToFileURL } from 'node:url';
import { describeTopology } from '../src/index.js';
import type { WorkerDefinition } from '@switchyard/core';
import { LocalWorker, WorkerPool } from '@switchyard/core';

describeTopology('LocalWorker', {
  crossesBoundary: false,
  async create({ workers, fixture, options }) {
    const { worker } = (await import(pathToFileURL(fixture).href)) as { worker: WorkerDefinition };
    const { timeoutMs, store } = options ?? {};
    return WorkerPool.create(
      workers,
      (id) =>
        new LocalWorker(worker, {
          id,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          ...(store === undefined ? {} : { store }),
        }),
    );
  },
});
