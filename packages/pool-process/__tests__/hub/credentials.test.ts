import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { WorkerCrashInfo } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/protocol.js';
import type { WorkerOnlineInfo } from '../../src/index.js';
import { createHub, createProcessPool, ProcessWorker } from '../../src/index.js';
import { signConnect } from '../../src/hub/tokens.js';
import { fixture, recordingLogger, tenantOn, useCleanup } from '../helpers.js';
import { connectRaw, isRaw } from './raw.js';

/** The key a spawned process was given, read the way an attacker on the host would. */
function keyOf(pid: number): string {
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return environ
    .find((entry) => entry.startsWith('SWITCHYARD_WORKER_TOKEN='))!
    .slice('SWITCHYARD_WORKER_TOKEN='.length);
}

describe('credentials bound to one incarnation', () => {
  const cleanup = useCleanup();

  it("refuses a spawned process's key once it connected and while its worker restarts; its events reach only the real process", async () => {
    const logger = recordingLogger();
    const pool = cleanup(
      await createProcessPool({
        workers: 1,
        module: fixture('definition.mjs'),
        hub: { logger, localSocket: false },
        stdio: 'ignore',
        restart: { backoffMs: 2_000 },
      }),
    );
    const worker = pool.workers[0]!;
    const tenant = tenantOn(0, 1);
    const first = worker.pid!;
    const stolen = keyOf(first);
    // Used once, by the process it was made for.
    await expect(connectRaw(pool.hub, { id: '0', token: stolen, protocol: String(PROTOCOL_VERSION) })).resolves.toEqual(
      { status: 401 },
    );
    expect(logger.lines.at(-1)!.message).toContain('already used');

    const crashed = once(pool, 'crash') as Promise<[WorkerCrashInfo]>;
    const online = once(worker, 'online') as Promise<[WorkerOnlineInfo]>;
    process.kill(first, 'SIGKILL');
    await crashed;
    // The worker is down: the stolen key, a fresh signature with it, and the hub's derived key for
    // the id are all refused, and events wait for the real process.
    const pids = Array.from({ length: 20 }, () => pool.dispatch(tenant, { type: 'pid' }));
    const attempts = await Promise.all([
      connectRaw(pool.hub, { id: '0', token: stolen, protocol: String(PROTOCOL_VERSION) }),
      connectRaw(pool.hub, { id: '0', token: pool.hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) }),
      connectRaw(pool.hub, { id: '0', token: stolen, kind: 'session', protocol: String(PROTOCOL_VERSION) }),
    ]);
    expect(attempts).toEqual([{ status: 401 }, { status: 401 }, { status: 401 }]);
    const [info] = await online;
    const second = info.pid!;
    expect(second).not.toBe(first);
    expect(await Promise.all(pids)).toEqual(pids.map(() => second));
    expect(keyOf(second)).not.toBe(stolen);
    expect(pool.hub.connectedWorkers()).toEqual([0]);
  });

  it('lets a process whose connection dropped reconnect with its session key, which changes on every connection', async () => {
    const pool = cleanup(
      await createProcessPool({
        workers: 1,
        module: fixture('definition.mjs'),
        hub: { logger: recordingLogger() },
        stdio: 'ignore',
      }),
    );
    const worker = pool.workers[0]!;
    const tenant = tenantOn(0, 1);
    expect(await pool.dispatch(tenant, { type: 'count' })).toBe(1);
    for (let drop = 0; drop < 3; drop++) {
      const online = once(worker, 'online') as Promise<[WorkerOnlineInfo]>;
      expect(pool.hub.disconnect(0)).toBe(true);
      await online;
    }
    // The same process, with its tenants: it reconnected three times on session keys.
    expect(await pool.dispatch(tenant, { type: 'count' })).toBe(2);
  });

  it('refuses a signed request seen before (a captured header replayed), and accepts a fresh signature', async () => {
    const logger = recordingLogger();
    const hub = cleanup(await createHub({ logger }));
    const worker = cleanup(new ProcessWorker({ id: 0, workers: 1, hub, spawn: false, startTimeoutMs: 60_000 }));
    const started = worker.start();
    const captured = signConnect(hub.tokenFor(0), 0, 'key');
    const raw = await connectRaw(hub, { id: '0', protocol: String(PROTOCOL_VERSION), authorization: captured });
    if (!isRaw(raw)) throw new Error(`refused: ${raw.status}`);
    await started;
    const crashed = once(worker, 'crash');
    raw.ws.close();
    await crashed;
    await expect(
      connectRaw(hub, { id: '0', protocol: String(PROTOCOL_VERSION), authorization: captured }),
    ).resolves.toEqual({
      status: 401,
    });
    expect(logger.lines.at(-1)!.message).toContain('a replayed request');
    const again = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    expect(isRaw(again)).toBe(true);
  });
});

describe('keys of workers started elsewhere', () => {
  const cleanup = useCleanup();

  it('rotates with setToken: the old key stops working, the new one works, bad keys are refused', async () => {
    const hub = cleanup(await createHub({ logger: recordingLogger() }));
    const worker = cleanup(new ProcessWorker({ id: 0, workers: 1, hub, spawn: false, startTimeoutMs: 60_000 }));
    const started = worker.start();
    const old = hub.tokenFor(0);
    hub.setToken(0, 'the-rotated-key-of-worker-zero');
    expect(hub.tokenFor(0)).toBe('the-rotated-key-of-worker-zero');
    await expect(connectRaw(hub, { id: '0', token: old, protocol: String(PROTOCOL_VERSION) })).resolves.toEqual({
      status: 401,
    });
    const raw = await connectRaw(hub, {
      id: '0',
      token: 'the-rotated-key-of-worker-zero',
      protocol: String(PROTOCOL_VERSION),
    });
    expect(isRaw(raw)).toBe(true);
    await started;
    for (const bad of ['short', 42 as unknown as string])
      expect(() => hub.setToken(0, bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => hub.setToken(-1, 'a-long-enough-key-value')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
