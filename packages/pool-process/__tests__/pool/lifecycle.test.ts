import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { MemoryKvStore } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import type { ProcessPoolOptions } from '../../src/index.js';
import { createProcessPool } from '../../src/index.js';
import { alive, exitOf, fixture, silent, tenantOn, useCleanup, waitUntil } from '../helpers.js';

const base = {
  module: fixture('definition.mjs'),
  hub: { logger: silent, heartbeatMs: 30_000 },
  stdio: 'ignore',
  restart: { backoffMs: 20 },
} as const;

/** Starts fixtures/master.mjs and resolves with its worker pids once its pool is up. */
async function startMaster(mode: 'wait' | 'exit'): Promise<{ master: ChildProcess; pids: number[] }> {
  const master = spawn(process.execPath, [fixture('master.mjs'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  master.stdout!.setEncoding('utf8');
  const line = await new Promise<string>((resolve, reject) => {
    master.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    master.once('exit', (code) => reject(new Error(`the master exited with ${code} before printing its pids: ${out}`)));
  });
  const { pids, reported } = JSON.parse(line) as { pids: number[]; reported: number[] };
  expect(pids).toEqual(reported);
  return { master, pids };
}

describe('kill and close', () => {
  const cleanup = useCleanup();
  const start = async (options: Partial<ProcessPoolOptions> = {}) =>
    cleanup(await createProcessPool({ workers: 1, ...base, ...options } as ProcessPoolOptions));

  it('kill() stops every worker process: their pids are gone when it resolves', async () => {
    const pool = await start({ workers: 2 });
    const pids = pool.workers.map((worker) => worker.pid!);
    expect(pids.every(alive)).toBe(true);
    await pool.kill();
    expect(pids.map(alive)).toEqual([false, false]);
    expect(pool.workers.map((worker) => worker.state)).toEqual(['killed', 'killed']);
    await expect(pool.dispatch(tenantOn(0, 2), { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });

  it('kill() while a worker restarts rejects what it held with WorkerKilledError and leaves no process', async () => {
    const pool = await start({ restart: { backoffMs: 5000 } });
    const a = tenantOn(0, 1);
    let held: Promise<unknown> | undefined;
    const reported: unknown[] = [];
    pool.on('dispatchError', ({ error }) => reported.push(error));
    pool.once('crash', () => {
      held = pool.dispatch(a, { type: 'count' });
      pool.dispatchNoWait(a, { type: 'count' });
    });
    const crashed = once(pool, 'crash');
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    await crashed;
    const killing = pool.kill();
    const outcome = held!.catch((error: unknown) => error);
    await killing;
    expect(await outcome).toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(reported).toEqual([expect.objectContaining({ code: 'ERR_WORKER_KILLED' })]);
    expect(pool.workers[0]!.pid === undefined || !alive(pool.workers[0]!.pid)).toBe(true);
  });

  it('close() lets the worker finish and release its tenants (through the hub), then its process exits', async () => {
    const store = new MemoryKvStore();
    const pool = await start({ store });
    const a = tenantOn(0, 1);
    const pid = pool.workers[0]!.pid!;
    const counts = Array.from({ length: 50 }, () => pool.dispatch(a, { type: 'count' }));
    await pool.close();
    expect(await Promise.all(counts)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // The dropTenant hook wrote this through ctx.kv while the worker was closing.
    expect(await store.get(a, 'dropped')).toEqual({ at: 'dropTenant', drops: 1 });
    expect(alive(pid)).toBe(false);
    await expect(pool.dispatch(a, { type: 'count' })).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });

  it('holds no handles once closed: no server, socket, pipe, timer or child process is left', async () => {
    const count = (): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
      return counts;
    };
    const before = count();
    const pool = await createProcessPool({
      workers: 2,
      ...base,
      hub: { logger: silent, heartbeatMs: 30_000 },
    } as ProcessPoolOptions);
    await pool.dispatch(tenantOn(0, 2), { type: 'count' });
    expect(count()).not.toEqual(before);
    await pool.close();
    // Closed handles are released in the close phase of the event loop: let one full turn pass.
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Per kind of handle, no more than before (the test runner's own timers come and go).
    const after = count();
    const grown = [...after].filter(([type, n]) => n > (before.get(type) ?? 0));
    expect(grown).toEqual([]);
  });

  it('close() during a restart delivers what was held first', async () => {
    const pool = await start({ restart: { backoffMs: 200 } });
    const a = tenantOn(0, 1);
    const held: Array<Promise<unknown>> = [];
    pool.once('crash', () => {
      for (let i = 0; i < 3; i++) held.push(pool.dispatch(a, { type: 'count' }));
    });
    const crashed = once(pool, 'crash');
    await pool.dispatch(a, { type: 'exit' }).catch(() => undefined);
    await crashed;
    await pool.close();
    expect(await Promise.all(held)).toEqual([1, 2, 3]);
  });

  it('kills its workers when the master process exits', async () => {
    const { master, pids } = await startMaster('exit');
    cleanup(master);
    expect(await exitOf(master)).toEqual({ code: 0, signal: null });
    // They were the master's children, not ours: no exit event reaches us, so look.
    await waitUntil(() => !pids.some(alive), `worker processes ${pids.join(', ')} are gone`);
  });

  it('leaves no orphans when the master is killed with SIGKILL: the workers notice and exit', async () => {
    const { master, pids } = await startMaster('wait');
    cleanup(master);
    expect(pids.every(alive)).toBe(true);
    master.kill('SIGKILL');
    await exitOf(master);
    await waitUntil(() => !pids.some(alive), `worker processes ${pids.join(', ')} are gone`);
  });
});
