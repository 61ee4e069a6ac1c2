export * from './errors/errors.js';
export * from './thread/ThreadWorker.js';
export * from './thread/createThreadPool.js';
export * from './pool/ThreadPool.js';
export { defaultRestartBackoff, ResultNotCloneableError } from '@switchyard/core';
export type { RestartOptions } from '@switchyard/core';
