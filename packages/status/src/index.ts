export * from './errors/errors.js';
export * from './format/formatPrefix.js';
export * from './format/progress.js';
export * from './board/StatusBoard.js';
export * from './board/StatusJob.js';
export * from './watch/StatusWatch.js';
export * from './workers/runWorkers.js';
export * from './workers/wrapWithStatus.js';
