export * from './runWorkerProcess.js';
export * from '../errors/errors.js';
export type * from '../internal/logger.js';
