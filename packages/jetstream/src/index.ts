export * from './errors/errors.js';
export * from './stream/EventStream.js';
export * from './publisher/JetStreamPublisher.js';
export * from './host/JetStreamWorkerHost.js';
export type * from './host/types.js';
