import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DispatchErrorInfo, WorkerCrashInfo } from '@switchyard/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProcessPool, ProcessPoolOptions, WorkerOnlineInfo } from '../../src/index.js';
import { createProcessPool } from '../../src/index.js';
import { alive, childPids, fixture, silent, tenantOn, useCleanup } from '../helpers.js';

const base = {
  module: fixture('definition.mjs'),
  // Healthy workers must never miss a ping, however loaded the machine: only the SIGSTOP test
  // below shortens the heartbeat, for a worker it stops on purpose.
  hub: { logger: silent, heartbeatMs: 30_000 },
  stdio: 'ignore',
  restart: { backoffMs: 20 },
} as const;

function events<K extends 'crash' | 'fatal' | 'online'>(
  pool: ProcessPool,
  name: K,
): Array<K extends 'online' ? WorkerOnlineInfo : WorkerCrashInfo> {
  const seen: any[] = [];
  if (name === 'online') for (const worker of pool.workers) worker.on('online', (info) => seen.push(info));
  else pool.on(name as 'crash', (info) => seen.push(info));
  return seen;
}

describe('restarts', () => {
  const cleanup = useCleanup();
  const start = async (options: Partial<ProcessPoolOptions> = {}) =>
    cleanup(await createProcessPool({ workers: 1, ...base, ...options } as ProcessPoolOptions));
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-restarts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects in-flight dispatches of a dying worker with WorkerCrashedError, emits crash and restarts it', async () => {
    const pool = await start();
    const worker = pool.workers[0]!;
    const a = tenantOn(0, 1, 0);
    const b = tenantOn(0, 1, 1);
    expect(await pool.dispatch(a, { type: 'count' })).toBe(1);
    const oldPid = worker.pid!;
    const crashed = once(pool, 'crash') as Promise<[WorkerCrashInfo]>;
    const online = once(worker, 'online') as Promise<[WorkerOnlineInfo]>;
    const hanging = pool.dispatch(a, { type: 'hang' });
    const dying = pool.dispatch(b, { type: 'exit', code: 3 });
    await expect(hanging).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    await expect(dying).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', cause: { code: 'ERR_WORKER_EXITED' } });
    const [crash] = await crashed;
    expect(crash.workerId).toBe(0);
    expect(crash.cause).toMatchObject({ code: 'ERR_WORKER_EXITED', exitCode: 3 });
    const [info] = await online;
    expect(info).toMatchObject({ workerId: 0, restarts: 1 });
    expect(info.pid).not.toBe(oldPid);
    expect(alive(oldPid)).toBe(false);
    // A fresh process: the tenant's state starts over.
    expect(await pool.dispatch(a, { type: 'count' })).toBe(1);
    expect(worker.failures).toBe(1);
  });

  it('re-emits every worker’s crash on the pool with the worker id', async () => {
    const pool = await start({ workers: 2 });
    const crashes = events(pool, 'crash');
    const online = once(pool.workers[1]!, 'online');
    await pool.dispatch(tenantOn(1, 2), { type: 'exit', code: 5 }).catch(() => undefined);
    await online;
    expect(crashes.map((crash) => crash.workerId)).toEqual([1]);
    expect(await pool.dispatch(tenantOn(0, 2), { type: 'count' })).toBe(1);
  });

  it('holds events dispatched while restarting in one buffer and delivers them in per-tenant order afterwards, exactly once', async () => {
    const pool = await start({ restart: { backoffMs: 300 } });
    const worker = pool.workers[0]!;
    const tenants = [tenantOn(0, 1, 0), tenantOn(0, 1, 1), tenantOn(0, 1, 2)];
    const perTenant = 400;
    const waited: Array<Promise<unknown>> = [];
    const online = once(worker, 'online');
    pool.once('crash', () => {
      // The worker is down now: everything below waits in the master's buffer.
      expect(worker.state).toBe('restarting');
      for (let seq = 0; seq < perTenant; seq++) {
        for (const tenant of tenants) {
          if (seq % 100 === 99) waited.push(pool.dispatch(tenant, { type: 'record', seq }));
          else pool.dispatchNoWait(tenant, { type: 'record', seq });
        }
      }
      expect(pool.stats().queued).toBe(perTenant * tenants.length);
    });
    await pool.dispatch(tenants[0]!, { type: 'exit' }).catch(() => undefined);
    await online;
    expect(await Promise.all(waited)).toEqual([100, 100, 100, 200, 200, 200, 300, 300, 300, 400, 400, 400]);
    for (const tenant of tenants) {
      expect(await pool.dispatch(tenant, { type: 'log' })).toEqual(Array.from({ length: perTenant }, (_, i) => i));
    }
    expect(pool.stats()).toMatchObject({ queued: 0, failed: 0 });
  });

  it('still honours the signal of a dispatch held while restarting', async () => {
    const pool = await start({ restart: { backoffMs: 300 } });
    const worker = pool.workers[0]!;
    const a = tenantOn(0, 1);
    const controller = new AbortController();
    let held: Promise<unknown> | undefined;
    pool.once('crash', () => {
      held = pool.dispatch(a, { type: 'count' }, { signal: controller.signal });
      controller.abort('not needed any more');
    });
    const crashed = once(pool, 'crash');
    const online = once(worker, 'online');
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    await crashed;
    await expect(held).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'not needed any more' });
    await online;
    // The aborted event never ran: this is the tenant's first event in the new process.
    expect(await pool.dispatch(a, { type: 'count' })).toBe(1);
  });

  it('rejects with BackpressureError once the buffer is full, and delivers what it held', async () => {
    const pool = await start({ restart: { backoff: () => 300 }, maxQueue: 5 });
    const worker = pool.workers[0]!;
    const a = tenantOn(0, 1);
    const results: unknown[] = [];
    let last: Promise<unknown> | undefined;
    pool.once('crash', () => {
      for (let seq = 0; seq < 4; seq++) pool.dispatchNoWait(a, { type: 'record', seq });
      last = pool.dispatch(a, { type: 'record', seq: 4 });
      try {
        pool.dispatchNoWait(a, { type: 'record', seq: 5 });
      } catch (error) {
        results.push(error);
      }
      results.push(pool.dispatch(a, { type: 'record', seq: 6 }).catch((error: unknown) => error));
    });
    const crashed = once(pool, 'crash');
    const online = once(worker, 'online');
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    await crashed;
    expect(results[0]).toMatchObject({ code: 'ERR_BACKPRESSURE' });
    expect(await results[1]).toMatchObject({ code: 'ERR_BACKPRESSURE' });
    await online;
    // maxQueue counts accepted events until they finish: wait for the held ones.
    expect(await last).toBe(5);
    expect(await pool.dispatch(a, { type: 'log' })).toEqual([0, 1, 2, 3, 4]);
  });

  it('gives up after maxFailures consecutive failures: emits fatal and rejects buffered and later events with WorkerUnavailableError', async () => {
    const flag = join(dir, 'crash-at-start');
    const pool = await start({
      module: undefined,
      entry: fixture('entry.mjs'),
      env: { FIXTURE_CRASH_FILE: flag },
      restart: { backoffMs: 20, maxFailures: 3 },
    });
    const a = tenantOn(0, 1);
    const crashes = events(pool, 'crash');
    const fatal = once(pool, 'fatal') as Promise<[WorkerCrashInfo]>;
    const reported: DispatchErrorInfo[] = [];
    pool.on('dispatchError', (info) => reported.push(info));
    // From now on every restart exits at once.
    writeFileSync(flag, '');
    let buffered: Promise<unknown> | undefined;
    pool.once('crash', () => {
      buffered = pool.dispatch(a, { type: 'count' });
      for (let i = 0; i < 7; i++) pool.dispatchNoWait(a, { type: 'count' });
    });
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    const [info] = await fatal;
    expect(info.workerId).toBe(0);
    expect(crashes).toHaveLength(3);
    expect(crashes.slice(1).map((crash) => (crash.cause as { exitCode?: number }).exitCode)).toEqual([1, 1]);
    await expect(buffered).rejects.toMatchObject({ code: 'ERR_WORKER_UNAVAILABLE' });
    expect(reported).toHaveLength(7);
    expect(
      reported.every((r) => (r.error as { code?: string }).code === 'ERR_WORKER_UNAVAILABLE' && r.workerId === 0),
    ).toBe(true);
    await expect(pool.dispatch(a, { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_UNAVAILABLE' });
    expect(() => pool.dispatchNoWait(a, { type: 'count' })).toThrow(
      expect.objectContaining({ code: 'ERR_WORKER_UNAVAILABLE' }),
    );
    expect(pool.workers[0]!.state).toBe('unavailable');
    expect(childPids('entry.mjs')).toEqual([]);
    expect(existsSync(flag)).toBe(true);
  });

  it('counts failures from 1 again after a worker stayed up for resetAfterMs', async () => {
    // The window is long enough that a crash right after a restart always falls inside it, however
    // loaded the machine; the test then waits past it on purpose.
    const pool = await start({ restart: { backoffMs: 20, maxFailures: 2, resetAfterMs: 3_000 } });
    const worker = pool.workers[0]!;
    const a = tenantOn(0, 1);
    let online = once(worker, 'online');
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    await online;
    expect(worker.failures).toBe(1);
    // Staying up for a while is the behaviour under test, so time has to pass here.
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    online = once(worker, 'online');
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    await online;
    expect(worker.failures).toBe(1);
    expect(worker.state).toBe('running');
    // Without the wait, the second failure in a row gives up (maxFailures: 2).
    const fatal = once(pool, 'fatal');
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    await fatal;
    expect(worker.failures).toBe(2);
  });

  it('treats a worker that stops answering pings (SIGSTOP) as crashed: kills it and starts a new one', async () => {
    const pool = await start({ hub: { logger: silent, heartbeatMs: 2_000 } });
    const worker = pool.workers[0]!;
    const a = tenantOn(0, 1);
    await pool.dispatch(a, { type: 'count' });
    const stopped = worker.pid!;
    const crashed = once(pool, 'crash') as Promise<[WorkerCrashInfo]>;
    const online = once(worker, 'online') as Promise<[WorkerOnlineInfo]>;
    const inflight = pool.dispatch(a, { type: 'hang' });
    process.kill(stopped, 'SIGSTOP');
    const [crash] = await crashed;
    // The hub's ping noticed first (heartbeatMs 2 s, livenessTimeoutMs 10 s): hung all the same.
    expect(crash).toMatchObject({ tenant: a, eventType: 'hang' });
    expect(crash.cause).toMatchObject({ code: 'ERR_WORKER_HUNG', cause: { code: 'ERR_HEARTBEAT_TIMEOUT' } });
    await expect(inflight).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', cause: { code: 'ERR_WORKER_HUNG' } });
    const [info] = await online;
    expect(info.pid).not.toBe(stopped);
    expect(alive(stopped)).toBe(false);
    expect(await pool.dispatch(a, { type: 'count' })).toBe(1);
  });

  it('lets a worker whose connection dropped reconnect: same process, same tenants', async () => {
    const pool = await start();
    const worker = pool.workers[0]!;
    const a = tenantOn(0, 1);
    expect(await pool.dispatch(a, { type: 'count' })).toBe(1);
    const pid = worker.pid;
    const crashed = once(pool, 'crash') as Promise<[WorkerCrashInfo]>;
    const online = once(worker, 'online') as Promise<[WorkerOnlineInfo]>;
    const inflight = pool.dispatch(a, { type: 'hang' });
    // Wait until the hang is on the worker, so that the drop catches it in flight.
    await expect(pool.dispatch(tenantOn(0, 1, 1), { type: 'count' })).resolves.toBe(1);
    expect(pool.hub.disconnect(0)).toBe(true);
    await expect(inflight).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    const [crash] = await crashed;
    expect(crash.cause).toMatchObject({ code: 'ERR_CONNECTION_LOST' });
    const [info] = await online;
    expect(info.pid).toBe(pid);
    expect(await pool.dispatch(tenantOn(0, 1, 1), { type: 'count' })).toBe(2);
    expect(pool.hub.disconnect(7)).toBe(false);
  });

  it('keeps counting handled events across restarts in stats()', async () => {
    const pool = await start();
    const worker = pool.workers[0]!;
    const a = tenantOn(0, 1);
    for (let i = 0; i < 3; i++) await pool.dispatch(a, { type: 'count' });
    const online = once(worker, 'online');
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    await online;
    for (let i = 0; i < 2; i++) await pool.dispatch(a, { type: 'count' });
    await pool.dispatch(a, { type: 'throw-ours', message: 'x' }).catch(() => undefined);
    expect(pool.stats()).toMatchObject({ handled: 6, failed: 1, tenants: 1, queued: 0 });
  });
});
