import type { TenantId } from '../tenants/TenantId.js';

/**
 * A tenant's key-value storage as a worker sees it (`ctx.kv`). Values are structured-cloneable.
 * In the local and thread topologies it is served directly from the master's {@link KvStore};
 * in the process topology every call travels to the master over the worker's connection.
 */
export interface TenantKv {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Resolves `true` when the key existed. */
  delete(key: string): Promise<boolean>;
  /** Every entry whose key starts with `prefix` (all entries without one), ordered by key. */
  list<T = unknown>(prefix?: string): Promise<Array<[key: string, value: T]>>;
}

/**
 * The storage the master owns for every tenant: an in-memory {@link MemoryKvStore} by default,
 * a database-backed one in production. Small enough to implement in a test.
 */
export interface KvStore {
  get(tenant: TenantId, key: string): Promise<unknown>;
  set(tenant: TenantId, key: string, value: unknown): Promise<void>;
  delete(tenant: TenantId, key: string): Promise<boolean>;
  list(tenant: TenantId, prefix: string): Promise<Array<[string, unknown]>>;
}
