export * from './errors/errors.js';
export * from './node/Node.js';
export * from './node/onWorker.js';
export * from './node/defineNode.js';
export * from './remote/spawnNode.js';
export type * from './types/remote.js';
