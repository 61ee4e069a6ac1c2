import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { WorkerCrashInfo } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { createHub, createProcessPool, ProcessWorker } from '../../src/index.js';
import { checkWorkerMessage, PROTOCOL_VERSION } from '../../src/protocol/protocol.js';
import { fixture, silent, tenantOn, useCleanup } from '../helpers.js';
import type { RawWorker } from './raw.js';
import { connectRaw, isRaw } from './raw.js';

describe('bounds on what a worker sends', () => {
  const cleanup = useCleanup();

  /** A ProcessWorker whose connection is a hand-rolled client, with one event in flight on it. */
  async function connected(): Promise<{ worker: ProcessWorker; raw: RawWorker; inflight: Promise<unknown> }> {
    const hub = cleanup(await createHub({ logger: silent }));
    const worker = cleanup(new ProcessWorker({ id: 0, workers: 1, hub, spawn: false }));
    const started = worker.start();
    const raw = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    if (!isRaw(raw)) throw new Error(`refused: ${raw.status}`);
    await started;
    const inflight = worker.dispatch(tenantOn(0, 1), { type: 'count' });
    inflight.catch(() => undefined);
    // The event reached the (never answering) worker.
    await raw.next((message) => message[0] === 2 || message[0] === 3);
    return { worker, raw, inflight };
  }

  const bombs: Array<[string, unknown[][]]> = [
    ['a frame of more messages than a frame may hold', Array.from({ length: 2049 }, () => [20, 0, 0, 0])],
  ];

  for (const [what, messages] of bombs) {
    it(`closes the connection with 1008 on ${what}, failing the worker's events as crashed, without stalling`, async () => {
      const { worker, raw, inflight } = await connected();
      const crashed = once(worker, 'crash') as Promise<[WorkerCrashInfo]>;
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      raw.send(messages);
      const { code } = await raw.closed;
      const [crash] = await crashed;
      delay.disable();
      expect(code).toBe(1008);
      expect(crash.cause).toMatchObject({ code: 'ERR_PROTOCOL' });
      await expect(inflight).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', cause: { code: 'ERR_PROTOCOL' } });
      // The old code spent seconds here; the bound leaves room for a loaded machine's scheduling.
      expect(delay.max / 1e6).toBeLessThan(1000);
    });
  }

  it('refuses the acknowledgements of protocol 1 (RESULT, DONE ranges, NOWAIT_ERROR) as unknown messages', () => {
    // DONE named id ranges: 1.8 KB once cost the master 100 million map lookups. Workers report
    // every result by id in RESULTS and FAILURE now, so work stays proportional to a frame's size.
    expect(checkWorkerMessage([21, 1, 'value'])).toBe('unknown message type 21 from a worker');
    expect(checkWorkerMessage([23, [1, 1_000_000]])).toBe('unknown message type 23 from a worker');
    expect(checkWorkerMessage([24, 1, { name: 'Error', message: 'x' }])).toBe('unknown message type 24 from a worker');
    expect(checkWorkerMessage([27, [1, 2], ['a', 'b']])).toBeUndefined();
    expect(checkWorkerMessage([22, 1, { name: 'Error', message: 'x' }])).toBeUndefined();
  });

  it('acknowledges no-wait events of many tenants that finish out of order, losing none', async () => {
    const pool = cleanup(
      await createProcessPool({
        workers: 1,
        module: fixture('definition.mjs'),
        hub: { logger: silent },
        stdio: 'ignore',
      }),
    );
    const crashes: unknown[] = [];
    pool.on('crash', (info) => crashes.push(info));
    // Sleeps of different lengths across tenants: later ids finish first.
    const tenants = Array.from({ length: 50 }, (_, i) => tenantOn(0, 1, i));
    for (const [i, tenant] of tenants.entries()) pool.dispatchNoWait(tenant, { type: 'sleep', ms: (50 - i) % 7 });
    for (const tenant of tenants) pool.dispatchNoWait(tenant, { type: 'count' });
    const counts = await Promise.all(tenants.map((tenant) => pool.dispatch(tenant, { type: 'count' })));
    expect(counts).toEqual(tenants.map(() => 2));
    expect(crashes).toEqual([]);
    expect(pool.stats()).toMatchObject({ queued: 0, handled: 150, failed: 0 });
  });
});
