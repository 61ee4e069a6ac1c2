export * from './errors/errors.js';
export * from './hub/Hub.js';
export * from './pool/ProcessWorker.js';
export * from './pool/createProcessPool.js';
export * from './worker/runWorkerProcess.js';
export type * from './internal/logger.js';
