import { describeTopology } from '@switchyard/topology-suite';
import { createThreadPool } from '../src/index.js';

describeTopology('ThreadWorker', {
  crossesBoundary: true,
  create: ({ workers, fixture }) => createThreadPool({ workers, filename: fixture }),
});
