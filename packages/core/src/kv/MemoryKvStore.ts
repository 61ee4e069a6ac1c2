import { InvalidArgumentError } from '../errors/errors.js';
import type { TenantId } from '../tenants/TenantId.js';
import { tenantKey } from '../tenants/TenantId.js';
import type { KvStore, TenantKv } from './KvStore.js';

function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(
      `Expected a non-empty string key, got ${typeof key === 'string' ? '""' : typeof key}.`,
    );
  }
}

/**
 * A {@link KvStore} in the master's memory. Values are structured-cloned on the way in and out,
 * so a caller can never mutate what is stored, exactly as with a remote store.
 */
export class MemoryKvStore implements KvStore {
  readonly #tenants = new Map<string, Map<string, unknown>>();

  async get(tenant: TenantId, key: string): Promise<unknown> {
    assertKey(key);
    const value = this.#tenants.get(tenantKey(tenant))?.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  async set(tenant: TenantId, key: string, value: unknown): Promise<void> {
    assertKey(key);
    if (value === undefined)
      throw new InvalidArgumentError('Expected a value to store, got undefined; use delete() to remove a key.');
    const copy = structuredClone(value);
    const k = tenantKey(tenant);
    let entries = this.#tenants.get(k);
    if (entries === undefined) this.#tenants.set(k, (entries = new Map()));
    entries.set(key, copy);
  }

  async delete(tenant: TenantId, key: string): Promise<boolean> {
    assertKey(key);
    const k = tenantKey(tenant);
    const entries = this.#tenants.get(k);
    const existed = entries?.delete(key) ?? false;
    if (entries !== undefined && entries.size === 0) this.#tenants.delete(k);
    return existed;
  }

  async list(tenant: TenantId, prefix: string): Promise<Array<[string, unknown]>> {
    const entries = this.#tenants.get(tenantKey(tenant));
    if (entries === undefined) return [];
    const out: Array<[string, unknown]> = [];
    for (const [key, value] of entries) if (key.startsWith(prefix)) out.push([key, structuredClone(value)]);
    return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** The {@link TenantKv} view of one tenant inside a {@link KvStore}. */
export function tenantKv(store: KvStore, tenant: TenantId): TenantKv {
  return {
    get: (key) => store.get(tenant, key) as Promise<never>,
    set: (key, value) => store.set(tenant, key, value),
    delete: (key) => store.delete(tenant, key),
    list: (prefix = '') => store.list(tenant, prefix) as Promise<never>,
  };
}
