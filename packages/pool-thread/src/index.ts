export * from './errors/errors.js';
export * from './thread/restart.js';
export * from './thread/ThreadWorker.js';
export * from './thread/createThreadPool.js';
export * from './pool/ThreadPool.js';
