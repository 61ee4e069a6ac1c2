import { describeTopology } from '@switchyard/topology-suite';
import { createProcessPool } from '../../src/index.js';

describeTopology('ProcessWorker', {
  crossesBoundary: true,
  create: ({ workers, fixture }) => createProcessPool({ workers, module: fixture, hub: { heartbeatMs: 1000 } }),
});
