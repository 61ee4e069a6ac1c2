import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import type {
  DispatchErrorInfo,
  DispatchMessage,
  KvStore,
  QuarantineOptions,
  RecycleOptions,
  ResizeInfo,
  ResizeOptions,
  TenantId,
  TenantLimits,
  WorkerCrashInfo,
  WorkerLike,
} from '@switchyard/core';
import {
  InvalidArgumentError,
  MemoryKvStore,
  observeDispatchTimings,
  shardFor,
  SwitchyardError,
  WorkerCrashedError,
} from '@switchyard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { describeControlPlane } from './controlPlane.js';
import type { SuiteEvent } from './fixtures/basic.js';
import { QuotaError } from './fixtures/basic.js';
import { guild, guildOn } from './tenants.js';

/** Absolute paths of the built fixture worker modules, for topologies that load files. */
export const fixtures = {
  /** Exports `worker`, a definition understanding {@link SuiteEvent}. */
  // Resolves to the built file both from src/ (tests of this package) and from dist/.
  basic: fileURLToPath(new URL('../dist/fixtures/basic.js', import.meta.url)),
  /** Exports `worker`, a definition without `onBroadcast`. */
  plain: fileURLToPath(new URL('../dist/fixtures/plain.js', import.meta.url)),
} as const;

/** A pool under test: a WorkerLike whose workers can be listed. */
export type PoolUnderTest = WorkerLike<SuiteEvent, unknown> & {
  readonly workers: readonly WorkerLike<SuiteEvent, unknown>[];
  replace(index: number): Promise<WorkerLike<SuiteEvent, unknown>>;
  resize(size: number, options?: ResizeOptions): Promise<ResizeInfo>;
};

/** Worker options some tests set (the shared vocabulary of core's `RemoteWorkerOptions`). */
export interface SuiteWorkerOptions {
  timeoutMs?: number;
  store?: KvStore;
  livenessTimeoutMs?: number;
  timeoutKillAfterMs?: number;
  restart?: { backoff?: (failures: number) => number };
  quarantine?: QuarantineOptions;
  tenantLimits?: TenantLimits;
  recycle?: RecycleOptions;
}

/** How the suite creates pools of one topology. */
export interface TopologyHarness {
  /**
   * Creates a pool of `workers` workers running the fixture module at `fixture` (its export
   * `worker`), with `options` passed to every worker (a local topology has no liveness or restart options).
   */
  create(options: { workers: number; fixture: string; options?: SuiteWorkerOptions }): Promise<PoolUnderTest>;
  /** True when events and errors cross a thread or process boundary (errors arrive rebuilt). */
  crossesBoundary: boolean;
}

export { guild, guildOn } from './tenants.js';

/**
 * The behavioural contract every topology keeps. Call it from a test file of the topology's
 * package: `describeTopology('ThreadWorker', { create, crossesBoundary: true })`.
 */
export function describeTopology(name: string, harness: TopologyHarness): void {
  describe(`${name} (topology contract)`, () => {
    const open: PoolUnderTest[] = [];
    const create = async (
      workers = 1,
      options?: SuiteWorkerOptions,
      fixture: string = fixtures.basic,
    ): Promise<PoolUnderTest> => {
      const pool = await harness.create({
        workers,
        fixture,
        ...(options === undefined ? {} : { options }),
      });
      open.push(pool);
      return pool;
    };

    afterEach(async () => {
      await Promise.allSettled(open.splice(0).map((pool) => pool.kill()));
    });

    it('resolves dispatch with what onEvent returned', async () => {
      const pool = await create();
      const value = { nested: [1, 'two', { three: 3n }], when: new Date(0), bytes: new Uint8Array([1, 2]) };
      await expect(pool.dispatch(guild(1), { type: 'echo', value })).resolves.toEqual(value);
    });

    it('runs startup before the first event', async () => {
      const pool = await create();
      await expect(pool.dispatch(guild(1), { type: 'whoami' })).resolves.toMatchObject({
        startupRan: true,
        aborted: false,
      });
    });

    it("creates a tenant's state on its first event and keeps it", async () => {
      const pool = await create();
      const a = guild(1);
      const b = guild(2);
      expect(await pool.dispatch(a, { type: 'count' })).toBe(1);
      expect(await pool.dispatch(a, { type: 'count' })).toBe(2);
      expect(await pool.dispatch(b, { type: 'count' })).toBe(1);
      expect(pool.stats()).toMatchObject({ tenants: 2, handled: 3, failed: 0 });
    });

    it("handles one tenant's events strictly in order, every one exactly once", async () => {
      const pool = await create(2);
      const tenants = [guild(1), guild(2), guild(3)];
      const sent = 300;
      await Promise.all(
        tenants.flatMap((tenant) =>
          Array.from({ length: sent }, (_, seq) => pool.dispatch(tenant, { type: 'record', seq })),
        ),
      );
      for (const tenant of tenants) {
        expect(await pool.dispatch(tenant, { type: 'log' })).toEqual(Array.from({ length: sent }, (_, i) => i));
      }
    });

    it('runs different tenants of one worker concurrently', async () => {
      const pool = await create(1);
      const waiting = pool.dispatch(guild(1), { type: 'wait', key: 'k1' });
      await expect(pool.dispatch(guild(2), { type: 'release', key: 'k1' })).resolves.toBe('ok');
      await expect(waiting).resolves.toBe('released');
    });

    it('routes each tenant to workers[shardFor(id, n)]', async () => {
      const pool = await create(2);
      for (let ms = 0; ms < 6; ms++) {
        const tenant = guild(ms);
        const who = (await pool.dispatch(tenant, { type: 'whoami' })) as { workerId: number; tenant: TenantId };
        expect(who.workerId).toBe(shardFor(tenant.id, 2));
        expect(who.tenant).toEqual(tenant);
      }
      expect(pool.size).toBe(2);
    });

    it('forgets a dropped tenant and makes fresh state on its next event', async () => {
      const pool = await create();
      const a = guild(1);
      await pool.dispatch(a, { type: 'count' });
      await pool.dispatch(a, { type: 'count' });
      const dropsBefore = (await pool.dispatch(guild(9), { type: 'drops' })) as number;
      await pool.dropTenant(a);
      expect(await pool.dispatch(guild(9), { type: 'drops' })).toBe(dropsBefore + 1);
      expect(await pool.dispatch(a, { type: 'count' })).toBe(1);
    });

    it('keeps order across a drop sent with the events around it: the events after it see fresh state', async () => {
      const pool = await create();
      const a = guild(1);
      // All in one tick, so a batching topology sends them together.
      const calls = [
        pool.dispatch(a, { type: 'count' }),
        pool.dispatch(a, { type: 'count' }),
        pool.dropTenant(a),
        pool.dispatch(a, { type: 'count' }),
        pool.dropTenant(a),
        pool.dropTenant(a),
        pool.dispatch(a, { type: 'count' }),
        pool.dispatch(a, { type: 'count' }),
      ];
      expect(await Promise.all(calls)).toEqual([1, 2, undefined, 1, undefined, undefined, 1, 2]);
      expect(await pool.dispatch(a, { type: 'count' })).toBe(3);
    });

    it('fails only the event whose handler throws', async () => {
      const pool = await create();
      const a = guild(1);
      await expect(pool.dispatch(a, { type: 'throw-plain', message: 'nope' })).rejects.toThrow('nope');
      await expect(pool.dispatch(a, { type: 'count' })).resolves.toBe(1);
      expect(pool.stats()).toMatchObject({ failed: 1 });
    });

    it("rebuilds an application's registered errors as their class and others keeping name, message, stack and code", async () => {
      const pool = await create();
      const registered = await pool
        .dispatch(guild(1), { type: 'throw-registered', message: 'too many' })
        .catch((error: unknown) => error);
      // (By name: this package's own tests load the fixture twice, from src/ here and from dist/ in the worker.)
      expect(registered).toBeInstanceOf(harness.crossesBoundary ? QuotaError : SwitchyardError);
      expect(registered).toMatchObject({ name: 'QuotaError', code: 'ERR_APP_QUOTA', message: 'too many' });
      const ours = await pool
        .dispatch(guild(1), { type: 'throw-ours', message: 'bad input' })
        .catch((error: unknown) => error);
      // A framework class thrown by a handler is the handler's error, not the framework's.
      if (harness.crossesBoundary)
        expect(ours).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_INVALID_ARGUMENT', message: 'bad input' });
      else expect(ours).toBeInstanceOf(InvalidArgumentError);
      const plain = (await pool
        .dispatch(guild(1), { type: 'throw-plain', message: 'type trouble' })
        .catch((error: unknown) => error)) as Error;
      expect(plain.message).toBe('type trouble');
      expect(plain.stack).toContain('type trouble');
      if (harness.crossesBoundary) expect(plain).toMatchObject({ code: 'ERR_REMOTE', remoteName: 'TypeError' });
      else expect(plain).toBeInstanceOf(TypeError);
    });

    it("never rebuilds a handler's error as a framework error, whatever code it carries", async () => {
      if (!harness.crossesBoundary) return;
      const pool = await create();
      for (const how of ['instance', 'code'] as const) {
        const error = await pool.dispatch(guild(1), { type: 'throw-spoofed', how }).catch((e: unknown) => e);
        expect(error).not.toBeInstanceOf(WorkerCrashedError);
        expect(error).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_WORKER_CRASHED', message: 'forged crash' });
      }
      // The worker did not crash: the next event of the tenant runs.
      await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
    });

    it('delivers dispatchNoWait events in order with later dispatches of the same tenant', async () => {
      const pool = await create(2);
      const a = guild(1);
      for (let seq = 0; seq < 500; seq++) pool.dispatchNoWait(a, { type: 'record', seq });
      expect(await pool.dispatch(a, { type: 'record', seq: 500 })).toBe(501);
      expect(await pool.dispatch(a, { type: 'log' })).toEqual(Array.from({ length: 501 }, (_, i) => i));
    });

    it('reports a failing dispatchNoWait event as dispatchError with the worker id', async () => {
      const pool = await create(2);
      const a = guild(3);
      const reported = new Promise<DispatchErrorInfo>((resolve) => pool.once('dispatchError', resolve));
      pool.dispatchNoWait(a, { type: 'throw-registered', message: 'lost?' });
      const info = await reported;
      expect(info.error).toMatchObject({ code: 'ERR_APP_QUOTA', message: 'lost?' });
      expect(info.tenant).toEqual(a);
      expect(info.event).toEqual({ type: 'throw-registered', message: 'lost?' });
      expect(info.workerId).toBe(shardFor(a.id, 2));
    });

    it("rejects a call past its timeoutMs with ERR_HANDLER_TIMEOUT; the tenant's queued event never runs", async () => {
      const pool = await create();
      const a = guild(1);
      // Stuck on purpose: its gate opens only at the end.
      const blocker = pool.dispatch(a, { type: 'wait', key: 'deadline' });
      const late = pool.dispatch(a, { type: 'count' }, { timeoutMs: 20 });
      await expect(late).rejects.toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
      await pool.dispatch(guild(2), { type: 'release', key: 'deadline' });
      await blocker;
      // The timed-out event had not started: it never ran.
      await expect(pool.dispatch(a, { type: 'count' })).resolves.toBe(1);
      await expect(pool.dispatch(a, { type: 'count' }, { timeoutMs: 0 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    });

    it("applies the worker's default timeoutMs to waited calls", async () => {
      const pool = await create(1, { timeoutMs: 20 });
      const stuck = pool.dispatch(guild(1), { type: 'wait', key: 'default-deadline' });
      await expect(stuck).rejects.toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
      // The worker-wide 20 ms applies to every call that does not say otherwise: the calls that are
      // not under test get a deadline no loaded machine reaches.
      await pool.dispatch(guild(2), { type: 'release', key: 'default-deadline' }, { timeoutMs: 60_000 });
      await expect(pool.dispatch(guild(3), { type: 'count' }, { timeoutMs: 60_000 })).resolves.toBe(1);
    });

    it('replaces a killed worker when asked, so the pool keeps no dead slot', async () => {
      const pool = await create(2);
      const a = guildOn(0, 2);
      await pool.workers[0]!.kill();
      await expect(pool.dispatch(a, { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
      const fresh = await pool.replace(0);
      expect(pool.workers[0]).toBe(fresh);
      await expect(pool.dispatch(a, { type: 'count' })).resolves.toBe(1);
      await expect(pool.replace(2)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    });

    describeResharding(create, harness);
    describeTracing(create);

    // A worker in this thread cannot be cut off from a loop that never yields: these hold for
    // threads and processes.
    if (harness.crossesBoundary) {
      describe('across a boundary', () => {
        it('treats a worker stuck in while (true) {} as hung: its other events fail, it restarts, and close() finishes', async () => {
          // Only this worker is hung on purpose, so only it gets a short liveness timeout.
          const pool = await create(1, { livenessTimeoutMs: 2000, restart: { backoff: () => 0 } });
          const a = guild(1);
          const b = guild(2);
          expect(await pool.dispatch(b, { type: 'count' })).toBe(1);
          const crashed = new Promise<WorkerCrashInfo>((resolve) => pool.once('crash', resolve));
          const spinning = pool.dispatch(a, { type: 'spin' });
          const other = pool.dispatch(b, { type: 'count' });
          const crash = await crashed;
          expect(crash).toMatchObject({ workerId: 0, tenant: a, eventType: 'spin', failures: 1, restartInMs: 0 });
          expect(crash.cause).toMatchObject({ code: 'ERR_WORKER_HUNG' });
          for (const call of [spinning, other]) {
            await expect(call).rejects.toMatchObject({
              code: 'ERR_WORKER_CRASHED',
              cause: { code: 'ERR_WORKER_HUNG' },
            });
          }
          // A new incarnation: the tenants start over.
          await expect(pool.dispatch(b, { type: 'count' })).resolves.toBe(1);
          await pool.close();
        });

        it('restarts a worker whose handler runs on past timeoutMs + timeoutKillAfterMs', async () => {
          const pool = await create(1, { timeoutKillAfterMs: 50, restart: { backoff: () => 0 } });
          const crashed = new Promise<WorkerCrashInfo>((resolve) => pool.once('crash', resolve));
          // The deadline leaves a loaded machine time to start the handler: one that never started is
          // simply refused at its deadline, with nothing to kill.
          await expect(pool.dispatch(guild(1), { type: 'hang' }, { timeoutMs: 2000 })).rejects.toMatchObject({
            code: 'ERR_HANDLER_TIMEOUT',
          });
          const crash = await crashed;
          expect(crash.cause).toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
          expect(crash).toMatchObject({ tenant: guild(1), eventType: 'hang' });
          await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
        });

        it('fails in-flight events with ERR_WORKER_CRASHED when the worker dies, emits crash, and restarts', async () => {
          const pool = await create(1, { restart: { backoff: () => 0 } });
          const crashed = new Promise<WorkerCrashInfo>((resolve) => pool.once('crash', resolve));
          const waiting = pool.dispatch(guild(2), { type: 'wait', key: 'dies' });
          await expect(pool.dispatch(guild(1), { type: 'exit' })).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
          await expect(waiting).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
          const crash = await crashed;
          expect(crash).toMatchObject({ workerId: 0, failures: 1, restartInMs: 0 });
          await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
        });

        it('fails only the call whose event cannot be cloned, not the others sent with it', async () => {
          const pool = await create();
          const others = [guild(1), guild(2), guild(3)].map((tenant) => pool.dispatch(tenant, { type: 'count' }));
          // A drop and an event after it in the same transfer: both survive the transfer being split.
          const dropped = pool.dropTenant(guild(2));
          const afterDrop = pool.dispatch(guild(2), { type: 'count' });
          const proxied = pool
            .dispatch(guild(4), { type: 'echo', value: new Proxy({}, {}) })
            .catch((error: unknown) => error as { code?: string });
          const later = pool.dispatch(guild(1), { type: 'count' });
          expect(await Promise.all(others)).toEqual([1, 1, 1]);
          expect(await Promise.all([dropped, afterDrop, later])).toEqual([undefined, 1, 2]);
          const error = await proxied;
          expect(error).toMatchObject({ code: 'ERR_INVALID_EVENT' });
          // Tenants met in the transfer that could not be sent are known afterwards.
          expect(await Promise.all([1, 2, 3, 4].map((ms) => pool.dispatch(guild(ms), { type: 'count' })))).toEqual([
            3, 2, 2, 1,
          ]);
        });

        it('fails only the call whose result cannot be cloned, with ERR_RESULT_NOT_CLONEABLE', async () => {
          const pool = await create();
          const others = [guild(1), guild(2)].map((tenant) => pool.dispatch(tenant, { type: 'count' }));
          const bad = pool.dispatch(guild(3), { type: 'return-function' }).catch((error: unknown) => error);
          expect(await Promise.all(others)).toEqual([1, 1]);
          expect(await bad).toMatchObject({ code: 'ERR_RESULT_NOT_CLONEABLE' });
          await expect(pool.dispatch(guild(3), { type: 'count' })).resolves.toBe(1);
        });

        it("refuses a worker's kv call for a tenant of another worker's shard", async () => {
          const pool = await create(2);
          const a = guildOn(0, 2);
          await expect(pool.workers[1]!.dispatch(a, { type: 'kv-get', key: 'k' })).rejects.toMatchObject({
            remoteCode: 'ERR_PROTOCOL',
          });
        });
      });
    }

    it('rejects a dispatch whose signal is already aborted with ABORT_ERR, and never runs it', async () => {
      const pool = await create();
      const a = guild(1);
      await expect(pool.dispatch(a, { type: 'count' }, { signal: AbortSignal.abort('no') })).rejects.toMatchObject({
        code: 'ABORT_ERR',
      });
      await expect(pool.dispatch(a, { type: 'count' })).resolves.toBe(1);
    });

    it('never starts an event after its caller was told it aborted, even while the worker is busy in synchronous code', async () => {
      const store = new MemoryKvStore();
      const pool = await create(1, { store });
      const tenant = guild(1);
      const sent = 40;
      const told = new Map<number, bigint>();
      const controllers = Array.from({ length: sent }, () => new AbortController());
      // The worker blocks its thread for a while; the events queued behind it wait.
      const blocked = pool.dispatch(tenant, { type: 'block', ms: 3000 });
      const calls = controllers.map((controller, seq) =>
        pool.dispatch(tenant, { type: 'stamp', seq, busyMs: 0 }, { signal: controller.signal }).then(
          (value) => ({ seq, value }),
          (error: unknown) => {
            told.set(seq, process.hrtime.bigint());
            return { seq, error };
          },
        ),
      );
      while ((await store.get(tenant, 'blocking')) !== true) await new Promise((resolve) => setTimeout(resolve, 5));
      // Its cancel messages cannot be read until the block ends; every other event is aborted now.
      for (let seq = 0; seq < sent; seq += 2) controllers[seq]!.abort('changed my mind');
      expect(await blocked).toBe('unblocked');
      const outcomes = await Promise.all(calls);
      const ran = (await pool.dispatch(tenant, { type: 'stamps' })) as Array<[number, string]>;
      // Each ran at most once, in the order sent.
      const order = ran.map(([seq]) => seq);
      expect(order).toEqual([...new Set(order)].sort((a, b) => a - b));
      const started = new Map(ran.map(([seq, when]) => [seq, BigInt(when)]));
      for (const outcome of outcomes) {
        if ('value' in outcome) {
          // Not aborted, or aborted after it finished (a worker in this thread blocks its caller too).
          expect([outcome.value, started.has(outcome.seq)]).toEqual([outcome.seq, true]);
        } else {
          expect([outcome.seq % 2, outcome.error]).toEqual([0, expect.objectContaining({ code: 'ABORT_ERR' })]);
          // Never ran, or had started before its caller was told (a worker that answers the cancel itself).
          const when = started.get(outcome.seq);
          if (when !== undefined) expect(when).toBeLessThan(told.get(outcome.seq)!);
        }
      }
    });

    it('rejects a queued dispatch whose signal aborts with ABORT_ERR, and never runs it', async () => {
      const pool = await create();
      const a = guild(1);
      const blocker = pool.dispatch(a, { type: 'wait', key: 'abort-queued' });
      const controller = new AbortController();
      const queued = pool.dispatch(a, { type: 'count' }, { signal: controller.signal });
      controller.abort('changed my mind');
      await expect(queued).rejects.toMatchObject({ code: 'ABORT_ERR' });
      await pool.dispatch(guild(2), { type: 'release', key: 'abort-queued' });
      await blocker;
      await expect(pool.dispatch(a, { type: 'count' })).resolves.toBe(1);
    });

    it("runs runScript through the definition's script engine in the tenant's state", async () => {
      const pool = await create();
      const a = guild(1);
      await pool.dispatch(a, { type: 'count' });
      await expect(pool.runScript(a, 'greet', 'return 1', { type: 'count' })).resolves.toEqual({
        name: 'greet',
        code: 'return 1',
        count: 1,
        event: { type: 'count' },
      });
    });

    it('serves ctx.kv per tenant: set, get, list by prefix, delete', async () => {
      const pool = await create(2);
      const a = guild(1);
      const b = guild(2);
      await pool.dispatch(a, { type: 'kv-set', key: 'cfg:x', value: { on: true } });
      await pool.dispatch(a, { type: 'kv-set', key: 'cfg:y', value: 2 });
      await pool.dispatch(a, { type: 'kv-set', key: 'other', value: 3 });
      expect(await pool.dispatch(a, { type: 'kv-get', key: 'cfg:x' })).toEqual({ on: true });
      expect(await pool.dispatch(b, { type: 'kv-get', key: 'cfg:x' })).toBeNull();
      expect(await pool.dispatch(a, { type: 'kv-list', prefix: 'cfg:' })).toEqual([
        ['cfg:x', { on: true }],
        ['cfg:y', 2],
      ]);
      expect(await pool.dispatch(a, { type: 'kv-delete', key: 'cfg:x' })).toBe(true);
      expect(await pool.dispatch(a, { type: 'kv-delete', key: 'cfg:x' })).toBe(false);
    });

    it('rejects malformed tenants with ERR_INVALID_TENANT_ID at the call', async () => {
      const pool = await create();
      const bad = { kind: 'guild', id: 'not-a-snowflake' } as TenantId;
      await expect(pool.dispatch(bad, { type: 'count' })).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
      expect(() => pool.dispatchNoWait(bad, { type: 'count' })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_TENANT_ID' }),
      );
      await expect(pool.dropTenant(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_TENANT_ID' });
    });

    it('rejects queued events with ERR_WORKER_KILLED on kill, and every later dispatch', async () => {
      const pool = await create();
      const a = guild(1);
      const blocker = pool.dispatch(a, { type: 'wait', key: 'never' }).catch((error: unknown) => error);
      const queued = pool.dispatch(a, { type: 'count' }).catch((error: unknown) => error);
      await pool.kill();
      expect(await queued).toMatchObject({ code: 'ERR_WORKER_KILLED' });
      await expect(pool.dispatch(a, { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
      // The event that was running when the worker died is failed too: it never hangs.
      expect(['ERR_WORKER_KILLED', 'ERR_WORKER_CRASHED']).toContain(((await blocker) as { code?: string }).code);
    });

    describeControlPlane(harness, create);

    it('finishes accepted events on close() and refuses new ones', async () => {
      const pool = await create();
      const a = guild(1);
      const accepted = Array.from({ length: 20 }, () => pool.dispatch(a, { type: 'count' }));
      const closing = pool.close();
      expect(await Promise.all(accepted)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      await closing;
      await expect(pool.dispatch(a, { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    });
  });
}

/** Live resharding (`pool.resize(n)`): the same contract on every topology. */
function describeResharding(
  create: (workers?: number, options?: SuiteWorkerOptions) => Promise<PoolUnderTest>,
  harness: TopologyHarness,
): void {
  describe('live resharding', () => {
    it('resizes 2 → 3 → 1 under 20,000 events over 1,000 tenants: every event handled exactly once, in order per tenant', async () => {
      const pool = await create(2);
      const tenants = Array.from({ length: 1000 }, (_, i) => guild(i * 7, i + 1));
      const rounds = 20;
      const resized: ResizeInfo[] = [];
      const failedNoWait: DispatchErrorInfo[] = [];
      pool.on('resized', (info) => resized.push(info));
      pool.on('dispatchError', (info) => failedNoWait.push(info));
      let toThree: Promise<ResizeInfo> | undefined;
      let toOne: Promise<ResizeInfo> | undefined;
      let inFlight: Promise<void>[] = [];
      for (let seq = 0; seq < rounds; seq++) {
        if (seq === 4) toThree = pool.resize(3);
        if (seq === 8) toOne = pool.resize(1);
        tenants.forEach((tenant, i) => {
          // Every fourth tenant's events are fire-and-forget; the next waited one proves they ran in order.
          if (i % 4 === 0) pool.dispatchNoWait(tenant, { type: 'record', seq });
          else
            inFlight.push(
              pool.dispatch(tenant, { type: 'record', seq }).then((length) => {
                if (length !== seq + 1)
                  throw new Error(`tenant ${tenant.id}: event ${seq} was handled as number ${String(length)}`);
              }),
            );
        });
        // Traffic overlaps the resizes: only every third round waits for what was sent.
        if (seq % 3 === 2) {
          await Promise.all(inFlight);
          inFlight = [];
        }
      }
      await Promise.all(inFlight);
      await expect(toThree).resolves.toMatchObject({ from: 2, to: 3, failures: [] });
      await expect(toOne).resolves.toMatchObject({ from: 3, to: 1, failures: [] });
      expect(pool.size).toBe(1);
      const expected = Array.from({ length: rounds }, (_, i) => i);
      const logs = await Promise.all(tenants.map((tenant) => pool.dispatch(tenant, { type: 'log' })));
      for (const log of logs) expect(log).toEqual(expected);
      expect(failedNoWait).toEqual([]);
      expect(resized.map(({ from, to }) => [from, to])).toEqual([
        [2, 3],
        [3, 1],
      ]);
      // Only tenants whose shard changed moved: from 2 to 3 some stay; from 3 to 1 all of workers 1 and 2 move.
      const moved = (from: number, to: number): number =>
        tenants.filter((tenant) => shardFor(tenant.id, from) !== shardFor(tenant.id, to)).length;
      expect(resized[0]!.moved).toBe(moved(2, 3));
      expect(resized[1]!.moved).toBe(moved(3, 1));
      expect(resized[1]!.carried).toBe(moved(3, 1));
    });

    it("holds a moving tenant's calls until its old worker finished the accepted ones, then carries its state across", async () => {
      const pool = await create(1);
      const moving = guildOn(1, 2);
      const staying = guildOn(0, 2);
      expect(await pool.dispatch(moving, { type: 'count' })).toBe(1);
      expect(await pool.dispatch(staying, { type: 'count' })).toBe(1);
      const dropsBefore = (await pool.dispatch(staying, { type: 'drops' })) as number;
      const blocker = pool.dispatch(moving, { type: 'wait', key: 'resize-hold' });
      const started = new Promise<{ from: number; to: number }>((resolve) => pool.once('resizing', resolve));
      const resizing = pool.resize(2);
      expect(await started).toEqual({ from: 1, to: 2 });
      const held = pool.dispatch(moving, { type: 'count' });
      const controller = new AbortController();
      const aborted = pool.dispatch(moving, { type: 'count' }, { signal: controller.signal });
      controller.abort('changed my mind');
      await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
      await expect(pool.dispatch(moving, { type: 'count' }, { timeoutMs: 0 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
      await expect(pool.dispatch(moving, { type: 'count' }, { timeoutMs: 20 })).rejects.toMatchObject({
        code: 'ERR_HANDLER_TIMEOUT',
      });
      // A tenant that does not move is not paused, even on the same worker.
      await expect(pool.dispatch(staying, { type: 'count' })).resolves.toBe(2);
      await pool.dispatch(staying, { type: 'release', key: 'resize-hold' });
      await expect(blocker).resolves.toBe('released');
      // The held call ran on the new worker, after the accepted one, with the carried state; the aborted and timed-out ones never ran.
      await expect(held).resolves.toBe(2);
      const info = await resizing;
      expect(info).toMatchObject({ from: 1, to: 2, moved: 1, carried: 1, failures: [] });
      expect(info.longestHoldMs).toBeGreaterThan(0);
      expect(await pool.dispatch(moving, { type: 'whoami' })).toMatchObject({ workerId: 1 });
      expect(await pool.dispatch(moving, { type: 'count' })).toBe(3);
      // The old worker released the moved state with its dropTenant hook.
      expect(await pool.dispatch(staying, { type: 'drops' })).toBe(dropsBefore + 1);
    });

    it('serves ctx.kv of a moved tenant from its new worker, and closes the workers a shrink removes', async () => {
      const pool = await create(2);
      const tenant = guildOn(2, 3);
      await pool.dispatch(tenant, { type: 'kv-set', key: 'k', value: 42 });
      await pool.resize(3);
      expect(await pool.dispatch(tenant, { type: 'whoami' })).toMatchObject({ workerId: 2 });
      expect(await pool.dispatch(tenant, { type: 'kv-get', key: 'k' })).toBe(42);
      const removed = pool.workers[2]!;
      await pool.resize(1);
      expect(pool.workers).toHaveLength(1);
      await expect(removed.dispatch(tenant, { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
      expect(await pool.dispatch(tenant, { type: 'kv-get', key: 'k' })).toBe(42);
      expect(await pool.dispatch(tenant, { type: 'whoami' })).toMatchObject({ workerId: 0 });
    });

    if (harness.crossesBoundary) {
      it('hands a tenant off only after a handler of it whose caller gave up has ended in the worker', async () => {
        let running!: () => void;
        const handlerRuns = new Promise<void>((resolve) => (running = resolve));
        const store = new (class extends MemoryKvStore {
          override async set(tenant: TenantId, key: string, value: unknown): Promise<void> {
            await super.set(tenant, key, value);
            if (key === 'abandoned-handoff') running();
          }
        })();
        const pool = await create(1, { store });
        const moving = guildOn(1, 2);
        const staying = guildOn(0, 2);
        expect(await pool.dispatch(moving, { type: 'count' })).toBe(1);
        const controller = new AbortController();
        const abandoned = pool
          .dispatch(moving, { type: 'hold', key: 'abandoned-handoff' }, { signal: controller.signal })
          .catch((error: unknown) => error);
        await handlerRuns;
        // The caller is told; the handler still runs in the worker, and may still change the state.
        controller.abort('gave up');
        expect(await abandoned).toMatchObject({ code: 'ABORT_ERR' });
        let resized = false;
        const resizing = pool.resize(2).then((info) => {
          resized = true;
          return info;
        });
        // A round trip through the same worker: the resize is still waiting for the handler.
        expect(await pool.dispatch(staying, { type: 'count' })).toBe(1);
        expect(resized).toBe(false);
        await pool.dispatch(staying, { type: 'release', key: 'abandoned-handoff' });
        expect(await resizing).toMatchObject({ moved: 1, carried: 1, failures: [] });
        // The state carried includes what the abandoned handler did before it ended.
        expect(await pool.dispatch(moving, { type: 'count' })).toBe(3);
        expect(await pool.dispatch(moving, { type: 'whoami' })).toMatchObject({ workerId: 1 });
      });

      it('moves a tenant whose old worker crashed during the resize without its state, and reports it in failures', async () => {
        const pool = await create(1, { restart: { backoff: () => 0 } });
        const moving = guildOn(1, 2);
        expect(await pool.dispatch(moving, { type: 'count' })).toBe(1);
        const blocker = pool.dispatch(moving, { type: 'wait', key: 'resize-crash' }).catch((error: unknown) => error);
        const started = new Promise<unknown>((resolve) => pool.once('resizing', resolve));
        const resizing = pool.resize(2);
        await started;
        const held = pool.dispatch(moving, { type: 'count' });
        // The old worker dies with the tenant's event and its handoff in flight.
        await expect(pool.dispatch(guildOn(0, 2), { type: 'exit' })).rejects.toMatchObject({
          code: 'ERR_WORKER_CRASHED',
        });
        expect(await blocker).toMatchObject({ code: 'ERR_WORKER_CRASHED' });
        // The held call runs on the new worker, on fresh state.
        await expect(held).resolves.toBe(1);
        const info = await resizing;
        expect(info).toMatchObject({ moved: 1, carried: 0 });
        expect(info.failures).toEqual([
          { tenant: moving, error: expect.objectContaining({ code: 'ERR_WORKER_CRASHED' }) },
        ]);
        expect(await pool.dispatch(moving, { type: 'whoami' })).toMatchObject({ workerId: 1 });
      });
    }

    it('queues replace() behind a resize under way: the slot is one of the resized pool, and a slot the resize removed is refused with ERR_INVALID_ARGUMENT', async () => {
      const pool = await create(2);
      const tenants = Array.from({ length: 30 }, (_, i) => guild(i * 7, i + 1));
      for (const tenant of tenants) await pool.dispatch(tenant, { type: 'count' });
      const growing = pool.resize(3);
      // Slot 2 does not exist yet: it will once the resize is done.
      const replacing = pool.replace(2);
      const info = await growing;
      expect(info).toMatchObject({ from: 2, to: 3, failures: [] });
      const fresh = await replacing;
      expect(pool.workers[2]).toBe(fresh);
      expect(pool.size).toBe(3);
      // The resize finished with the workers it started with: every state was carried, none lost to a kill.
      const counts = await Promise.all(tenants.map((tenant) => pool.dispatch(tenant, { type: 'count' })));
      const onFresh = tenants.map((tenant) => shardFor(tenant.id, 3) === 2);
      // The replaced worker starts empty; every other tenant counts on from its carried state.
      expect(counts).toEqual(onFresh.map((replaced) => (replaced ? 1 : 2)));
      const shrinking = pool.resize(1);
      await expect(pool.replace(2)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(shrinking).resolves.toMatchObject({ from: 3, to: 1 });
      await expect(pool.replace(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(pool.replace(1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    });

    it('bounds a handoff stuck behind a handler whose caller gave up: at handoffTimeoutMs the tenant is in failures with ERR_HANDOFF_TIMEOUT, its held calls go to the new worker in order, and its old state is released once the handler ends', async () => {
      let running!: () => void;
      const handlerRuns = new Promise<void>((resolve) => (running = resolve));
      const store = new (class extends MemoryKvStore {
        override async set(tenant: TenantId, key: string, value: unknown): Promise<void> {
          await super.set(tenant, key, value);
          if (key === 'stuck-handoff') running();
        }
      })();
      const pool = await create(1, { store });
      const moving = guildOn(1, 2);
      const staying = guildOn(0, 2);
      expect(await pool.dispatch(moving, { type: 'count' })).toBe(1);
      const dropsBefore = (await pool.dispatch(staying, { type: 'drops' })) as number;
      const controller = new AbortController();
      const abandoned = pool
        .dispatch(moving, { type: 'hold', key: 'stuck-handoff' }, { signal: controller.signal })
        .catch((error: unknown) => error);
      await handlerRuns;
      controller.abort('gave up');
      expect(await abandoned).toMatchObject({ code: 'ABORT_ERR' });
      await expect(pool.resize(2, { handoffTimeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(pool.resize(2, 'soon' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      const started = new Promise<unknown>((resolve) => pool.once('resizing', resolve));
      const resizing = pool.resize(2, { handoffTimeoutMs: 50 });
      await started;
      const held = [1, 2, 3].map((seq) => pool.dispatch(moving, { type: 'record', seq }));
      const info = await resizing;
      expect(info).toMatchObject({ from: 1, to: 2, moved: 1, carried: 0 });
      expect(info.failures).toEqual([
        { tenant: moving, error: expect.objectContaining({ code: 'ERR_HANDOFF_TIMEOUT' }) },
      ]);
      // Nothing lost: the held calls ran on the new worker, in order, on fresh state.
      await expect(Promise.all(held)).resolves.toEqual([1, 2, 3]);
      expect(await pool.dispatch(moving, { type: 'log' })).toEqual([1, 2, 3]);
      expect(await pool.dispatch(moving, { type: 'whoami' })).toMatchObject({ workerId: 1 });
      // The old worker still holds the old state until the abandoned handler ends, then releases it.
      await pool.dispatch(staying, { type: 'release', key: 'stuck-handoff' });
      await pool.workers[0]!.dropTenant(moving);
      expect(await pool.dispatch(staying, { type: 'drops' })).toBe(dropsBefore + 1);
    });

    it('queues a second resize behind the running one, and rejects bad sizes and resizes of a closed pool', async () => {
      const pool = await create(2);
      for (const bad of [0, -1, 1.5, Number.NaN, '2'])
        await expect(pool.resize(bad as number)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      const toThree = pool.resize(3);
      const toOne = pool.resize(1);
      await expect(toThree).resolves.toMatchObject({ from: 2, to: 3 });
      await expect(toOne).resolves.toMatchObject({ from: 3, to: 1 });
      const started = pool.resize(2);
      const queued = pool.resize(3);
      const closing = pool.close();
      await expect(started).resolves.toMatchObject({ from: 1, to: 2 });
      await expect(queued).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
      await closing;
      await expect(pool.resize(2)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    });
  });
}

/** Tracing: `switchyard:dispatch:*` diagnostics channels and `ctx.traceparent` across boundaries. */
function describeTracing(create: (workers?: number) => Promise<PoolUnderTest>): void {
  describe('tracing', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

    it("carries the caller's W3C traceparent to the handler as ctx.traceparent, and rejects a malformed one", async () => {
      const pool = await create(2);
      await expect(pool.dispatch(guild(1), { type: 'traceparent' }, { traceparent })).resolves.toBe(traceparent);
      await expect(pool.dispatch(guild(1), { type: 'traceparent' })).resolves.toBeNull();
      for (const bad of ['nope', `${traceparent}x`, 42])
        await expect(pool.dispatch(guild(1), { type: 'count' }, { traceparent: bad as string })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
      await expect(pool.dispatch(guild(1), { type: 'count' })).resolves.toBe(1);
    });

    it('publishes dispatch start, end and error; a start subscriber sets the traceparent the worker sees', async () => {
      const pool = await create(2);
      const set = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
      const seen: Record<'start' | 'end' | 'error', DispatchMessage[]> = { start: [], end: [], error: [] };
      let noWaitEnded!: () => void;
      const noWaitEnd = new Promise<void>((resolve) => (noWaitEnded = resolve));
      const onStart = (message: unknown): void => {
        seen.start.push(message as DispatchMessage);
        (message as DispatchMessage).traceparent = set;
      };
      const onEnd = (message: unknown): void => {
        seen.end.push(message as DispatchMessage);
        if ((message as DispatchMessage).noWait) noWaitEnded();
      };
      const onError = (message: unknown): void => void seen.error.push(message as DispatchMessage);
      subscribe('switchyard:dispatch:start', onStart);
      subscribe('switchyard:dispatch:end', onEnd);
      subscribe('switchyard:dispatch:error', onError);
      try {
        await expect(pool.dispatch(guild(2), { type: 'traceparent' })).resolves.toBe(set);
        await expect(pool.dispatch(guild(2), { type: 'throw-plain', message: 'traced failure' })).rejects.toThrow(
          'traced failure',
        );
        pool.dispatchNoWait(guild(3), { type: 'traceparent' });
        await noWaitEnd;
      } finally {
        unsubscribe('switchyard:dispatch:start', onStart);
        unsubscribe('switchyard:dispatch:end', onEnd);
        unsubscribe('switchyard:dispatch:error', onError);
      }
      expect(seen.start.map(({ op, noWait, tenant }) => ({ op, noWait, tenant }))).toEqual([
        { op: 'event', noWait: false, tenant: guild(2) },
        { op: 'event', noWait: false, tenant: guild(2) },
        { op: 'event', noWait: true, tenant: guild(3) },
      ]);
      expect(seen.start[0]!.workerId).toBe(shardFor(guild(2).id, 2));
      // The same message object from start to end or error.
      expect(seen.end).toEqual([seen.start[0], seen.start[2]]);
      expect(seen.end[0]!.result).toBe(set);
      expect(seen.error).toEqual([seen.start[1]]);
      expect(seen.error[0]!.error).toMatchObject({ message: 'traced failure' });
    });

    it("times the handler apart from the wait behind the tenant's earlier event (startedAt, handlingMs); a call that never ran has neither", async () => {
      const pool = await create(1);
      // By event object: the message carries the event given to dispatch.
      const seen = new Map<unknown, { message: DispatchMessage; at: number }>();
      const onSettled = (message: unknown): void => {
        const m = message as DispatchMessage;
        seen.set(m.event, { message: m, at: performance.now() });
      };
      const events: SuiteEvent[] = [
        { type: 'wait', key: 'timed-queue' },
        { type: 'record', seq: 2 },
        { type: 'record', seq: 3 },
      ];
      subscribe('switchyard:dispatch:end', onSettled);
      subscribe('switchyard:dispatch:error', onSettled);
      let releasedAt = 0;
      try {
        await pool.dispatch(guild(1), { type: 'count' });
        const first = pool.dispatch(guild(1), events[0]!);
        const second = pool.dispatch(guild(1), events[1]!);
        const controller = new AbortController();
        const third = pool.dispatch(guild(1), events[2]!, { signal: controller.signal });
        controller.abort('not needed');
        await expect(third).rejects.toMatchObject({ code: 'ABORT_ERR' });
        releasedAt = performance.now();
        await pool.dispatch(guild(2), { type: 'release', key: 'timed-queue' });
        await expect(first).resolves.toBe('released');
        await expect(second).resolves.toBe(1);
      } finally {
        unsubscribe('switchyard:dispatch:end', onSettled);
        unsubscribe('switchyard:dispatch:error', onSettled);
      }
      const first = seen.get(events[0])!.message;
      const { message: second, at: secondEnded } = seen.get(events[1])!;
      const third = seen.get(events[2])!.message;
      // The second event could only start once the first ended, after the release: its wait is queue
      // wait, and its handler ran between the release and its end.
      expect(second.startedAt).toBeGreaterThanOrEqual(releasedAt);
      expect(second.startedAt! - second.acceptedAt).toBeGreaterThan(0);
      expect(second.handlingMs).toBeGreaterThanOrEqual(0);
      expect(second.handlingMs).toBeLessThanOrEqual(secondEnded - releasedAt);
      // The first one's handler waited for the release itself: that is handling time.
      expect(first.handlingMs).toBeGreaterThanOrEqual(0);
      expect(first.startedAt! + first.handlingMs!).toBeGreaterThanOrEqual(releasedAt);
      expect([third.startedAt, third.handlingMs]).toEqual([undefined, undefined]);
    });

    it('tells timing observers the wait and handling time of every dispatch, with no channel subscriber', async () => {
      const pool = await create(1);
      const [worker] = pool.workers;
      await pool.dispatch(guild(1), { type: 'count' });
      const seen: Array<{ workerId: number; waitMs: number; handlingMs: number }> = [];
      const stop = observeDispatchTimings((w, workerId, waitMs, handlingMs) => {
        if (w === worker) seen.push({ workerId, waitMs, handlingMs });
      });
      try {
        const first = pool.dispatch(guild(1), { type: 'wait', key: 'observed-queue' });
        const second = pool.dispatch(guild(1), { type: 'record', seq: 2 });
        const controller = new AbortController();
        const third = pool.dispatch(guild(1), { type: 'record', seq: 3 }, { signal: controller.signal });
        controller.abort('not needed');
        await expect(third).rejects.toMatchObject({ code: 'ABORT_ERR' });
        // The second waits behind the first at least this long after it was accepted.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await pool.dispatch(guild(2), { type: 'release', key: 'observed-queue' });
        await expect(first).resolves.toBe('released');
        await expect(second).resolves.toBe(1);
      } finally {
        stop();
      }
      // first, second, third (aborted while it waited: no handler ran), release.
      expect(seen).toHaveLength(4);
      expect(seen.every((o) => o.workerId === worker!.id && o.waitMs >= 0)).toBe(true);
      expect(seen.filter((o) => Number.isNaN(o.handlingMs))).toHaveLength(1);
      expect(seen.filter((o) => o.handlingMs >= 0)).toHaveLength(3);
      expect(Math.max(...seen.map((o) => o.waitMs))).toBeGreaterThanOrEqual(50);
    });
  });
}
