import { pathToFileURL } from 'node:url';
import { threadId as mainThreadId } from 'node:worker_threads';
import type { DispatchErrorInfo, TenantId } from '@switchyard/core';
import { InvalidArgumentError, MemoryKvStore, RemoteError, WorkerKilledError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { ResultNotCloneableError, ThreadWorker } from '../../src/index.js';
import { fixture, guild, next, rejection, startWorker, track } from '../helpers.js';
import { osThreads } from '../threads.js';

describe('ThreadWorker', () => {
  it('runs every event in one dedicated thread, not the main one', async () => {
    const worker = await startWorker();
    const ids = await Promise.all([1, 2, 3].map((n) => worker.dispatch(guild(n), { type: 'thread' })));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).not.toBe(mainThreadId);
    expect(worker.stats()).toMatchObject({ threadId: ids[0], state: 'running', restarts: 0 });
  });

  it('loads the module from a path, a file: URL string or a URL object', async () => {
    const path = fixture('trivial.mjs');
    for (const filename of [path, pathToFileURL(path).href, pathToFileURL(path)]) {
      const worker = track(await ThreadWorker.create<{ add?: number }, number>({ filename }));
      await expect(worker.dispatch(guild(1), { add: 2 })).resolves.toBe(2);
    }
  });

  it('gives the hooks the worker id, the workerData and the tenant', async () => {
    const worker = await startWorker({ id: 3, workerData: { answer: 42, bytes: new Uint8Array([1]) } });
    await expect(worker.dispatch(guild(1), { type: 'context' })).resolves.toEqual({
      workerId: 3,
      workerData: { answer: 42, bytes: new Uint8Array([1]) },
      tenant: guild(1),
    });
  });

  it('sends the events, no-wait events and drops of one tick as one batch', async () => {
    const worker = await startWorker();
    const before = worker.stats().batches;
    const waited: Array<Promise<unknown>> = [];
    for (let i = 0; i < 200; i++) waited.push(worker.dispatch(guild(i % 5), { type: 'count' }));
    for (let i = 0; i < 300; i++) worker.dispatchNoWait(guild(i % 7), { type: 'count' });
    waited.push(worker.dropTenant(guild(9)));
    await Promise.all(waited);
    expect(worker.stats().batches).toBe(before + 1);
    expect(worker.stats()).toMatchObject({ handled: 500, queued: 0 });
  });

  it('sends every event as its own transfer when maxBatchSize is 1', async () => {
    const worker = await startWorker({ maxBatchSize: 1 });
    const before = worker.stats().batches;
    const results = await Promise.all(Array.from({ length: 40 }, () => worker.dispatch(guild(1), { type: 'count' })));
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(worker.stats().batches).toBe(before + 40);
  });

  it("keeps each tenant's order across many batches in flight at once", async () => {
    const worker = await startWorker({ maxBatchSize: 7, maxInFlight: 21 });
    const tenants = [guild(1), guild(2), guild(3)];
    const sent = 400;
    const waited: Array<Promise<unknown>> = [];
    for (let seq = 0; seq < sent; seq++) {
      for (const tenant of tenants) {
        if (seq % 3 === 0) waited.push(worker.dispatch(tenant, { type: 'record', seq }));
        else worker.dispatchNoWait(tenant, { type: 'record', seq });
      }
    }
    await Promise.all(waited);
    for (const tenant of tenants) {
      await expect(worker.dispatch(tenant, { type: 'log' })).resolves.toEqual(
        Array.from({ length: sent }, (_, i) => i),
      );
    }
  });

  it('answers the events of a batch that finished without waiting for a slow one', async () => {
    const worker = await startWorker();
    const order: string[] = [];
    const slow = worker
      .dispatch(guild(1), { type: 'wait', key: 'slow' })
      .then((value) => order.push(`slow:${String(value)}`));
    const fast = worker.dispatch(guild(2), { type: 'count' }).then((value) => order.push(`fast:${String(value)}`));
    await fast;
    expect(order).toEqual(['fast:1']);
    expect(worker.stats().queued).toBe(1);
    // The slow event outlived its batch: its result arrives on its own.
    await worker.dispatch(guild(3), { type: 'release', key: 'slow' });
    await slow;
    expect(order).toEqual(['fast:1', 'slow:released']);
    expect(worker.stats().queued).toBe(0);
  });

  it("runs a tenant's timers while lone calls arrive back to back (the thread waits for the next call only briefly)", async () => {
    const worker = await startWorker();
    await expect(worker.dispatch(guild(1), { type: 'arm-timer' })).resolves.toBe('armed');
    let calls = 0;
    // One call in flight after the other, as fast as the thread answers: the timer still fires.
    while (!(await worker.dispatch(guild(1), { type: 'fired' }))) calls++;
    expect(worker.stats()).toMatchObject({ handled: calls + 2, failed: 0 });
  });

  it("runs a tenant's timer while the thread waits for its next call, with no call coming", async () => {
    let stored!: (value: unknown) => void;
    const set = new Promise((resolve) => (stored = resolve));
    class Watched extends MemoryKvStore {
      override async set(tenant: TenantId, key: string, value: unknown): Promise<void> {
        await super.set(tenant, key, value);
        stored(value);
      }
    }
    const worker = await startWorker({ store: new Watched() });
    await expect(worker.dispatch(guild(1), { type: 'kv-set-later', key: 'k', value: 7 })).resolves.toBe('scheduled');
    // Nothing else is sent: the parked thread is released and its timer fires.
    await expect(set).resolves.toBe(7);
  });

  it('rejects a non-cloneable event with ERR_INVALID_EVENT at the call, and the thread keeps its state', async () => {
    const worker = await startWorker();
    const a = guild(1);
    await worker.dispatch(a, { type: 'count' });
    await expect(worker.dispatch(a, { type: 'count', reply: () => 1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_EVENT',
    });
    expect(() => worker.dispatchNoWait(a, { type: 'count', tag: Symbol('x') })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_EVENT' }),
    );
    await expect(worker.runScript(a, 'x', 'y', { fn: () => 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_EVENT' });
    await expect(worker.dispatch(a, { type: 'count' })).resolves.toBe(2);
    expect(worker.stats().restarts).toBe(0);
  });

  it('fails the batch of an event that stops being cloneable after the check with ERR_INVALID_EVENT, and the thread lives on', async () => {
    const worker = await startWorker();
    await worker.dispatch(guild(1), { type: 'count' });
    let reads = 0;
    // Cloneable when dispatch checks it, a function when the batch is cloned.
    const sly = {
      type: 'count',
      get extra(): unknown {
        return reads++ === 0 ? 1 : () => 1;
      },
    };
    await expect(worker.dispatch(guild(1), sly)).rejects.toMatchObject({
      code: 'ERR_INVALID_EVENT',
      cause: { name: 'DataCloneError' },
    });
    await expect(worker.dispatch(guild(1), { type: 'count' })).resolves.toBe(2);
    expect(worker.stats()).toMatchObject({ restarts: 0, queued: 0 });
  });

  it('fails only the event whose result cannot be cloned, with ERR_RESULT_NOT_CLONEABLE', async () => {
    const worker = await startWorker();
    const [bad, good] = await Promise.allSettled([
      worker.dispatch(guild(1), { type: 'unclonable' }),
      worker.dispatch(guild(1), { type: 'count' }),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'ERR_RESULT_NOT_CLONEABLE' } });
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(ResultNotCloneableError);
    expect(good).toEqual({ status: 'fulfilled', value: 1 });
  });

  it("rebuilds a handler error's cause too", async () => {
    const worker = await startWorker();
    const error = await rejection(worker.dispatch(guild(1), { type: 'throw-with-cause' }));
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: 'ERR_REMOTE', remoteName: 'Error', message: 'outer' });
    expect(error.cause).toMatchObject({ code: 'ERR_REMOTE', remoteName: 'RangeError', message: 'inner' });
  });

  it('rejects runScript with ERR_SCRIPTS_UNSUPPORTED when the definition has no script engine', async () => {
    const worker = await startWorker();
    await expect(worker.runScript(guild(1), 'name', 'code', {})).rejects.toMatchObject({
      code: 'ERR_SCRIPTS_UNSUPPORTED',
    });
  });

  it('rejects runScript with ERR_INVALID_ARGUMENT for a name or code that is not a string', async () => {
    const worker = await startWorker();
    await expect(worker.runScript(guild(1), 1 as never, 'code', {})).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(worker.runScript(guild(1), 'name', null as never, {})).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('reports a failing startup hook to every event, as LocalWorker does', async () => {
    const worker = await startWorker({ workerData: { startup: 'throw' } });
    const error = await rejection(worker.dispatch(guild(1), { type: 'count' }));
    // The hook's own error, as the hook threw it (a framework class thrown by user code stays the user's).
    expect(error).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_INVALID_ARGUMENT', message: 'startup refused' });
    await expect(worker.dispatch(guild(2), { type: 'count' })).rejects.toMatchObject({
      remoteCode: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('aborting a queued event and then the running one still runs the third (piscina #805)', async () => {
    const worker = await startWorker();
    const a = guild(1);
    const first = new AbortController();
    const second = new AbortController();
    const running = worker.dispatch(a, { type: 'wait', key: 'g805' }, { signal: first.signal });
    const queued = worker.dispatch(a, { type: 'record', seq: 2 }, { signal: second.signal });
    const third = worker.dispatch(a, { type: 'record', seq: 3 });
    // The three are in the thread and the first one is running.
    await expect(worker.dispatch(guild(2), { type: 'started', key: 'g805' })).resolves.toBe(true);
    second.abort('not needed');
    await expect(queued).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'not needed' });
    first.abort('too slow');
    await expect(running).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'too slow' });
    // Aborting the running event does not kill the thread: the handler goes on, then the third runs.
    await worker.dispatch(guild(2), { type: 'release', key: 'g805' });
    await expect(third).resolves.toBe(2);
    await expect(worker.dispatch(a, { type: 'log' })).resolves.toEqual(['g805', 3]);
    expect(worker.stats()).toMatchObject({ restarts: 0, queued: 0 });
  });

  it('rejects a dropTenant whose signal is already aborted with ABORT_ERR, and keeps the state', async () => {
    const worker = await startWorker();
    await worker.dispatch(guild(1), { type: 'count' });
    await expect(worker.dropTenant(guild(1), { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORT_ERR',
    });
    await expect(worker.dispatch(guild(1), { type: 'count' })).resolves.toBe(2);
  });

  it('drops a tenant in the thread: its dropTenant hook runs and its next event starts fresh', async () => {
    const store = new MemoryKvStore();
    const worker = await startWorker({ store });
    const a = guild(1);
    await worker.dispatch(a, { type: 'count' });
    await worker.dispatch(a, { type: 'count' });
    expect(worker.stats().tenants).toBe(1);
    await worker.dropTenant(a);
    expect(worker.stats().tenants).toBe(0);
    await expect(store.get(a, 'dropped:0')).resolves.toBe(2);
    await expect(worker.dispatch(a, { type: 'count' })).resolves.toBe(1);
  });

  it('reports tenants held, events queued, handled and failed, the thread and its transfers', async () => {
    const worker = await startWorker();
    await worker.dispatch(guild(1), { type: 'count' });
    await worker.dispatch(guild(2), { type: 'throw' }).catch(() => undefined);
    const held = worker.dispatch(guild(3), { type: 'wait', key: 'stats' });
    const behind = worker.dispatch(guild(3), { type: 'count' });
    expect(worker.stats().queued).toBe(2);
    await worker.dispatch(guild(4), { type: 'started', key: 'stats' });
    await worker.dispatch(guild(4), { type: 'release', key: 'stats' });
    await Promise.all([held, behind]);
    const stats = worker.stats();
    expect(stats).toMatchObject({ id: 0, tenants: 4, queued: 0, handled: 6, failed: 1, state: 'running', restarts: 0 });
    // count, throw, [wait + count + started] (dispatched in one turn), release: one transfer per turn.
    expect(stats.batches).toBe(4);
    expect(stats.threadId).toBeGreaterThan(0);
  });

  it('rejects with ERR_BACKPRESSURE beyond maxQueue, and accepts again once events finish', async () => {
    const worker = await startWorker({ maxQueue: 3 });
    const held = worker.dispatch(guild(1), { type: 'wait', key: 'bp' });
    worker.dispatchNoWait(guild(1), { type: 'count' });
    const third = worker.dispatch(guild(2), { type: 'count' });
    await expect(worker.dispatch(guild(2), { type: 'count' })).rejects.toMatchObject({ code: 'ERR_BACKPRESSURE' });
    expect(() => worker.dispatchNoWait(guild(2), { type: 'count' })).toThrow(
      expect.objectContaining({ code: 'ERR_BACKPRESSURE' }),
    );
    await expect(worker.dropTenant(guild(2))).rejects.toMatchObject({ code: 'ERR_BACKPRESSURE' });
    await third;
    await worker.dispatch(guild(2), { type: 'release', key: 'bp' });
    await held;
    await expect(worker.dispatch(guild(1), { type: 'count' })).resolves.toBe(2);
  });

  it('serves ctx.kv from the store in the options and hands store errors to the handler', async () => {
    class FussyStore extends MemoryKvStore {
      override async get(tenant: TenantId, key: string): Promise<unknown> {
        if (key === 'forbidden') throw new InvalidArgumentError('no such key allowed');
        return super.get(tenant, key);
      }
    }
    const store = new FussyStore();
    const worker = await startWorker({ store });
    await worker.dispatch(guild(1), { type: 'kv-set', key: 'greeting', value: { text: 'hi', at: new Date(5) } });
    await expect(store.get(guild(1), 'greeting')).resolves.toEqual({ text: 'hi', at: new Date(5) });
    await store.set(guild(1), 'from-main', [1, 2]);
    await expect(worker.dispatch(guild(1), { type: 'kv-get', key: 'from-main' })).resolves.toEqual([1, 2]);
    // The handler gets the store's error as its class; the caller gets it as the handler's error.
    const error = await rejection(worker.dispatch(guild(1), { type: 'kv-get', key: 'forbidden' }));
    expect(error).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_INVALID_ARGUMENT' });
    expect(error.message).toBe('no such key allowed');
    await expect(worker.dispatch(guild(1), { type: 'kv-get-class', key: 'forbidden' })).resolves.toBe(
      'InvalidArgumentError',
    );
    await expect(worker.dispatch(guild(1), { type: 'kv-set', key: 'nothing', value: undefined })).rejects.toMatchObject(
      { code: 'ERR_REMOTE', remoteCode: 'ERR_INVALID_ARGUMENT' },
    );
  });

  it('close() finishes accepted events, runs the dropTenant hooks in the thread, then ends the thread', async () => {
    const store = new MemoryKvStore();
    const threadsBefore = osThreads();
    const worker = new ThreadWorker<any, any>({ filename: fixture('faults.mjs'), store });
    await worker.ready;
    expect(osThreads()).toBeGreaterThan(threadsBefore);
    const accepted = [
      worker.dispatch(guild(1), { type: 'count' }),
      worker.dispatch(guild(2), { type: 'count' }),
      worker.dispatch(guild(2), { type: 'count' }),
    ];
    await worker.close();
    await expect(Promise.all(accepted)).resolves.toEqual([1, 1, 2]);
    await expect(store.get(guild(1), 'dropped:0')).resolves.toBe(1);
    await expect(store.get(guild(2), 'dropped:0')).resolves.toBe(2);
    expect(worker.stats()).toMatchObject({ state: 'closed', tenants: 0, handled: 3, threadId: undefined });
    expect(osThreads()).toBe(threadsBefore);
    await expect(worker.dispatch(guild(1), { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(() => worker.dispatchNoWait(guild(1), { type: 'count' })).toThrow(WorkerKilledError);
    await expect(worker.close()).resolves.toBeUndefined();
    await expect(worker.kill()).resolves.toBeUndefined();
  });

  it('kill() terminates the thread, then rejects running, queued and no-wait events with ERR_WORKER_KILLED', async () => {
    const threadsBefore = osThreads();
    const worker = track(new ThreadWorker<any, any>({ filename: fixture('faults.mjs') }));
    await worker.ready;
    const running = rejection(worker.dispatch(guild(1), { type: 'wait', key: 'forever' }));
    const queued = rejection(worker.dispatch(guild(1), { type: 'count' }));
    const reported: DispatchErrorInfo[] = [];
    worker.on('dispatchError', (info) => reported.push(info));
    worker.dispatchNoWait(guild(1), { type: 'count' });
    await worker.dispatch(guild(2), { type: 'started', key: 'forever' });
    await worker.kill('shutting down');
    expect(osThreads()).toBe(threadsBefore);
    for (const error of [await running, await queued]) {
      expect(error).toBeInstanceOf(WorkerKilledError);
      expect(error.cause).toBe('shutting down');
    }
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ workerId: 0, tenant: guild(1), error: { code: 'ERR_WORKER_KILLED' } });
    expect(worker.stats()).toMatchObject({ state: 'killed', queued: 0, threadId: undefined });
    await expect(worker.dispatch(guild(1), { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await expect(worker.dropTenant(guild(1))).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await expect(worker.close()).resolves.toBeUndefined();
  });

  it('kill() while the first thread starts rejects ready with ERR_WORKER_KILLED', async () => {
    const worker = new ThreadWorker({ filename: fixture('faults.mjs') });
    const events = next(worker, 'crash');
    const ready = rejection(worker.ready);
    await worker.kill();
    expect(await ready).toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(worker.stats().state).toBe('killed');
    // Killing is not a crash.
    expect(await Promise.race([events, Promise.resolve('no crash')])).toBe('no crash');
  });

  it('closes through Symbol.asyncDispose', async () => {
    let outside: ThreadWorker | undefined;
    {
      await using worker = await ThreadWorker.create({ filename: fixture('trivial.mjs') });
      outside = worker;
      await worker.dispatch(guild(1), {});
    }
    expect(outside.stats().state).toBe('closed');
  });

  it('rejects ready with ERR_THREAD_START when the module exports no definition, and kills itself', async () => {
    const threadsBefore = osThreads();
    const worker = new ThreadWorker({ filename: fixture('no-definition.mjs') });
    const queued = rejection(worker.dispatch(guild(1), {}));
    const error = await rejection(worker.ready);
    expect(error).toMatchObject({ code: 'ERR_THREAD_START' });
    expect(error.cause).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(await queued).toMatchObject({ code: 'ERR_WORKER_KILLED', cause: error });
    await worker.kill();
    expect(worker.stats().state).toBe('killed');
    expect(osThreads()).toBe(threadsBefore);
  });

  it('rejects ready with ERR_THREAD_START when the module throws while it is imported', async () => {
    const worker = new ThreadWorker({ filename: fixture('throws-on-import.mjs') });
    const error = await rejection(worker.ready);
    expect(error).toMatchObject({ code: 'ERR_THREAD_START' });
    expect(error.cause).toMatchObject({ code: 'ERR_REMOTE', message: 'this module cannot be imported' });
    await worker.kill();
  });

  it('rejects malformed tenants with ERR_INVALID_TENANT_ID before anything is sent', async () => {
    const worker = await startWorker();
    const bad = { kind: 'guild', id: '01' } as TenantId;
    await expect(worker.dispatch(bad, {})).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
    await expect(worker.runScript(bad, 'a', 'b', {})).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
    await expect(worker.dropTenant(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
    expect(worker.stats().queued).toBe(0);
  });

  describe('options', () => {
    const filename = fixture('trivial.mjs');
    it.each([
      ['options', null, /options object/],
      ['filename', { filename: 42 }, /`filename`/],
      ['filename', { filename: '' }, /`filename`/],
      ['filename', { filename: 'https://example.com/worker.js' }, /`filename`/],
      ['filename', { filename: new URL('https://example.com/worker.js') }, /file: URL/],
      ['filename', { filename: fixture('missing.mjs') }, /existing file/],
      ['id', { filename, id: -1 }, /`id`/],
      ['maxQueue', { filename, maxQueue: 0 }, /`maxQueue`/],
      ['maxBatchSize', { filename, maxBatchSize: 2.5 }, /`maxBatchSize`/],
      ['maxInFlight', { filename, maxInFlight: 0 }, /`maxInFlight`/],
      ['livenessTimeoutMs', { filename, livenessTimeoutMs: 0 }, /`livenessTimeoutMs`/],
      ['timeoutMs', { filename, timeoutMs: -1 }, /`timeoutMs`/],
      ['store', { filename, store: { get() {} } }, /`store`/],
      ['resourceLimits', { filename, resourceLimits: 5 }, /`resourceLimits`/],
      ['workerData', { filename, workerData: { fn: () => 1 } }, /`workerData`/],
      ['restart', { filename, restart: 'soon' }, /`restart`/],
      ['restart.backoff', { filename, restart: { backoff: 5 } }, /`restart.backoff`/],
      [
        'restart.maxConsecutiveFailures',
        { filename, restart: { maxConsecutiveFailures: 0 } },
        /`restart.maxConsecutiveFailures`/,
      ],
      ['restart.stableAfterMs', { filename, restart: { stableAfterMs: -1 } }, /`restart.stableAfterMs`/],
    ])('rejects an invalid %s with ERR_INVALID_ARGUMENT', (_, options, message) => {
      const threadsBefore = osThreads();
      let error: unknown;
      try {
        track(new ThreadWorker(options as never));
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) });
      expect(osThreads()).toBe(threadsBefore);
    });
  });
});
