import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import type { DispatchMessage, TenantId } from '../../src/index.js';
import { defineWorker, LocalWorker, observeDispatchTimings } from '../../src/index.js';
import { PendingTraces, traceClose, traceOpen } from '../../src/tracing/PendingTraces.js';

const worker = { id: 3 };
const tenant = (n: number): TenantId => ({ kind: 'guild', id: String(81384788765712384n + BigInt(n)) });
type Seen = [object, number, number, number];

/** Collects what the observers are told while `body` runs. */
async function observed(body: () => unknown): Promise<Seen[]> {
  const seen: Seen[] = [];
  const stop = observeDispatchTimings((w, id, waitMs, handlingMs) => void seen.push([w, id, waitMs, handlingMs]));
  try {
    await body();
  } finally {
    stop();
  }
  return seen;
}

describe('observeDispatchTimings', () => {
  it('refuses an observer that is not a function with ERR_INVALID_ARGUMENT', () => {
    expect(() => observeDispatchTimings('histogram' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('opens a slot for observers alone and tells them the wait and handling time, with no message', async () => {
    const pending = new PendingTraces();
    const seen = await observed(() => {
      const ran = traceOpen(pending, worker, tenant(1), 'event', 1, false, undefined) as number;
      expect(typeof ran).toBe('number');
      const at = pending.acceptedAt(ran);
      pending.started(ran, at + 2);
      pending.ended(ran, at + 5);
      traceClose(pending, ran, true, 'value');
      // No handler ran: it waited until it ended; its handling time is NaN.
      const refused = traceOpen(pending, worker, tenant(2), 'event', 2, true, undefined) as number;
      traceClose(pending, refused, false, new Error('refused'));
    });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toEqual([worker, 3, 2, 3]);
    expect(seen[1]![2]).toBeGreaterThanOrEqual(0);
    expect(seen[1]![3]).toBeNaN();
    expect(pending.size).toBe(0);
  });

  it('tells observers and channel subscribers about the same dispatch, with the same times', async () => {
    const pending = new PendingTraces();
    const ended: DispatchMessage[] = [];
    const onEnd = (message: unknown): void => void ended.push(message as DispatchMessage);
    subscribe('switchyard:dispatch:end', onEnd);
    try {
      const seen = await observed(() => {
        const slot = traceOpen(pending, worker, tenant(1), 'event', 1, false, undefined) as number;
        const at = pending.acceptedAt(slot);
        pending.started(slot, at + 1);
        pending.ended(slot, at + 4);
        traceClose(pending, slot, true, 'value');
        // A carried trace makes a message from the start: observers are told from it.
        const traced = traceOpen(
          pending,
          worker,
          tenant(2),
          'script',
          2,
          false,
          '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        );
        expect(typeof traced).toBe('object');
        const message = traced as DispatchMessage;
        message.startedAt = message.acceptedAt + 0.5;
        message.handlingMs = 0.25;
        traceClose(pending, message, true, 'traced');
      });
      expect(seen.map(([, , waitMs, handlingMs]) => [waitMs, handlingMs])).toEqual([
        [1, 3],
        [0.5, 0.25],
      ]);
      expect(ended.map((m) => [m.startedAt! - m.acceptedAt, m.handlingMs, m.result])).toEqual([
        [1, 3, 'value'],
        [0.5, 0.25, 'traced'],
      ]);
    } finally {
      unsubscribe('switchyard:dispatch:end', onEnd);
    }
  });

  it('times every dispatch of a LocalWorker, waited, no-wait and failed, and stops when told', async () => {
    const local = new LocalWorker(
      defineWorker<{ n: number }, { fail?: boolean; ms?: number }, number>({
        createTenant: () => ({ n: 0 }),
        async onEvent(state, event) {
          if (event.ms !== undefined) await new Promise((resolve) => setTimeout(resolve, event.ms));
          if (event.fail === true) throw new Error('failed');
          return ++state.n;
        },
      }),
      { id: 7 },
    );
    try {
      const seen: Seen[] = [];
      const stop = observeDispatchTimings((w, id, waitMs, handlingMs) => void seen.push([w, id, waitMs, handlingMs]));
      const waited = [local.dispatch(tenant(1), { ms: 20 }), local.dispatch(tenant(1), {})];
      await local.dispatch(tenant(2), { fail: true }).catch(() => undefined);
      local.dispatchNoWait(tenant(3), {});
      await Promise.all(waited);
      // The no-wait one ends on its own.
      await vi.waitFor(() => expect(seen).toHaveLength(4), { timeout: 10_000 });
      stop();
      stop();
      await local.dispatch(tenant(1), {});
      expect(seen).toHaveLength(4);
      for (const [w, id, waitMs, handlingMs] of seen) {
        expect([w, id]).toEqual([local, 7]);
        expect(waitMs).toBeGreaterThanOrEqual(0);
        expect(handlingMs).toBeGreaterThanOrEqual(0);
      }
      // The second event of tenant 1 waited behind the first (20 ms timer): its wait shows it.
      const slow = seen.find(([, , , handlingMs]) => handlingMs >= 15);
      expect(slow).toBeDefined();
      expect(Math.max(...seen.map(([, , waitMs]) => waitMs))).toBeGreaterThanOrEqual(15);
    } finally {
      await local.close();
    }
  });

  it('rethrows what an observer throws on the next tick, never into the dispatch', async () => {
    const local = new LocalWorker(defineWorker({ createTenant: () => ({}), onEvent: () => 'done' }), { id: 1 });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    const stop = observeDispatchTimings(() => {
      throw new Error('observer bug');
    });
    try {
      await expect(local.dispatch(tenant(1), {})).resolves.toBe('done');
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).toMatchObject([{ message: 'observer bug' }]);
    } finally {
      stop();
      process.off('uncaughtException', onUncaught);
      for (const listener of listeners) process.on('uncaughtException', listener);
      await local.close();
    }
  });
});
