import { InvalidArgumentError, InvalidTenantIdError } from '../errors/errors.js';
import { RecentCache } from '../internal/RecentCache.js';

/** The kinds of tenant a worker serves: a Discord guild or a user (user-installed apps). */
export type TenantKind = 'guild' | 'user';

/**
 * Who an event belongs to. `id` is a Discord snowflake written as a decimal string.
 *
 * @example
 * ```ts
 * const tenant: TenantId = { kind: 'guild', id: '81384788765712384' };
 * ```
 */
export interface TenantId {
  readonly kind: TenantKind;
  readonly id: string;
}

const SNOWFLAKE = /^(0|[1-9][0-9]{0,19})$/;
const MAX_SNOWFLAKE = (1n << 64n) - 1n;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

// Ids seen valid recently: events of one tenant come in runs, so most checks are a Set lookup.
const recentlyValid = new RecentCache<string, true>(131_072);

/** True when `id` is a snowflake: an unsigned 64-bit integer written in decimal without leading zeros. */
export function isSnowflake(id: unknown): id is string {
  if (typeof id !== 'string') return false;
  if (recentlyValid.get(id) === true) return true;
  // Only 20-digit ids can exceed 2^64 - 1 (20 digits long, 18446744073709551615).
  if (!SNOWFLAKE.test(id) || (id.length === 20 && BigInt(id) > MAX_SNOWFLAKE)) return false;
  recentlyValid.set(id, true);
  return true;
}

/**
 * Throws {@link InvalidTenantIdError} unless `tenant` is a valid {@link TenantId}.
 */
export function assertTenantId(tenant: unknown): asserts tenant is TenantId {
  if (tenant === null || typeof tenant !== 'object') {
    throw new InvalidTenantIdError(
      `Expected a tenant id { kind: 'guild' | 'user', id: string }, got ${describe(tenant)}.`,
    );
  }
  const { kind, id } = tenant as { kind?: unknown; id?: unknown };
  if (kind !== 'guild' && kind !== 'user') {
    throw new InvalidTenantIdError(`Expected tenant kind 'guild' or 'user', got ${describe(kind)}.`);
  }
  if (!isSnowflake(id)) {
    throw new InvalidTenantIdError(
      `Expected tenant id to be a Discord snowflake as a decimal string (an unsigned 64-bit integer), got ${describe(id)}.`,
    );
  }
}

/** Builds a validated {@link TenantId}. */
export function tenantId(kind: TenantKind, id: string | bigint): TenantId {
  const tenant = { kind, id: typeof id === 'bigint' ? id.toString() : id };
  assertTenantId(tenant);
  return tenant;
}

/** A string key that identifies a tenant in maps: `guild:123`. */
export function tenantKey(tenant: TenantId): string {
  return `${tenant.kind}:${tenant.id}`;
}

/** A tenant object's key as last computed, with the fields it was computed from (objects can be mutated). */
interface KeyedTenant {
  readonly kind: string;
  readonly id: string;
  readonly key: string;
  /** It passed {@link assertTenantId} with these fields. */
  valid: boolean;
}

// Tenant objects are reused event after event (a bot's guild objects, the runtime's parsed keys):
// their key is built and hashed once, not per event.
const keyedTenants = new WeakMap<object, KeyedTenant>();

function keyedTenant(tenant: TenantId): KeyedTenant {
  let keyed = keyedTenants.get(tenant);
  if (keyed === undefined || keyed.kind !== tenant.kind || keyed.id !== tenant.id) {
    keyed = { kind: tenant.kind, id: tenant.id, key: tenantKey(tenant), valid: false };
    keyedTenants.set(tenant, keyed);
  }
  return keyed;
}

/** {@link tenantKey}, remembered per tenant object (the same string, its hash computed once). @internal */
export function cachedTenantKey(tenant: TenantId): string {
  return keyedTenant(tenant).key;
}

/** {@link assertTenantId}, then {@link cachedTenantKey}: a tenant object reused unchanged is checked once. @internal */
export function checkedTenantKey(tenant: TenantId): string {
  if (tenant !== null && typeof tenant === 'object') {
    const keyed = keyedTenants.get(tenant);
    if (keyed?.valid === true && keyed.kind === tenant.kind && keyed.id === tenant.id) return keyed.key;
  }
  assertTenantId(tenant);
  const keyed = keyedTenant(tenant);
  keyed.valid = true;
  return keyed.key;
}

// Keys parsed recently: the same tenants come back event after event, across every boundary.
const parsedKeys = new RecentCache<string, TenantId>(131_072);

/**
 * Parses a {@link tenantKey} back into a validated tenant id, or returns `undefined` for anything
 * else (keys arrive from other threads and processes). The result is frozen and shared: parsed keys
 * are cached.
 *
 * @example
 * ```ts
 * tenantFromKey('guild:81384788765712384'); // { kind: 'guild', id: '81384788765712384' }
 * tenantFromKey('team:1'); // undefined
 * ```
 */
export function tenantFromKey(key: unknown): TenantId | undefined {
  if (typeof key !== 'string') return undefined;
  const cached = parsedKeys.get(key);
  if (cached !== undefined) return cached;
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  const id = key.slice(colon + 1);
  if (colon === -1 || (kind !== 'guild' && kind !== 'user') || !isSnowflake(id)) return undefined;
  const tenant: TenantId = Object.freeze({ kind, id });
  parsedKeys.set(key, tenant);
  return tenant;
}

/**
 * Like {@link tenantFromKey}, but throws `InvalidTenantIdError`, saying what is wrong, for anything
 * that is not a tenant key.
 *
 * @example
 * ```ts
 * parseTenantKey('guild:81384788765712384'); // { kind: 'guild', id: '81384788765712384' }
 * ```
 */
export function parseTenantKey(key: string): TenantId {
  const tenant = tenantFromKey(key);
  if (tenant !== undefined) return tenant;
  const colon = typeof key === 'string' ? key.indexOf(':') : -1;
  if (colon === -1) throw new InvalidTenantIdError(`Expected a tenant key like 'guild:123', got ${describe(key)}.`);
  assertTenantId({ kind: key.slice(0, colon), id: key.slice(colon + 1) });
  throw new InvalidTenantIdError(`Expected a tenant key like 'guild:123', got ${describe(key)}.`);
}

/**
 * Discord's sharding formula: `(id >> 22) % count`. The upper bits of a snowflake are its
 * creation time, so tenants created around the same time spread over different shards.
 *
 * @example
 * ```ts
 * shardFor('81384788765712384', 4); // 0..3, the same for every call
 * ```
 */
export function shardFor(id: string | bigint, count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new InvalidArgumentError(`Expected the shard count to be an integer >= 1, got ${describe(count)}.`);
  }
  let big: bigint;
  if (typeof id === 'bigint') {
    big = id;
    if (big < 0n || big > MAX_SNOWFLAKE)
      throw new InvalidTenantIdError(`Expected a snowflake between 0 and 2^64-1, got ${big}n.`);
  } else {
    if (!isSnowflake(id))
      throw new InvalidTenantIdError(`Expected a Discord snowflake as a decimal string, got ${describe(id)}.`);
    big = BigInt(id);
  }
  return Number((big >> 22n) % BigInt(count));
}
