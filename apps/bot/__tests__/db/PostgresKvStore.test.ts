import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TenantId } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDatabase } from '../../src/index.js';
import { MAX_KV_KEY_LENGTH, openDatabase, PostgresKvStore } from '../../src/index.js';
import { DATABASE_URL, disposeDatabase, dropSchema, testDatabase, uniqueSchema } from '../helpers/database.js';

const guild: TenantId = { kind: 'guild', id: '81384788765712384' };
const otherGuild: TenantId = { kind: 'guild', id: '81384788765712385' };
const user: TenantId = { kind: 'user', id: '81384788765712384' };

let database: BotDatabase;
let store: PostgresKvStore;

beforeAll(async () => {
  database = await testDatabase();
  store = new PostgresKvStore(database);
});

afterAll(async () => {
  await disposeDatabase(database);
});

describe('PostgresKvStore', () => {
  it('gets what was set, undefined for a missing key, and overwrites on set', async () => {
    expect(await store.get(guild, 'missing')).toBeUndefined();
    await store.set(guild, 'greeting', 'hello');
    expect(await store.get(guild, 'greeting')).toBe('hello');
    await store.set(guild, 'greeting', { text: 'hi', times: 2 });
    expect(await store.get(guild, 'greeting')).toEqual({ text: 'hi', times: 2 });
  });

  it('round-trips structured-clone values: Map, Set, Date, BigInt, typed arrays, errors, cycles', async () => {
    const cyclic: { name: string; self?: unknown } = { name: 'loop' };
    cyclic.self = cyclic;
    const value = {
      map: new Map<string, unknown>([
        ['a', 1],
        ['b', [true, null]],
      ]),
      set: new Set([1, 2, 3]),
      date: new Date('2024-01-02T03:04:05.678Z'),
      big: 2n ** 70n,
      bytes: new Uint8Array([0, 1, 255]),
      floats: new Float64Array([1.5, Number.NaN, -0]),
      error: new RangeError('out of range'),
      nested: { list: [1, 'two', { three: 3 }], empty: {}, undef: undefined },
      cyclic,
      unicode: 'zażółć 🎉',
    };
    await store.set(guild, 'complex', value);
    const read = (await store.get(guild, 'complex')) as typeof value;
    expect(read).toEqual({ ...value, error: expect.any(RangeError), cyclic: expect.anything() });
    expect(read.map).toBeInstanceOf(Map);
    expect(read.set).toBeInstanceOf(Set);
    expect(read.date).toBeInstanceOf(Date);
    expect(read.big).toBe(2n ** 70n);
    expect(Object.is(read.floats[2], -0)).toBe(true);
    expect(read.error.message).toBe('out of range');
    expect((read.cyclic as { self: unknown }).self).toBe(read.cyclic);
    expect('undef' in read.nested).toBe(true);
  });

  it('returns a copy: changing what was read or written does not change what is stored', async () => {
    const written = { count: 1 };
    await store.set(guild, 'copy', written);
    written.count = 2;
    const read = (await store.get(guild, 'copy')) as { count: number };
    read.count = 3;
    expect(await store.get(guild, 'copy')).toEqual({ count: 1 });
  });

  it('keeps tenants apart: kind and id both separate them', async () => {
    await store.set(guild, 'shared', 'guild');
    await store.set(otherGuild, 'shared', 'other guild');
    await store.set(user, 'shared', 'user');
    expect(await store.get(guild, 'shared')).toBe('guild');
    expect(await store.get(otherGuild, 'shared')).toBe('other guild');
    expect(await store.get(user, 'shared')).toBe('user');
    expect(await store.delete(otherGuild, 'shared')).toBe(true);
    expect(await store.get(guild, 'shared')).toBe('guild');
  });

  it('deletes a key, resolving true when it existed and false otherwise', async () => {
    await store.set(guild, 'doomed', 1);
    expect(await store.delete(guild, 'doomed')).toBe(true);
    expect(await store.get(guild, 'doomed')).toBeUndefined();
    expect(await store.delete(guild, 'doomed')).toBe(false);
  });

  it('lists the entries under a prefix, ordered by key (code point), and every entry without one', async () => {
    const tenant: TenantId = { kind: 'guild', id: '99999999999999999' };
    for (const key of ['b:2', 'a:1', 'b:10', 'b:1', 'B:upper', 'b%', 'b_x', 'c', 'b:é'])
      await store.set(tenant, key, key.length);
    expect(await store.list(tenant, 'b:')).toEqual([
      ['b:1', 3],
      ['b:10', 4],
      ['b:2', 3],
      ['b:é', 3],
    ]);
    // LIKE wildcards in a prefix are plain characters.
    expect((await store.list(tenant, 'b%')).map(([key]) => key)).toEqual(['b%']);
    expect((await store.list(tenant, 'b_')).map(([key]) => key)).toEqual(['b_x']);
    expect((await store.list(tenant)).map(([key]) => key)).toEqual([
      'B:upper',
      'a:1',
      'b%',
      'b:1',
      'b:10',
      'b:2',
      'b:é',
      'b_x',
      'c',
    ]);
    expect(await store.list(tenant, 'zzz')).toEqual([]);
    expect(await store.list({ kind: 'user', id: '1' }, '')).toEqual([]);
  });

  it('accepts keys up to MAX_KV_KEY_LENGTH characters', async () => {
    const key = 'k'.repeat(MAX_KV_KEY_LENGTH);
    await store.set(guild, key, 'long');
    expect(await store.get(guild, key)).toBe('long');
  });

  describe('bad input', () => {
    it.each([
      ['an empty key', ''],
      ['a key that is not a string', 42],
      ['a key longer than MAX_KV_KEY_LENGTH', 'k'.repeat(MAX_KV_KEY_LENGTH + 1)],
      ['a key with a NUL character', 'a\0b'],
    ])('rejects %s with ERR_INVALID_ARGUMENT in get, set and delete', async (_name, key) => {
      await expect(store.get(guild, key as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(store.set(guild, key as string, 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(store.delete(guild, key as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    });

    it('rejects storing undefined with ERR_INVALID_ARGUMENT (delete removes keys)', async () => {
      await expect(store.set(guild, 'nothing', undefined)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      expect(await store.get(guild, 'nothing')).toBeUndefined();
    });

    it.each([
      ['a function', () => 1],
      ['an object holding a function', { handler: () => 1 }],
      ['a symbol', Symbol('s')],
    ])('rejects %s with ERR_KV_VALUE and stores nothing', async (_name, value) => {
      const error = await store.set(guild, 'bad-value', value).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_KV_VALUE', name: 'KvValueError' });
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(await store.get(guild, 'bad-value')).toBeUndefined();
    });

    it.each([
      ['null', null],
      ['an unknown kind', { kind: 'channel', id: '1' }],
      ['an id that is not a snowflake', { kind: 'guild', id: 'abc' }],
      ['a numeric id', { kind: 'guild', id: 123 }],
    ])('rejects a tenant that is %s with ERR_INVALID_TENANT_ID', async (_name, tenant) => {
      const bad = tenant as unknown as TenantId;
      await expect(store.get(bad, 'k')).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
      await expect(store.set(bad, 'k', 1)).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
      await expect(store.delete(bad, 'k')).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
      await expect(store.list(bad, '')).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
    });

    it('rejects a prefix that is not a string, or holds a NUL, with ERR_INVALID_ARGUMENT', async () => {
      await expect(store.list(guild, 7 as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(store.list(guild, 'a\0')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    });

    it('throws ERR_INVALID_ARGUMENT when constructed without a database', () => {
      expect(() => new PostgresKvStore(undefined as unknown as BotDatabase)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
      expect(() => new PostgresKvStore({} as BotDatabase)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    });
  });

  it('keeps values across a closed and reopened database', async () => {
    const dataDir = DATABASE_URL === undefined ? await mkdtemp(join(tmpdir(), 'bot-kv-')) : undefined;
    const schema = uniqueSchema();
    const options = DATABASE_URL === undefined ? { dataDir: dataDir! } : { url: DATABASE_URL, schema };
    try {
      const first = await openDatabase(options);
      await new PostgresKvStore(first).set(guild, 'config', { bannedWords: ['spoiler'], since: new Date(0) });
      await first.close();
      await expect(new PostgresKvStore(first).get(guild, 'config')).rejects.toMatchObject({
        code: 'ERR_DATABASE_CLOSED',
      });

      const second = await openDatabase(options);
      try {
        expect(await new PostgresKvStore(second).get(guild, 'config')).toEqual({
          bannedWords: ['spoiler'],
          since: new Date(0),
        });
      } finally {
        await second.close();
      }
    } finally {
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
      await dropSchema(schema);
    }
  });
});
