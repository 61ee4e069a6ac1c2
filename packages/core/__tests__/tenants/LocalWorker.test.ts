import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { DispatchMessage, TenantId, WorkerLike } from '../../src/index.js';
import {
  defineWorker,
  shardFor,
  findWorkerDefinition,
  isWorkerDefinition,
  LocalWorker,
  MemoryKvStore,
  ScriptsUnsupportedError,
  TenantRuntime,
  WorkerPool,
} from '../../src/index.js';

const g1: TenantId = { kind: 'guild', id: '81384788765712384' };
const u1: TenantId = { kind: 'user', id: '80351110224678912' };

const counter = defineWorker({
  createTenant: () => ({ n: 0 }),
  onEvent: (state, event: { add: number }) => (state.n += event.add),
});

describe('defineWorker', () => {
  it('returns a frozen, recognisable definition', () => {
    expect(isWorkerDefinition(counter)).toBe(true);
    expect(Object.isFrozen(counter)).toBe(true);
    expect(isWorkerDefinition({ createTenant() {}, onEvent() {} })).toBe(false);
  });

  it('throws ERR_INVALID_ARGUMENT for missing or wrong hooks', () => {
    const cases: unknown[] = [
      null,
      1,
      {},
      { createTenant() {} },
      { createTenant() {}, onEvent: 1 },
      { createTenant() {}, onEvent() {}, startup: 'x' },
      { createTenant() {}, onEvent() {}, scriptEngine: {} },
      { createTenant() {}, onEvent() {}, scriptEngine: { run() {}, dropTenant: 1 } },
      { createTenant() {}, onEvent() {}, exportTenant() {} },
      { createTenant() {}, onEvent() {}, importTenant() {} },
      { createTenant() {}, onEvent() {}, exportTenant: 1, importTenant() {} },
    ];
    for (const bad of cases) {
      expect(() => defineWorker(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});

describe('findWorkerDefinition', () => {
  it('finds the default export, then `worker`, then the only definition', () => {
    const other = defineWorker({ createTenant: () => 0, onEvent: () => 1 });
    expect(findWorkerDefinition({ default: counter, worker: other })).toBe(counter);
    expect(findWorkerDefinition({ worker: other, x: counter })).toBe(other);
    expect(findWorkerDefinition({ mine: other, helper: () => 1 })).toBe(other);
  });

  it('throws ERR_INVALID_ARGUMENT when there is none or more than one', () => {
    expect(() => findWorkerDefinition({ a: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() =>
      findWorkerDefinition({ a: counter, b: defineWorker({ createTenant: () => 0, onEvent: () => 1 }) }),
    ).toThrow(/found 2/);
  });
});

describe('LocalWorker', () => {
  it('is a WorkerLike of size 1 with the given id', async () => {
    const worker: WorkerLike<{ add: number }, number> = new LocalWorker(counter, { id: 3 });
    expect(worker.id).toBe(3);
    expect(worker.size).toBe(1);
    await expect(worker.dispatch(g1, { add: 2 })).resolves.toBe(2);
    await worker.close();
  });

  it('rejects a definition not made by defineWorker and a bad id with ERR_INVALID_ARGUMENT', () => {
    expect(() => new LocalWorker({ createTenant() {}, onEvent() {} } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new LocalWorker(counter, { id: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects runScript with ERR_SCRIPTS_UNSUPPORTED when the definition has no script engine', async () => {
    const worker = new LocalWorker(counter);
    const error = await worker.runScript(g1, 'x', 'return 1', { add: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScriptsUnsupportedError);
    expect(error).toMatchObject({ code: 'ERR_SCRIPTS_UNSUPPORTED' });
    await worker.kill();
  });

  it("calls the script engine's dropTenant after the definition's hook, on dropTenant and on close", async () => {
    const calls: string[] = [];
    const def = defineWorker({
      createTenant: (tenant) => ({ tenant: tenant.id }),
      onEvent: () => 'event',
      dropTenant: (state) => {
        calls.push(`definition ${state.tenant}`);
        throw new Error('hook failed');
      },
      scriptEngine: {
        run: (state, script) => `${script.name} in ${state.tenant}`,
        dropTenant: (state, ctx) => {
          calls.push(`engine ${state.tenant} ${ctx.tenant.id}`);
        },
      },
    });
    const worker = new LocalWorker(def);
    await expect(worker.runScript(g1, 's', 'return 1', null)).resolves.toBe(`s in ${g1.id}`);
    await expect(worker.dispatch(u1, null)).resolves.toBe('event');
    await expect(worker.dropTenant(g1)).rejects.toThrow('hook failed');
    expect(calls).toEqual([`definition ${g1.id}`, `engine ${g1.id} ${g1.id}`]);
    await worker.close();
    expect(calls.slice(2)).toEqual([`definition ${u1.id}`, `engine ${u1.id} ${u1.id}`]);
  });

  it('gives hooks a context with workerId, tenant, workerData, kv and a signal that aborts on kill', async () => {
    const store = new MemoryKvStore();
    let seen: { signal: AbortSignal } | undefined;
    const def = defineWorker({
      createTenant: () => null,
      onEvent: async (_state, key: string, ctx) => {
        seen = ctx;
        await ctx.kv.set(key, ctx.workerData);
        return { workerId: ctx.workerId, tenant: ctx.tenant };
      },
    });
    const worker = new LocalWorker(def, { id: 7, store, workerData: { region: 'eu' } });
    await expect(worker.dispatch(u1, 'k')).resolves.toEqual({ workerId: 7, tenant: u1 });
    await expect(store.get(u1, 'k')).resolves.toEqual({ region: 'eu' });
    expect(seen!.signal.aborted).toBe(false);
    await worker.kill('bye');
    expect(seen!.signal.aborted).toBe(true);
  });

  it('rejects every event with the startup error when startup fails', async () => {
    const def = defineWorker({
      startup: () => {
        throw new Error('no config');
      },
      createTenant: () => null,
      onEvent: () => 'ran',
    });
    const worker = new LocalWorker(def);
    await expect(worker.dispatch(g1, null)).rejects.toThrow('no config');
    await worker.kill();
  });

  it('calls dropTenant for every tenant when closed, after their events', async () => {
    const dropped: string[] = [];
    const def = defineWorker({
      createTenant: (tenant) => ({ id: tenant.id, events: 0 }),
      onEvent: (state) => ++state.events,
      dropTenant: (state) => {
        dropped.push(`${state.id}:${state.events}`);
      },
    });
    const worker = new LocalWorker(def);
    const events = [worker.dispatch(g1, null), worker.dispatch(g1, null), worker.dispatch(u1, null)];
    await worker.close();
    await Promise.all(events);
    expect(dropped.sort()).toEqual([`${g1.id}:2`, `${u1.id}:1`].sort());
    expect(worker.stats()).toMatchObject({ tenants: 0, queued: 0, handled: 3 });
  });

  it('throws ERR_WORKER_KILLED from dispatchNoWait at once after a kill, and reports handler failures', async () => {
    const failing = defineWorker({
      createTenant: () => null,
      onEvent: (_state, event: string) => {
        if (event === 'bad') throw new Error('handler failed');
        return event;
      },
    });
    const worker = new LocalWorker(failing, { id: 4 });
    const reported = new Promise((resolve) => worker.once('dispatchError', resolve));
    worker.dispatchNoWait(g1, 'ok');
    worker.dispatchNoWait(g1, 'bad');
    expect(await reported).toMatchObject({ workerId: 4, tenant: g1, error: { message: 'handler failed' } });
    await worker.kill();
    expect(() => worker.dispatchNoWait(g1, 'ok')).toThrow(expect.objectContaining({ code: 'ERR_WORKER_KILLED' }));
  });

  it('rejects dropTenant with ABORT_ERR when its signal is aborted, keeping the state', async () => {
    const worker = new LocalWorker(counter);
    await worker.dispatch(g1, { add: 5 });
    await expect(worker.dropTenant(g1, { signal: AbortSignal.abort('no') })).rejects.toMatchObject({
      code: 'ABORT_ERR',
      cause: 'no',
    });
    await expect(worker.dispatch(g1, { add: 1 })).resolves.toBe(6);
    await worker.close();
  });

  it('does nothing for dropTenant of an unknown tenant', async () => {
    const worker = new LocalWorker(counter);
    await expect(worker.dropTenant(g1)).resolves.toBeUndefined();
    await worker.close();
  });

  it('reports the number of tenants held and events queued', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const def = defineWorker({ createTenant: () => null, onEvent: () => gate });
    const worker = new LocalWorker(def);
    const events = [worker.dispatch(g1, null), worker.dispatch(g1, null), worker.dispatch(u1, null)];
    await new Promise((resolve) => setImmediate(resolve));
    expect(worker.stats()).toMatchObject({ tenants: 2, queued: 3, handled: 0 });
    release();
    await Promise.all(events);
    expect(worker.stats()).toMatchObject({ tenants: 2, queued: 0, handled: 3, failed: 0 });
    await worker.close();
  });

  it('supports await using', async () => {
    let dropped = 0;
    const def = defineWorker({ createTenant: () => null, onEvent: () => 1, dropTenant: () => void dropped++ });
    {
      await using worker = new LocalWorker(def);
      await worker.dispatch(g1, null);
    }
    expect(dropped).toBe(1);
  });
});

describe('LocalWorker dispatch timing', () => {
  /** Collects the messages of `switchyard:dispatch:end` while `body` runs. */
  async function traced(body: () => Promise<void>): Promise<DispatchMessage[]> {
    const seen: DispatchMessage[] = [];
    const onEnd = (message: unknown): void => void seen.push(message as DispatchMessage);
    subscribe('switchyard:dispatch:end', onEnd);
    try {
      await body();
    } finally {
      unsubscribe('switchyard:dispatch:end', onEnd);
    }
    return seen;
  }

  it('stamps a handler started inside the call that accepted it (an idle tenant) with the acceptance time', async () => {
    await using worker = new LocalWorker(counter);
    // The tenants exist (their state is not being created): their next handlers start synchronously.
    await worker.dispatch(g1, { add: 1 });
    await worker.dispatch(u1, { add: 1 });
    const seen = await traced(async () => {
      await worker.dispatch(g1, { add: 2 });
      worker.dispatchNoWait(u1, { add: 3 });
      await worker.dispatch(u1, { add: 4 });
    });
    expect(seen.map((m) => m.event)).toEqual([{ add: 2 }, { add: 3 }, { add: 4 }]);
    for (const message of seen) {
      expect(message.startedAt).toBe(message.acceptedAt);
      expect(message.handlingMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('reads the clock when a handler starts after its tenant’s earlier event, and for a call made from inside a handler', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let inner: Promise<unknown> | undefined;
    const definition = defineWorker({
      createTenant: () => ({}),
      onEvent: async (_state, event: { type: 'hold' | 'nest' | 'plain' }) => {
        if (event.type === 'hold') await released;
        // Accepted while the outer call's handler runs: its own handler starts inside its own call.
        if (event.type === 'nest') inner = worker.dispatch(u1, { type: 'plain' });
        return event.type;
      },
    });
    const worker = new LocalWorker(definition);
    await worker.dispatch(u1, { type: 'plain' });
    let heldAt = 0;
    const seen = await traced(async () => {
      const held = worker.dispatch(g1, { type: 'hold' });
      const queued = worker.dispatch(g1, { type: 'nest' });
      // The clock moves on before the first handler lets the queued one start.
      heldAt = performance.now();
      while (performance.now() === heldAt);
      release();
      await expect(held).resolves.toBe('hold');
      await expect(queued).resolves.toBe('nest');
      await expect(inner).resolves.toBe('plain');
    });
    await worker.close();
    const byType = new Map(seen.map((m) => [(m.event as { type: string }).type, m]));
    const queued = byType.get('nest')!;
    expect(queued.acceptedAt).toBeLessThan(heldAt);
    expect(queued.startedAt).toBeGreaterThan(heldAt);
    const nested = byType.get('plain')!;
    expect(nested.startedAt).toBe(nested.acceptedAt);
    expect(nested.acceptedAt).toBeGreaterThanOrEqual(queued.startedAt!);
  });
});

describe('TenantRuntime', () => {
  it('runs startup once however often start() is called', async () => {
    let startups = 0;
    const def = defineWorker({ startup: () => void startups++, createTenant: () => null, onEvent: () => 1 });
    const runtime = new TenantRuntime(def, { workerId: 0, kv: () => ({}) as never });
    await Promise.all([runtime.start(), runtime.start(), runtime.dispatch(g1, null)]);
    expect(startups).toBe(1);
    runtime.kill();
  });
});

describe('WorkerPool', () => {
  it('rejects an empty worker list and a bad count with ERR_INVALID_ARGUMENT', async () => {
    expect(() => new WorkerPool([])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    await expect(WorkerPool.create(0, () => new LocalWorker(counter))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('kills the workers already made when one fails to start, and rethrows', async () => {
    const made: LocalWorker[] = [];
    const failure = new Error('worker 2 failed');
    const creating = WorkerPool.create(3, async (id) => {
      if (id === 2) throw failure;
      const worker = new LocalWorker(counter, { id });
      made.push(worker as LocalWorker);
      return worker;
    });
    await expect(creating).rejects.toBe(failure);
    expect(made).toHaveLength(2);
    for (const worker of made)
      await expect(worker.dispatch(g1, { add: 1 })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });

  it('sums its workers stats and nests as a WorkerLike', async () => {
    const inner = await WorkerPool.create(2, (id) => new LocalWorker(counter, { id }));
    const outer = new WorkerPool([inner], { id: 5 });
    await outer.dispatch(g1, { add: 1 });
    await outer.dispatch(u1, { add: 1 });
    expect(outer.stats()).toEqual({ id: 5, tenants: 2, queued: 0, handled: 2, failed: 0 });
    expect(outer.size).toBe(1);
    expect(outer.workerFor(g1)).toBe(inner);
    await outer.close();
  });

  it('re-emits a worker crash with its id', async () => {
    const workers = [new LocalWorker(counter, { id: 0 }), new LocalWorker(counter, { id: 1 })];
    const pool = new WorkerPool(workers);
    const seen: unknown[] = [];
    pool.on('crash', (info) => seen.push(info));
    workers[1]!.emit('crash', { workerId: 1, cause: 'segfault', failures: 1, restartInMs: 3000 });
    expect(seen).toEqual([{ workerId: 1, cause: 'segfault', failures: 1, restartInMs: 3000 }]);
    await pool.kill();
  });
});

describe('LocalWorker recycling', () => {
  /** Counts per tenant; records its hooks; `hold` waits until `open()` is called. */
  function recorder() {
    const log: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const definition = defineWorker({
      startup: () => void log.push('startup'),
      createTenant: () => ({ n: 0 }),
      dropTenant: (state) => void log.push(`drop ${state.n}`),
      onEvent: async (state, event: { hold?: boolean }) => {
        if (event.hold === true) await gate;
        return ++state.n;
      },
    });
    return { log, open, definition };
  }

  it('finishes what it holds, releases its tenants, and delivers what arrived meanwhile in order to a fresh runtime', async () => {
    const { log, open, definition } = recorder();
    const worker = new LocalWorker(definition, { recycle: { maxEvents: 2 } });
    const recycled = once(worker, 'recycled');
    const first = worker.dispatch(g1, {});
    const second = worker.dispatch(g1, { hold: true });
    await expect(first).resolves.toBe(1);
    open();
    await expect(second).resolves.toBe(2);
    // The limit is passed: these wait for the fresh runtime, in order, waited or not.
    worker.dispatchNoWait(g1, {});
    const third = worker.dispatch(g1, {});
    expect(await recycled).toEqual([
      { workerId: 0, reason: 'maxEvents', handled: 2, ageMs: expect.any(Number), heapUsed: undefined },
    ]);
    const again = once(worker, 'recycled');
    await expect(third).resolves.toBe(2);
    // The fresh runtime passed the limit too.
    await again;
    expect(log).toEqual(['startup', 'drop 2', 'startup', 'drop 2', 'startup']);
    expect(worker.stats()).toMatchObject({ handled: 4, recycles: 2 });
    await worker.close();
  });

  it('kills the old runtime after closeTimeoutMs, so a stuck handler does not hold the calls that wait for the recycle', async () => {
    const { open, definition } = recorder();
    const worker = new LocalWorker(definition, { recycle: { maxEvents: 1 }, closeTimeoutMs: 50 });
    const stuck = worker.dispatch(g1, { hold: true });
    await expect(worker.dispatch(u1, {})).resolves.toBe(1);
    // Recycling now; the stuck handler never finishes in time.
    const waiting = worker.dispatch(u1, {});
    const recycled = once(worker, 'recycled');
    await expect(stuck).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await expect(waiting).resolves.toBe(1);
    expect(await recycled).toMatchObject([{ reason: 'maxEvents', handled: 1 }]);
    open();
    await worker.kill();
    expect(() => new LocalWorker(definition, { closeTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects calls held by a recycle with ERR_WORKER_KILLED when killed, and refuses new ones once closing', async () => {
    const { open, definition } = recorder();
    const worker = new LocalWorker(definition, { recycle: { maxEvents: 1 } });
    const held = worker.dispatch(g1, { hold: true });
    const second = worker.dispatch(u1, {});
    await expect(second).resolves.toBe(1);
    // Recycling now, waiting for the held event.
    const waiting = worker.dispatch(u1, {});
    await worker.kill();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await expect(held).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    // Counted once: the killed runtime stays the current one.
    expect(worker.stats()).toMatchObject({ handled: 1, recycles: 0 });
    open();
    await expect(worker.broadcast('x')).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });
});

describe('WorkerPool.resize', () => {
  /** A guild that moves from worker 0 to worker 1 when one worker becomes two. */
  const guildMoving: TenantId = (() => {
    for (let ms = 0; ; ms++) {
      const id = ((BigInt(1_420_070_400_000 + ms) << 22n) | 1n).toString();
      if (shardFor(id, 2) === 1) return { kind: 'guild', id };
    }
  })();

  it('cannot grow a pool made without a factory (ERR_INVALID_ARGUMENT), but can shrink it', async () => {
    const pool = new WorkerPool([new LocalWorker(counter, { id: 0 }), new LocalWorker(counter, { id: 1 })]);
    await expect(pool.resize(3)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await pool.dispatch(guildMoving, { add: 2 });
    await expect(pool.resize(1)).resolves.toMatchObject({ from: 2, to: 1, moved: 1, carried: 0 });
    // Without export/import hooks the moved tenant starts afresh on its new worker.
    await expect(pool.dispatch(guildMoving, { add: 1 })).resolves.toBe(1);
    await pool.close();
  });

  it('rejects a bad `factory` option with ERR_INVALID_ARGUMENT', () => {
    expect(() => new WorkerPool([new LocalWorker(counter)], { factory: 1 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('kills the workers it made and keeps its size when the factory fails while growing', async () => {
    const made: LocalWorker[] = [];
    const failure = new Error('no room');
    const pool = await WorkerPool.create(1, (id) => {
      if (id === 2) throw failure;
      const worker = new LocalWorker(counter, { id });
      made.push(worker as LocalWorker);
      return worker;
    });
    await expect(pool.resize(3)).rejects.toBe(failure);
    expect(pool.size).toBe(1);
    await expect(made[1]!.dispatch(g1, { add: 1 })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await pool.close();
  });

  it('reports a tenant whose export failed in `failures`; the new worker creates its state again', async () => {
    const failing = defineWorker({
      createTenant: () => ({ n: 0 }),
      onEvent: (state, event: { add: number }) => (state.n += event.add),
      exportTenant: () => {
        throw new TypeError('cannot export');
      },
      importTenant: (data) => data as { n: number },
    });
    const pool = await WorkerPool.create(1, (id) => new LocalWorker(failing, { id }));
    await pool.dispatch(guildMoving, { add: 5 });
    const info = await pool.resize(2);
    expect(info).toMatchObject({ moved: 1, carried: 0 });
    expect(info.failures).toEqual([
      { tenant: guildMoving, error: expect.objectContaining({ message: 'cannot export' }) },
    ]);
    await expect(pool.dispatch(guildMoving, { add: 1 })).resolves.toBe(1);
    await pool.close();
  });

  it('lists held tenants and hands one off after its queued events, once', async () => {
    const carrying = defineWorker({
      createTenant: () => ({ n: 0 }),
      onEvent: (state, event: { add: number }) => (state.n += event.add),
      exportTenant: (state) => state.n,
      importTenant: (data) => ({ n: data as number }),
    });
    const from = new LocalWorker(carrying, { id: 0 });
    const to = new LocalWorker(carrying, { id: 1 });
    const queued = [from.dispatch(g1, { add: 1 }), from.dispatch(g1, { add: 2 })];
    expect(from.heldTenants()).toEqual([g1]);
    const handoff = await from.handOffTenant(g1);
    expect(await Promise.all(queued)).toEqual([1, 3]);
    expect(handoff).toEqual({ data: 3 });
    expect(from.heldTenants()).toEqual([]);
    await expect(from.handOffTenant(g1)).resolves.toBeUndefined();
    await to.adoptTenant(g1, handoff!);
    await expect(to.dispatch(g1, { add: 1 })).resolves.toBe(4);
    await expect(new LocalWorker(counter).adoptTenant(g1, { data: 1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await Promise.all([from.close(), to.close()]);
  });
});
