import { readFileSync } from 'node:fs';
import { MemoryKvStore } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import type { ProcessPoolOptions } from '../../src/index.js';
import { createHub, createProcessPool, ProcessWorker, WorkerStartError } from '../../src/index.js';
import { alive, childPids, fixture, silent, tenantOn, useCleanup } from '../helpers.js';

const base = {
  module: fixture('definition.mjs'),
  hub: { logger: silent, heartbeatMs: 30_000 },
  stdio: 'ignore',
} as const;

describe('createProcessPool', () => {
  const cleanup = useCleanup();
  const start = async (options: Partial<ProcessPoolOptions>) =>
    cleanup(await createProcessPool({ workers: 1, ...base, ...options } as ProcessPoolOptions));

  it('rejects invalid options with ERR_INVALID_ARGUMENT before starting anything', async () => {
    const cases: Array<Partial<ProcessPoolOptions>> = [
      { workers: 0 },
      { workers: 1.5 },
      { entry: fixture('entry.mjs') },
      { module: undefined },
      { env: { X: 1 as unknown as string } },
      { restart: { maxFailures: 0 } },
      { restart: { backoffMs: 'soon' as unknown as number } },
      { stdio: 'pipe' as 'inherit' },
      { maxBufferedEvents: 0 },
      { workerData: { fn: () => 1 } },
    ];
    for (const options of cases) {
      await expect(createProcessPool({ workers: 1, ...base, ...options } as ProcessPoolOptions)).rejects.toMatchObject({
        code: options.workerData === undefined ? 'ERR_INVALID_ARGUMENT' : 'ERR_INVALID_EVENT',
      });
    }
    expect(childPids('definition.mjs')).toEqual([]);
  });

  it('resolves once every worker connected, with the hub it started', async () => {
    const pool = await start({ workers: 2 });
    expect(pool.size).toBe(2);
    expect(pool.workers.every((worker) => worker instanceof ProcessWorker && worker.state === 'running')).toBe(true);
    expect(pool.hub.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(pool.hub.connectedWorkers()).toEqual([0, 1]);
  });

  it('spawns `node <entry> --worker-id i --process-workers n` with a key of its own in the environment, never on the command line', async () => {
    const pool = await start({ workers: 2, entry: fixture('entry.mjs'), module: undefined });
    const keys = new Set<string>();
    for (const worker of pool.workers) {
      const seen = (await worker.dispatch(tenantOn(worker.id, 2), { type: 'env' })) as {
        token: string | null;
        argv: string[];
      };
      expect(seen.argv).toEqual(['--worker-id', String(worker.id), '--process-workers', '2']);
      // runWorkerProcess reads the token once and removes it from process.env.
      expect(seen.token).toBeNull();
      const cmdline = readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${worker.pid}/environ`, 'utf8').split('\0');
      const token = environ.find((entry) => entry.startsWith('SWITCHYARD_WORKER_TOKEN='))!.split('=')[1]!;
      // A fresh key for this process (one incarnation), not derivable from the hub secret and the id.
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(token).not.toBe(pool.hub.tokenFor(worker.id));
      keys.add(token);
      expect(cmdline).not.toContain(token);
      expect(cmdline).not.toContain('SWITCHYARD');
      // A worker on this host connects over the hub's Unix socket.
      expect(environ).toContain(`SWITCHYARD_HUB_URL=${pool.hub.localUrl}`);
    }
    expect(keys.size).toBe(2);
  });

  it('connects spawned workers over TCP when the hub has no local socket', async () => {
    const pool = await start({ hub: { logger: silent, localSocket: false } });
    expect(pool.hub.localUrl).toBeUndefined();
    const environ = readFileSync(`/proc/${pool.workers[0]!.pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`SWITCHYARD_HUB_URL=${pool.hub.url}`);
    await expect(pool.dispatch(tenantOn(0, 1), { type: 'count' })).resolves.toBe(1);
  });

  it("does not hand the master's environment to workers, only what `env` adds", async () => {
    process.env.DATABASE_URL = 'postgres://master:secret@db/bot';
    try {
      const pool = await start({ env: { FIXTURE_EXTRA: 'given' } });
      await expect(pool.dispatch(tenantOn(0, 1), { type: 'env' })).resolves.toMatchObject({
        secret: null,
        extra: 'given',
      });
    } finally {
      delete process.env.DATABASE_URL;
    }
  });

  it('rejects with WorkerStartError naming the workers that did not connect within startTimeoutMs, and kills every process', async () => {
    const error = (await createProcessPool({
      workers: 3,
      ...base,
      module: undefined,
      entry: fixture('entry.mjs'),
      env: { FIXTURE_HANG_IDS: '0,2' },
      // Generous: worker 1 must connect in time even on a busy machine.
      startTimeoutMs: 4000,
    }).catch((caught: unknown) => caught)) as WorkerStartError;
    expect(error).toBeInstanceOf(WorkerStartError);
    expect(error.code).toBe('ERR_WORKER_START');
    expect(error.workerIds).toEqual([0, 2]);
    expect(error.message).toContain('Workers 0, 2 of 3');
    expect(error.cause).toMatchObject({ code: 'ERR_WORKER_START_TIMEOUT' });
    expect(childPids('entry.mjs')).toEqual([]);
  });

  it('names the exit code and last stderr lines of a worker that exited before connecting', async () => {
    const error = (await createProcessPool({
      workers: 2,
      ...base,
      module: undefined,
      entry: fixture('entry.mjs'),
      env: { FIXTURE_EXIT_IDS: '1' },
    }).catch((caught: unknown) => caught)) as WorkerStartError;
    expect(error.code).toBe('ERR_WORKER_START');
    expect(error.workerIds).toEqual([1]);
    expect(error.cause).toMatchObject({ code: 'ERR_WORKER_EXITED', exitCode: 7 });
    expect(error.message).toContain('fixture: worker 1 refuses to start');
    expect(childPids('entry.mjs')).toEqual([]);
  });

  it('uses a hub it is given, and leaves it open when the pool closes', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    const first = await createProcessPool({ workers: 1, ...base, hub });
    expect(first.hub).toBe(hub);
    const pid = first.workers[0]!.pid!;
    await first.close();
    expect(alive(pid)).toBe(false);
    // The worker ids are free again: another pool can serve them on the same hub.
    const second = cleanup(await createProcessPool({ workers: 1, ...base, hub }));
    await expect(second.dispatch(tenantOn(0, 1), { type: 'count' })).resolves.toBe(1);
  });

  it('shares one store the master owns between all workers', async () => {
    const store = new MemoryKvStore();
    const pool = await start({ workers: 2, store });
    const a = tenantOn(0, 2);
    const b = tenantOn(1, 2);
    await pool.dispatch(a, { type: 'kv-set', key: 'k', value: 'from 0' });
    await pool.dispatch(b, { type: 'kv-set', key: 'k', value: 'from 1' });
    expect(await store.get(a, 'k')).toBe('from 0');
    expect(await store.get(b, 'k')).toBe('from 1');
  });
});
