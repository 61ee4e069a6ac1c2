import type { BroadcastResult, WorkerLikeEvents, WorkerLikeListener } from '@switchyard/core';
import { tenantKey } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import type { SuiteBroadcast } from './fixtures/basic.js';
import type { PoolUnderTest, SuiteWorkerOptions, TopologyHarness } from './suite.js';
import { fixtures, guild } from './suite.js';

type Create = (workers?: number, options?: SuiteWorkerOptions, fixture?: string) => Promise<PoolUnderTest>;

type Info<K extends keyof WorkerLikeEvents> = WorkerLikeEvents[K][0];

/** Collects every emission of `event` on `pool`. */
function collect<K extends keyof WorkerLikeEvents>(pool: PoolUnderTest, event: K): Info<K>[] {
  const seen: Info<K>[] = [];
  pool.on(event, ((info: Info<K>) => seen.push(info)) as WorkerLikeListener<K>);
  return seen;
}

/** Resolves with the next emission of `event` on `pool`. */
function next<K extends keyof WorkerLikeEvents>(pool: PoolUnderTest, event: K): Promise<Info<K>> {
  return new Promise((resolve) => pool.once(event, ((info: Info<K>) => resolve(info)) as WorkerLikeListener<K>));
}

/**
 * The control plane every topology keeps: broadcast, quarantine of a poison tenant, per-tenant
 * budgets and recycling. Declared inside {@link describeTopology}.
 */
export function describeControlPlane(harness: TopologyHarness, create: Create): void {
  describe('broadcast', () => {
    it('delivers a message to every worker and resolves one fulfilled entry per worker, in worker order', async () => {
      const pool = await create(3);
      const entries = await pool.broadcast<{ workerId: number; startupRan: boolean }>({ type: 'whoami' });
      expect(entries).toEqual(
        [0, 1, 2].map((workerId) => ({
          workerId,
          status: 'fulfilled',
          value: { workerId, startupRan: true },
        })),
      );
      // A single worker answers with one entry.
      await expect(pool.workers[1]!.broadcast({ type: 'whoami' } satisfies SuiteBroadcast)).resolves.toEqual([
        { workerId: 1, status: 'fulfilled', value: { workerId: 1, startupRan: true } },
      ]);
    });

    it('rejects the entry of a worker whose onBroadcast throws, with its error', async () => {
      const pool = await create(2);
      const entries = await pool.broadcast({ type: 'throw', message: 'no reload' } satisfies SuiteBroadcast);
      expect(entries).toHaveLength(2);
      for (const [index, entry] of entries.entries()) {
        expect(entry).toMatchObject({ workerId: index, status: 'rejected' });
        expect((entry as { reason: unknown }).reason).toMatchObject({ code: 'ERR_APP_QUOTA', message: 'no reload' });
      }
    });

    it('rejects every entry with ERR_BROADCAST_UNSUPPORTED when the definition has no onBroadcast', async () => {
      const pool = await create(2, undefined, fixtures.plain);
      const entries = await pool.broadcast({ type: 'whoami' });
      expect(entries.map((entry) => entry.status)).toEqual(['rejected', 'rejected']);
      for (const entry of entries)
        expect((entry as { reason: unknown }).reason).toMatchObject({ code: 'ERR_BROADCAST_UNSUPPORTED' });
      // The workers are fine.
      await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
    });

    it('resolves with partial results at the deadline: the worker that did not answer gets ERR_BROADCAST_TIMEOUT', async () => {
      const pool = await create(2);
      // Both answer first, so that only the hanging one can be late.
      expect((await pool.broadcast({ type: 'whoami' })).map((entry) => entry.status)).toEqual([
        'fulfilled',
        'fulfilled',
      ]);
      const entries = await pool.broadcast({ type: 'hang-on', workerId: 1 } satisfies SuiteBroadcast, {
        timeoutMs: 4000,
      });
      expect(entries[0]).toEqual({ workerId: 0, status: 'fulfilled', value: 'ok' });
      expect(entries[1]).toMatchObject({ workerId: 1, status: 'rejected' });
      expect((entries[1] as { reason: unknown }).reason).toMatchObject({ code: 'ERR_BROADCAST_TIMEOUT' });
      // Its tenants are not affected.
      await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
    });

    it('refuses bad options with ERR_INVALID_ARGUMENT and an aborted signal with ABORT_ERR', async () => {
      const pool = await create(2);
      await expect(pool.broadcast({ type: 'whoami' }, { timeoutMs: 0 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
      await expect(pool.broadcast({ type: 'whoami' }, { signal: AbortSignal.abort('no') })).rejects.toMatchObject({
        code: 'ABORT_ERR',
      });
      await expect(
        pool.workers[0]!.broadcast({ type: 'whoami' }, { signal: AbortSignal.abort('no') }),
      ).rejects.toMatchObject({ code: 'ABORT_ERR' });
    });

    it('rejects a broadcast on a closed pool, and on a closed worker, with ERR_WORKER_KILLED', async () => {
      const pool = await create(2);
      await pool.workers[1]!.close();
      // One closed worker: its entry is rejected, the others answer.
      const entries = await pool.broadcast({ type: 'whoami' });
      expect(entries.map((entry) => entry.status)).toEqual(['fulfilled', 'rejected']);
      expect((entries[1] as { reason: unknown }).reason).toMatchObject({ code: 'ERR_WORKER_KILLED' });
      await expect(pool.workers[1]!.broadcast({ type: 'whoami' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
      await pool.close();
      await expect(pool.broadcast({ type: 'whoami' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    });

    if (harness.crossesBoundary) {
      it('delivers a broadcast to a restarting worker once it is back', async () => {
        const pool = await create(1, { restart: { backoff: () => 0 } });
        await expect(pool.dispatch(guild(1), { type: 'exit' })).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
        expect((pool.workers[0]!.stats() as { state?: string }).state).toBe('restarting');
        const entries = (await pool.broadcast({ type: 'whoami' })) as BroadcastResult<{ workerId: number }>[];
        expect(entries).toEqual([{ workerId: 0, status: 'fulfilled', value: { workerId: 0, startupRan: true } }]);
        expect(pool.workers[0]!.stats()).toMatchObject({ restarts: 1 });
      });
    }
  });

  describe('quarantine', () => {
    it('rejects bad quarantine, tenantLimits and recycle options with ERR_INVALID_ARGUMENT', async () => {
      const bad: SuiteWorkerOptions[] = [
        { quarantine: { strikes: 0 } },
        { quarantine: { windowMs: -1 } },
        { quarantine: 3 as never },
        { tenantLimits: { maxQueued: 0 } },
        { tenantLimits: { rate: { per: 0, intervalMs: 1000 } } },
        { tenantLimits: { rate: { per: 10, intervalMs: 1.5 } } },
        { recycle: {} },
        { recycle: { maxEvents: -1 } },
        { recycle: { maxAgeMs: 'soon' as never } },
      ];
      for (const options of bad) {
        await expect(create(1, options), JSON.stringify(options)).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
      }
    });

    it('quarantines a poison tenant after exactly `strikes`; other tenants see no error, and release() lifts it', async () => {
      const strikes = 3;
      const poison = guild(1);
      const others = [guild(2), guild(3), guild(4)];
      // Threads and processes crash on the poison event; a LocalWorker cannot crash, so its strike is
      // a call past its deadline (a stuck handler it cannot stop).
      const pool = harness.crossesBoundary
        ? await create(1, { quarantine: { strikes }, restart: { backoff: () => 0 } })
        : await create(1, { quarantine: { strikes } });
      const quarantined = collect(pool, 'quarantine');
      const crashes = collect(pool, 'crash');
      const announced = next(pool, 'quarantine');
      for (let strike = 1; strike <= strikes; strike++) {
        const poisoned = harness.crossesBoundary
          ? pool.dispatch(poison, { type: 'exit' })
          : pool.dispatch(poison, { type: 'wait', key: 'poison' }, { timeoutMs: 20 });
        await expect(poisoned).rejects.toMatchObject({
          code: harness.crossesBoundary ? 'ERR_WORKER_CRASHED' : 'ERR_HANDLER_TIMEOUT',
        });
        // Not before the last strike.
        if (strike < strikes) expect(quarantined).toHaveLength(0);
      }
      const info = await announced;
      expect(info).toMatchObject({ workerId: 0, tenant: poison, strikes });
      expect(info.error).toBeDefined();
      if (harness.crossesBoundary) expect(crashes.map((crash) => crash.tenant)).toEqual([poison, poison, poison]);
      await expect(pool.dispatch(poison, { type: 'count' })).rejects.toMatchObject({ code: 'ERR_TENANT_QUARANTINED' });
      await expect(pool.runScript(poison, 's', 'return 1', { type: 'count' })).rejects.toMatchObject({
        code: 'ERR_TENANT_QUARANTINED',
      });
      const reported = next(pool, 'dispatchError');
      pool.dispatchNoWait(poison, { type: 'count' });
      expect((await reported).error).toMatchObject({ code: 'ERR_TENANT_QUARANTINED' });
      // Every other tenant of the worker: no error at all.
      const results = await Promise.allSettled(
        others.flatMap((tenant) => Array.from({ length: 50 }, () => pool.dispatch(tenant, { type: 'count' }))),
      );
      expect(results.filter((result) => result.status === 'rejected')).toHaveLength(0);
      for (const tenant of others) await expect(pool.dispatch(tenant, { type: 'count' })).resolves.toBe(51);
      expect(quarantined).toHaveLength(1);
      if (!harness.crossesBoundary) await pool.dispatch(others[0]!, { type: 'release', key: 'poison' });
      expect(pool.release(poison)).toBe(true);
      expect(pool.release(poison)).toBe(false);
      await expect(pool.dispatch(poison, { type: 'count' })).resolves.toBe(1);
    });

    if (harness.crossesBoundary) {
      it('blames the tenant whose handler ended the worker, not an older one in flight: crash, strike and quarantine name it', async () => {
        const pool = await create(1, { quarantine: { strikes: 1 }, restart: { backoff: () => 0 } });
        const older = guild(1);
        const poison = guild(2);
        const crashed = next(pool, 'crash');
        const quarantined = next(pool, 'quarantine');
        // The older tenant's event is in flight (waiting on a gate) when the younger one's ends the worker.
        const waiting = pool.dispatch(older, { type: 'wait', key: 'blame-older' });
        const poisoned = pool.dispatch(poison, { type: 'exit' });
        await expect(poisoned).rejects.toMatchObject({
          code: 'ERR_WORKER_CRASHED',
          message: expect.stringContaining(`(the event running: event 'exit' of tenant ${tenantKey(poison)})`),
        });
        await expect(waiting).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
        expect(await crashed).toMatchObject({ workerId: 0, tenant: poison, eventType: 'exit' });
        expect(await quarantined).toMatchObject({ tenant: poison, strikes: 1 });
        await expect(pool.dispatch(older, { type: 'count' })).resolves.toBe(1);
        await expect(pool.dispatch(poison, { type: 'count' })).rejects.toMatchObject({
          code: 'ERR_TENANT_QUARANTINED',
        });
      });

      it('blames the tenant whose handler hung the worker, not an older one in flight', async () => {
        const pool = await create(1, {
          quarantine: { strikes: 1 },
          livenessTimeoutMs: 2000,
          restart: { backoff: () => 0 },
        });
        const older = guild(1);
        const poison = guild(2);
        const crashed = next(pool, 'crash');
        const waiting = pool.dispatch(older, { type: 'wait', key: 'blame-older-hang' });
        const spinning = pool.dispatch(poison, { type: 'spin' });
        const crash = await crashed;
        expect(crash).toMatchObject({ workerId: 0, tenant: poison, eventType: 'spin' });
        expect(crash.cause).toMatchObject({
          code: 'ERR_WORKER_HUNG',
          message: expect.stringContaining(`(the event running: event 'spin' of tenant ${tenantKey(poison)})`),
        });
        for (const call of [waiting, spinning])
          await expect(call).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
        await expect(pool.dispatch(older, { type: 'count' })).resolves.toBe(1);
        await expect(pool.dispatch(poison, { type: 'count' })).rejects.toMatchObject({
          code: 'ERR_TENANT_QUARANTINED',
        });
      });
    }
  });

  describe('tenantLimits', () => {
    it('refuses a tenant past maxQueued with ERR_TENANT_BACKPRESSURE (a dispatchError when not waited); other tenants are unaffected', async () => {
      const pool = await create(1, { tenantLimits: { maxQueued: 2 } });
      const flooder = guild(1);
      const held = pool.dispatch(flooder, { type: 'wait', key: 'budget' });
      const queued = pool.dispatch(flooder, { type: 'count' });
      await expect(pool.dispatch(flooder, { type: 'count' })).rejects.toMatchObject({
        code: 'ERR_TENANT_BACKPRESSURE',
      });
      const errors = collect(pool, 'dispatchError');
      const reported = next(pool, 'dispatchError');
      pool.dispatchNoWait(flooder, { type: 'count' });
      expect((await reported).error).toMatchObject({ code: 'ERR_TENANT_BACKPRESSURE' });
      // Every tenant has its own budget: the others, two events at a time (within theirs), see no error.
      const others = [guild(2), guild(3)];
      const highest = await Promise.all(
        others.map(async (tenant) => {
          let counts: unknown[] = [];
          for (let i = 0; i < 30; i++)
            counts = await Promise.all([0, 1].map(() => pool.dispatch(tenant, { type: 'count' })));
          return Math.max(...(counts as number[]));
        }),
      );
      expect(highest).toEqual([60, 60]);
      await pool.dispatch(guild(2), { type: 'release', key: 'budget' });
      await expect(held).resolves.toBe('released');
      await expect(queued).resolves.toBe(1);
      // Room again: the refused events never ran.
      await expect(pool.dispatch(flooder, { type: 'count' })).resolves.toBe(2);
      expect(errors).toHaveLength(1);
    });

    it('refuses a tenant past its rate with ERR_TENANT_BACKPRESSURE, exactly the events over `per`', async () => {
      const pool = await create(1, { tenantLimits: { rate: { per: 5, intervalMs: 600_000 } } });
      const settled = await Promise.allSettled(
        Array.from({ length: 12 }, () => pool.dispatch(guild(1), { type: 'count' })),
      );
      expect(settled.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
      const refused = settled.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      expect(refused).toHaveLength(7);
      for (const result of refused) expect(result.reason).toMatchObject({ code: 'ERR_TENANT_BACKPRESSURE' });
      // Another tenant has its own bucket.
      const other = await Promise.all(Array.from({ length: 5 }, () => pool.dispatch(guild(2), { type: 'count' })));
      expect(other.sort((a, b) => (a as number) - (b as number))).toEqual([1, 2, 3, 4, 5]);
    });
  });

  describe('recycle', () => {
    it('recycles after maxEvents under traffic and loses nothing: every event once, in order per tenant', async () => {
      const pool = await create(1, { recycle: { maxEvents: 60 } });
      const recycled = collect(pool, 'recycled');
      const tenants = [guild(1), guild(2), guild(3), guild(4)];
      const perTenant = 100;
      const errors = collect(pool, 'dispatchError');
      const waited: Promise<unknown>[] = [];
      for (let seq = 0; seq < perTenant; seq++) {
        for (const tenant of tenants) {
          // Half waited, half fire-and-forget: both kinds go through the recycle.
          if (seq % 2 === 0) waited.push(pool.dispatch(tenant, { type: 'kv-append', seq }));
          else pool.dispatchNoWait(tenant, { type: 'kv-append', seq });
        }
        // Let some turns pass so that recycles happen while events keep arriving.
        if (seq % 10 === 9) await Promise.all(waited.slice(-4));
      }
      await Promise.all(waited);
      for (const tenant of tenants) {
        // After the tenant's last append (a no-wait one): per-tenant order makes this one wait for it.
        expect(await pool.dispatch(tenant, { type: 'kv-get', key: 'log' })).toEqual(
          Array.from({ length: perTenant }, (_, i) => i),
        );
      }
      expect(errors).toHaveLength(0);
      expect(pool.stats().handled).toBe(tenants.length * perTenant + tenants.length);
      expect(recycled.length).toBeGreaterThanOrEqual(1);
      for (const info of recycled) {
        expect(info).toMatchObject({ workerId: 0, reason: 'maxEvents' });
        expect(info.handled).toBeGreaterThanOrEqual(60);
      }
    });

    it('recycles after maxAgeMs with fresh tenant state and a new startup', async () => {
      const pool = await create(1, { recycle: { maxAgeMs: 300 } });
      await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
      const info = await next(pool, 'recycled');
      expect(info).toMatchObject({ workerId: 0, reason: 'maxAgeMs', handled: 1 });
      // Its age is counted from when it was up; timers may fire a millisecond early.
      expect(info.ageMs).toBeGreaterThanOrEqual(290);
      // The tenants were released (dropTenant ran) and start over.
      await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
    });

    if (harness.crossesBoundary) {
      it('recycles after maxHeapBytes with the heap it reported', async () => {
        const pool = await create(1, { recycle: { maxHeapBytes: 1 } });
        const recycled = next(pool, 'recycled');
        await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
        const info = await recycled;
        expect(info).toMatchObject({ workerId: 0, reason: 'maxHeapBytes', handled: 1 });
        expect(info.heapUsed).toBeGreaterThan(1);
        await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
      });

      it('recycles an idle worker over maxHeapBytes from the heap its liveness answer carries', async () => {
        const pool = await create(1, { recycle: { maxHeapBytes: 1 }, livenessTimeoutMs: 2000 });
        // Not one event: only the liveness probes report its heap.
        const info = await next(pool, 'recycled');
        expect(info).toMatchObject({ workerId: 0, reason: 'maxHeapBytes', handled: 0 });
        expect(info.heapUsed).toBeGreaterThan(1);
      });
    } else {
      it('refuses recycle.maxHeapBytes on a worker sharing its caller’s heap with ERR_INVALID_ARGUMENT', async () => {
        await expect(create(1, { recycle: { maxHeapBytes: 1 } })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
      });
    }
  });
}
