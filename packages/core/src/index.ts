export * from './errors/SwitchyardError.js';
export * from './errors/errors.js';
export * from './errors/serialize.js';
export * from './kv/MemoryKvStore.js';
export type * from './kv/KvStore.js';
export * from './tenants/TenantId.js';
export * from './tenants/defineWorker.js';
export type * from './tenants/WorkerLike.js';
export * from './tasks/Worker.js';
