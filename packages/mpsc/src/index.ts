export * from './errors/MpscError.js';
export * from './queue/Queue.js';
export * from './queue/define.js';
export * from './producer/Producer.js';
export type { ProducerDescriptor } from './shared/protocol.js';
