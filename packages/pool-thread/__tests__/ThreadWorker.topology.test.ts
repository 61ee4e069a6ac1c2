import { describeTopology } from '@switchyard/topology-suite';
import { createThreadPool } from '../src/index.js';

describeTopology('ThreadWorker', {
  crossesBoundary: true,
  create: ({ workers, fixture, options }) => createThreadPool({ workers, filename: fixture, ...options }),
});
