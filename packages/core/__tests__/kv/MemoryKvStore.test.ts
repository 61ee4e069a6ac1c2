import { describe, expect, it } from 'vitest';
import type { TenantId } from '../../src/index.js';
import { MemoryKvStore, tenantKv } from '../../src/index.js';

const a: TenantId = { kind: 'guild', id: '1' };
const b: TenantId = { kind: 'user', id: '1' };

describe('MemoryKvStore', () => {
  it('keeps each tenant apart and copies values in and out', async () => {
    const store = new MemoryKvStore();
    const value = { list: [1] };
    await store.set(a, 'k', value);
    value.list.push(2);
    const read = (await store.get(a, 'k')) as { list: number[] };
    expect(read).toEqual({ list: [1] });
    read.list.push(3);
    expect(await store.get(a, 'k')).toEqual({ list: [1] });
    expect(await store.get(b, 'k')).toBeUndefined();
  });

  it('lists by prefix in key order and deletes', async () => {
    const kv = tenantKv(new MemoryKvStore(), a);
    await kv.set('b:2', 2);
    await kv.set('b:1', 1);
    await kv.set('c', 3);
    expect(await kv.list('b:')).toEqual([
      ['b:1', 1],
      ['b:2', 2],
    ]);
    expect(await kv.list()).toHaveLength(3);
    expect(await kv.delete('c')).toBe(true);
    expect(await kv.delete('c')).toBe(false);
    expect(await kv.get('c')).toBeUndefined();
  });

  it('rejects empty keys and undefined values with ERR_INVALID_ARGUMENT', async () => {
    const store = new MemoryKvStore();
    await expect(store.set(a, '', 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(store.set(a, 'k', undefined)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(store.get(a, 1 as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
