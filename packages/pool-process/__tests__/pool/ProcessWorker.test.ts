import type { KvStore } from '@switchyard/core';
import { once } from 'node:events';
import type { WorkerCrashInfo } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/protocol.js';
import type { ProcessWorkerOptions } from '../../src/index.js';
import { createHub, ProcessWorker } from '../../src/index.js';
import { connectRaw, isRaw } from '../hub/raw.js';
import { silent, tenantOn, useCleanup } from '../helpers.js';

describe('ProcessWorker', () => {
  const cleanup = useCleanup();

  it('validates its options with ERR_INVALID_ARGUMENT', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    const cases: Array<Partial<ProcessWorkerOptions>> = [
      { id: -1 },
      { id: 2, workers: 2 },
      { workers: 0 },
      { hub: {} as ProcessWorkerOptions['hub'] },
      { spawn: true },
      { spawn: true, entry: 'a.js', module: 'b.js' },
      { spawn: 'yes' as unknown as boolean },
      { entry: '' },
      { inheritEnv: 'PATH' as unknown as string[] },
      { execArgv: [1] as unknown as string[] },
      { store: {} as KvStore },
      { restart: { resetAfterMs: -1 } },
      { startTimeoutMs: 0 },
      { closeTimeoutMs: 1.5 },
      { maxInFlight: 0 },
    ];
    for (const options of cases) {
      expect(
        () => new ProcessWorker({ id: 0, workers: 1, hub, spawn: false, ...options } as ProcessWorkerOptions),
      ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });

  it('holds events dispatched before start(), and can be closed or killed without ever starting', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    const worker = new ProcessWorker({ id: 0, workers: 1, hub, spawn: false });
    expect(worker.state).toBe('starting');
    const held = worker.dispatch(tenantOn(0, 1), {});
    expect(worker.stats().queued).toBe(1);
    await worker.close();
    await expect(held).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(worker.state).toBe('closed');
    await expect(worker.start()).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    const other = new ProcessWorker({ id: 0, workers: 1, hub, spawn: false });
    await other.kill();
    await expect(other.dispatch(tenantOn(0, 1), {})).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });

  it('rejects runScript with non-string name or code with ERR_INVALID_ARGUMENT', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    const worker = new ProcessWorker({ id: 0, workers: 1, hub, spawn: false });
    await expect(worker.runScript(tenantOn(0, 1), 1 as unknown as string, 'code', {})).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('rejects a start when its worker does not connect within startTimeoutMs', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    const worker = new ProcessWorker({ id: 0, workers: 1, hub, spawn: false, startTimeoutMs: 50 });
    await expect(worker.start()).rejects.toMatchObject({ code: 'ERR_WORKER_START_TIMEOUT' });
    expect(worker.state).toBe('killed');
  });

  it('refuses to start on a closed hub with ERR_HUB_CLOSED', async () => {
    const hub = await createHub({ logger: silent });
    await hub.close();
    await expect(new ProcessWorker({ id: 0, workers: 1, hub, spawn: false }).start()).rejects.toMatchObject({
      code: 'ERR_HUB_CLOSED',
    });
  });

  it('counts a worker started elsewhere that does not reconnect within startTimeoutMs as failed, and gives it up', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    const worker = cleanup(
      new ProcessWorker({
        id: 0,
        workers: 1,
        hub,
        spawn: false,
        // Long enough for the first connection on a loaded machine; the two windows after it are waited out.
        startTimeoutMs: 2000,
        restart: { backoffMs: 10, maxFailures: 3 },
      }),
    );
    const started = worker.start();
    const raw = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    await started;
    const crashes: WorkerCrashInfo[] = [];
    worker.on('crash', (info) => crashes.push(info));
    const fatal = once(worker, 'fatal') as Promise<[WorkerCrashInfo]>;
    if (isRaw(raw)) raw.ws.close();
    await fatal;
    // Lost, then two windows of startTimeoutMs without the worker coming back.
    expect(crashes.map((crash) => (crash.cause as { code?: string }).code)).toEqual([
      'ERR_CONNECTION_LOST',
      'ERR_WORKER_START_TIMEOUT',
      'ERR_WORKER_START_TIMEOUT',
    ]);
    expect(worker.state).toBe('unavailable');
    // Given up: the hub no longer accepts it.
    await expect(
      connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) }),
    ).resolves.toEqual({ status: 401 });
  });
});
