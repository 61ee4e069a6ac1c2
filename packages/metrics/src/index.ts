export * from './metrics/WorkerMetrics.js';
