import { describe, expect, it } from 'vitest';
import {
  assertTenantId,
  parseTenantKey,
  tenantFromKey,
  InvalidArgumentError,
  InvalidTenantIdError,
  shardFor,
  tenantId,
  tenantKey,
} from '../../src/index.js';
import { cachedTenantKey, checkedTenantKey } from '../../src/tenants/TenantId.js';

describe('shardFor', () => {
  it("computes Discord's formula (id >> 22) % count", () => {
    const id = '81384788765712384';
    expect(shardFor(id, 4)).toBe(Number((BigInt(id) >> 22n) % 4n));
    expect(shardFor(BigInt(id), 7)).toBe(Number((BigInt(id) >> 22n) % 7n));
    expect(shardFor('0', 3)).toBe(0);
  });

  it('spreads ids created at different times over the shards', () => {
    const shards = new Set<number>();
    for (let ms = 0; ms < 16; ms++) shards.add(shardFor(((BigInt(ms) << 22n) | 123n).toString(), 4));
    expect([...shards].sort()).toEqual([0, 1, 2, 3]);
  });

  it('rejects a count below 1 with ERR_INVALID_ARGUMENT', () => {
    expect(() => shardFor('1', 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => shardFor('1', 1.5)).toThrow(InvalidArgumentError);
  });

  it('rejects ids that are not snowflakes with ERR_INVALID_TENANT_ID', () => {
    for (const bad of ['', '-1', '01', '1e3', 'abc', '18446744073709551616']) {
      expect(() => shardFor(bad, 2)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TENANT_ID' }));
    }
    expect(() => shardFor(-1n, 2)).toThrow(InvalidTenantIdError);
  });
});

describe('tenant ids', () => {
  it('accepts guild and user snowflakes', () => {
    expect(tenantId('guild', '81384788765712384')).toEqual({ kind: 'guild', id: '81384788765712384' });
    expect(tenantId('user', 5n)).toEqual({ kind: 'user', id: '5' });
    expect(tenantKey({ kind: 'user', id: '5' })).toBe('user:5');
    expect(tenantId('guild', '18446744073709551615').id).toBe('18446744073709551615');
    expect(() => tenantId('guild', '18446744073709551616')).toThrow(InvalidTenantIdError);
    expect(() => tenantId('guild', '99999999999999999999')).toThrow(InvalidTenantIdError);
  });

  it('throws InvalidTenantIdError for anything else', () => {
    for (const bad of [
      null,
      1,
      'guild:1',
      { kind: 'channel', id: '1' },
      { kind: 'guild', id: 1 },
      { kind: 'guild', id: 'x' },
    ]) {
      expect(() => assertTenantId(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_TENANT_ID', name: 'InvalidTenantIdError' }),
      );
    }
  });
});

describe('tenant keys', () => {
  it('parse back into frozen, shared tenant ids', () => {
    const tenant = tenantFromKey(tenantKey({ kind: 'guild', id: '81384788765712384' }));
    expect(tenant).toEqual({ kind: 'guild', id: '81384788765712384' });
    expect(Object.isFrozen(tenant)).toBe(true);
    expect(tenantFromKey('guild:81384788765712384')).toBe(tenant);
    expect(parseTenantKey('user:1')).toEqual({ kind: 'user', id: '1' });
  });

  it('refuse anything else: undefined from tenantFromKey, ERR_INVALID_TENANT_ID from parseTenantKey', () => {
    for (const bad of ['guild:', 'guild:01', 'team:1', 'guild:18446744073709551616', 'guild', ':1', 1, null]) {
      expect(tenantFromKey(bad)).toBeUndefined();
      expect(() => parseTenantKey(bad as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TENANT_ID' }));
    }
  });

  it('are remembered per tenant object, and computed afresh when the object was changed', () => {
    const tenant = { kind: 'guild' as const, id: '81384788765712384' };
    expect(cachedTenantKey(tenant)).toBe('guild:81384788765712384');
    expect(checkedTenantKey(tenant)).toBe('guild:81384788765712384');
    tenant.id = '1';
    expect(cachedTenantKey(tenant)).toBe('guild:1');
    expect(checkedTenantKey(tenant)).toBe('guild:1');
    // Keyed unchecked first, then changed to something invalid: the check still runs.
    const bad = { kind: 'guild' as const, id: '2' };
    expect(cachedTenantKey(bad)).toBe('guild:2');
    bad.id = '02';
    expect(cachedTenantKey(bad)).toBe('guild:02');
    expect(() => checkedTenantKey(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TENANT_ID' }));
    (tenant as { kind: string }).kind = 'team';
    expect(() => checkedTenantKey(tenant)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TENANT_ID' }));
  });
});
