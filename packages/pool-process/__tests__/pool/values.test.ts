import type { KvStore, TenantId } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessPool } from '../../src/index.js';
import { MemoryKvStore, ResultNotCloneableError } from '@switchyard/core';
import { createProcessPool, PayloadTooLargeError } from '../../src/index.js';
import { fixture, silent, tenantOn } from '../helpers.js';

/** Records every call that reaches the master's store. */
class RecordingStore implements KvStore {
  readonly calls: Array<[string, TenantId, string]> = [];
  readonly #inner = new MemoryKvStore();
  get(tenant: TenantId, key: string) {
    this.calls.push(['get', tenant, key]);
    return this.#inner.get(tenant, key);
  }
  set(tenant: TenantId, key: string, value: unknown) {
    this.calls.push(['set', tenant, key]);
    return this.#inner.set(tenant, key, value);
  }
  delete(tenant: TenantId, key: string) {
    this.calls.push(['delete', tenant, key]);
    return this.#inner.delete(tenant, key);
  }
  list(tenant: TenantId, prefix: string) {
    this.calls.push(['list', tenant, prefix]);
    return this.#inner.list(tenant, prefix);
  }
}

// One pool for the whole file: these tests only send events and read results.
describe('events, results and ctx.kv across the process boundary', () => {
  const store = new RecordingStore();
  const workerData = { region: 'eu', limits: new Map([['guilds', 10n]]) };
  let pool: ProcessPool;
  const a = tenantOn(0, 1);

  beforeAll(async () => {
    pool = await createProcessPool({
      workers: 1,
      module: fixture('definition.mjs'),
      hub: { logger: silent, maxPayload: 64 * 1024 },
      stdio: 'ignore',
      store,
      workerData,
    });
  });
  afterAll(async () => {
    await pool?.kill();
  });

  it('rejects a non-cloneable event at the call with ERR_INVALID_EVENT, before anything is sent', async () => {
    const handled = pool.stats().handled;
    await expect(pool.dispatch(a, { type: 'echo', value: { reply: () => 1 } })).rejects.toMatchObject({
      code: 'ERR_INVALID_EVENT',
    });
    expect(() => pool.dispatchNoWait(a, { type: 'echo', value: Symbol('s') })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_EVENT' }),
    );
    await expect(pool.runScript(a, 'x', 'y', { type: 'echo', value: [() => 1] })).rejects.toMatchObject({
      code: 'ERR_INVALID_EVENT',
    });
    await expect(pool.dispatch(a, { type: 'drops' })).resolves.toBe(0);
    expect(pool.stats().handled).toBe(handled + 1);
  });

  it('carries values as structured-clone data, not JSON', async () => {
    const value = {
      missing: undefined,
      nan: Number.NaN,
      big: 2n ** 70n,
      when: new Date(86_400_000),
      map: new Map<unknown, unknown>([[1, { deep: new Set(['a']) }]]),
      bytes: new Uint8Array([0, 255]),
      floats: new Float64Array([0.5]),
      pattern: /x+/gi,
      nested: [[[null]]],
    };
    const echoed = (await pool.dispatch(a, { type: 'echo', value })) as typeof value;
    expect(echoed).toEqual(value);
    expect('missing' in echoed).toBe(true);
    expect(echoed.map).toBeInstanceOf(Map);
    expect(echoed.when).toBeInstanceOf(Date);
    expect(echoed.floats).toBeInstanceOf(Float64Array);
  });

  it('rejects a result that cannot be serialized with ERR_RESULT_NOT_CLONEABLE, as every topology does', async () => {
    const error = await pool.dispatch(a, { type: 'return-function' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResultNotCloneableError);
    expect(error).toMatchObject({ code: 'ERR_RESULT_NOT_CLONEABLE', cause: { code: 'ERR_UNSERIALIZABLE_VALUE' } });
  });

  it('rejects an event or a result above maxPayload with ERR_PAYLOAD_TOO_LARGE, and the connection stays up', async () => {
    const pid = pool.workers[0]!.pid;
    const big = await pool
      .dispatch(a, { type: 'echo', value: 'x'.repeat(100 * 1024) })
      .catch((caught: unknown) => caught);
    expect(big).toBeInstanceOf(PayloadTooLargeError);
    await expect(pool.dispatch(a, { type: 'big', size: 100 * 1024 })).rejects.toMatchObject({
      code: 'ERR_PAYLOAD_TOO_LARGE',
    });
    await expect(pool.dispatch(a, { type: 'big', size: 1024 })).resolves.toHaveLength(1024);
    expect(pool.workers[0]!.pid).toBe(pid);
    expect(pool.workers[0]!.failures).toBe(0);
  });

  it('honours the signal of dropTenant and runScript like that of dispatch', async () => {
    await expect(pool.dropTenant(a, { signal: AbortSignal.abort('no') })).rejects.toMatchObject({
      code: 'ABORT_ERR',
      cause: 'no',
    });
    await expect(
      pool.runScript(a, 'n', 'c', { type: 'count' }, { signal: AbortSignal.abort('no') }),
    ).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await expect(pool.runScript(a, 'n', 'c', { type: 'count' })).rejects.toMatchObject({
      code: 'ERR_SCRIPTS_UNSUPPORTED',
    });
  });

  it('gives the definition its workerData as ctx.workerData', async () => {
    await expect(pool.dispatch(a, { type: 'worker-data' })).resolves.toEqual(workerData);
  });

  it('serves ctx.kv from the store the master owns, values as structured-clone data', async () => {
    const value = { at: new Date(0), big: 5n, tags: new Set(['x']) };
    await pool.dispatch(a, { type: 'kv-set', key: 'cfg:a', value });
    await pool.dispatch(a, { type: 'kv-set', key: 'cfg:b', value: 2 });
    expect(store.calls.filter(([op]) => op === 'set')).toEqual([
      ['set', a, 'cfg:a'],
      ['set', a, 'cfg:b'],
    ]);
    const read = (await pool.dispatch(a, { type: 'kv-get', key: 'cfg:a' })) as typeof value;
    expect(read).toEqual(value);
    expect(read.at).toBeInstanceOf(Date);
    await expect(pool.dispatch(a, { type: 'kv-list', prefix: 'cfg:' })).resolves.toEqual([
      ['cfg:a', value],
      ['cfg:b', 2],
    ]);
    await expect(pool.dispatch(a, { type: 'kv-delete', key: 'cfg:a' })).resolves.toBe(true);
    await expect(pool.dispatch(a, { type: 'kv-get', key: 'cfg:a' })).resolves.toBeUndefined();
  });

  it("rebuilds the store's errors in the worker, and refuses a non-cloneable kv value there", async () => {
    // MemoryKvStore refuses empty keys with InvalidArgumentError; the handler rethrows it, so the
    // caller gets it as the handler's error, with its code.
    await expect(pool.dispatch(a, { type: 'kv-set', key: '', value: 1 })).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_INVALID_ARGUMENT',
    });
    const calls = store.calls.length;
    await expect(pool.dispatch(a, { type: 'kv-bad-value' })).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_INVALID_EVENT',
    });
    expect(store.calls.length).toBe(calls);
  });
});
