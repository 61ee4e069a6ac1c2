import { describeTopology } from '@switchyard/topology-suite';
import { createProcessPool } from '../../src/index.js';
import { silent } from '../helpers.js';

describeTopology('ProcessWorker', {
  crossesBoundary: true,
  create: ({ workers, fixture, options }) =>
    createProcessPool({
      workers,
      module: fixture,
      hub: { heartbeatMs: 30_000, logger: silent },
      stdio: 'ignore',
      ...options,
    }),
});
