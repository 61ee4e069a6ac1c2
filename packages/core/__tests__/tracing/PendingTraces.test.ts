import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import type { TenantId } from '../../src/index.js';
import { PendingTraces, traceClose, traceOpen } from '../../src/tracing/PendingTraces.js';

const worker = { id: 3 };
const tenant = (n: number): TenantId => ({ kind: 'guild', id: String(81384788765712384n + BigInt(n)) });

describe('PendingTraces', () => {
  it('makes the message of a closed slot from what it was given, without times for a handler that never ran', () => {
    const pending = new PendingTraces();
    const event = { type: 'count' };
    const ran = pending.open(worker, tenant(1), 'script', event, false, 10.5);
    const refused = pending.open(worker, tenant(2), 'event', 'x', true, 11);
    expect(pending.acceptedAt(ran)).toBe(10.5);
    pending.started(ran, 12.25);
    pending.ended(ran, 15);
    expect(pending.size).toBe(2);
    expect(pending.close(ran)).toEqual({
      worker,
      workerId: 3,
      tenant: tenant(1),
      op: 'script',
      event,
      noWait: false,
      traceparent: undefined,
      acceptedAt: 10.5,
      sentAt: 10.5,
      startedAt: 12.25,
      handlingMs: 2.75,
      result: undefined,
      error: undefined,
    });
    const message = pending.close(refused);
    expect(message).toMatchObject({ tenant: tenant(2), op: 'event', event: 'x', noWait: true, acceptedAt: 11 });
    expect([message.startedAt, message.handlingMs]).toEqual([undefined, undefined]);
    expect(pending.size).toBe(0);
  });

  it('reuses closed slots and grows past its first 64 without mixing up what each holds', () => {
    const pending = new PendingTraces();
    const slots = Array.from({ length: 200 }, (_, i) => pending.open(worker, tenant(i), 'event', i, false, i));
    expect(new Set(slots).size).toBe(200);
    for (const [i, slot] of slots.entries()) {
      // A remote worker's dispatch leaves for the worker after it was accepted.
      if (i % 2 === 1) pending.sent(slot, i + 0.25);
      pending.started(slot, i + 0.5);
      pending.ended(slot, i + 2);
    }
    for (const [i, slot] of slots.entries()) {
      const message = pending.close(slot);
      expect([
        message.event,
        message.tenant,
        message.acceptedAt,
        message.sentAt,
        message.startedAt,
        message.handlingMs,
      ]).toEqual([i, tenant(i), i, i % 2 === 1 ? i + 0.25 : i, i + 0.5, 1.5]);
    }
    expect(pending.size).toBe(0);
    const again = pending.open(worker, tenant(0), 'event', 'again', false, 1);
    expect(slots).toContain(again);
    expect(pending.close(again)).toMatchObject({ event: 'again', startedAt: undefined, handlingMs: undefined });
  });
});

describe('traceOpen', () => {
  it('takes a slot when only end or error listen, a message when start listens or a trace is carried, nothing when nobody listens', () => {
    const pending = new PendingTraces();
    expect(traceOpen(pending, worker, tenant(1), 'event', 1, false, undefined)).toBeUndefined();
    const ended: unknown[] = [];
    const onEnd = (message: unknown): void => void ended.push(message);
    const onStart = (): void => undefined;
    subscribe('switchyard:dispatch:error', onEnd);
    try {
      const slot = traceOpen(pending, worker, tenant(1), 'event', 1, false, undefined);
      expect(typeof slot).toBe('number');
      traceClose(pending, slot!, false, new Error('failed'));
      expect(ended).toMatchObject([{ event: 1, error: { message: 'failed' } }]);
      expect(pending.size).toBe(0);
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      expect(traceOpen(pending, worker, tenant(1), 'event', 2, false, traceparent)).toMatchObject({ traceparent });
      subscribe('switchyard:dispatch:start', onStart);
      expect(traceOpen(pending, worker, tenant(1), 'event', 3, false, undefined)).toMatchObject({ event: 3 });
      expect(pending.size).toBe(0);
    } finally {
      unsubscribe('switchyard:dispatch:error', onEnd);
      unsubscribe('switchyard:dispatch:start', onStart);
    }
  });
});
