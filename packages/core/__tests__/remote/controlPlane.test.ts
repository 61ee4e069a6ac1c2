import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { DispatchErrorInfo, QuarantineInfo, RecycleInfo, TenantId, WorkerCrashInfo } from '../../src/index.js';
import { FakeLink, fakeWorkers } from './fakeLink.js';

const guild = (n: number): TenantId => ({ kind: 'guild', id: String(n) });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RemoteWorker control plane over a fake link', () => {
  const make = fakeWorkers();

  describe('broadcast', () => {
    it('sends one broadcast item for the worker, not a tenant, and resolves its entry', async () => {
      const { worker, link } = await make({ id: 2 });
      const answered = worker.broadcast({ reload: true });
      await turn();
      expect(link.last.items.map((item) => [item.op, item.key, item.tenant, item.payload, item.waited])).toEqual([
        ['broadcast', '', undefined, { reload: true }, true],
      ]);
      link.last.answerAll(() => 'reloaded');
      await expect(answered).resolves.toEqual([{ workerId: 2, status: 'fulfilled', value: 'reloaded' }]);
      const failing = worker.broadcast('x');
      await turn();
      const error = new Error('no');
      link.last.host.settle(link.last.items[1]!.id, false, error);
      await expect(failing).resolves.toEqual([{ workerId: 2, status: 'rejected', reason: error }]);
    });

    it('holds a broadcast while the worker is not up, and rejects its entry with ERR_BROADCAST_TIMEOUT at the deadline', async () => {
      const link = new FakeLink();
      link.autoReady = false;
      const { worker } = await make({}, link);
      const [entry] = await worker.broadcast('ping', { timeoutMs: 30 });
      expect(entry).toMatchObject({ workerId: 0, status: 'rejected', reason: { code: 'ERR_BROADCAST_TIMEOUT' } });
      // Given up before it left: it never goes out.
      link.last.host.ready();
      await worker.ready;
      await turn();
      expect(link.last.items).toEqual([]);
      expect(worker.stats().queued).toBe(0);
    });

    it('is not refused by a full maxQueue, and never restarts the worker for a slow onBroadcast', async () => {
      const { worker, link } = await make({ maxQueue: 1, timeoutKillAfterMs: 0 });
      worker.dispatchNoWait(guild(1), 'fills it');
      const [entry] = await worker.broadcast('slow', { timeoutMs: 20 });
      expect(entry).toMatchObject({ status: 'rejected', reason: { code: 'ERR_BROADCAST_TIMEOUT' } });
      const broadcastId = link.last.items.find((item) => item.op === 'broadcast')!.id;
      expect(link.last.cancelled).toEqual([broadcastId]);
      await turn();
      expect(worker.stats()).toMatchObject({ restarts: 0, state: 'running' });
    });

    it('rejects the call with ABORT_ERR when its signal aborts, and with ERR_WORKER_KILLED once closed', async () => {
      const { worker } = await make();
      const controller = new AbortController();
      const pending = worker.broadcast('x', { signal: controller.signal });
      controller.abort('enough');
      await expect(pending).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'enough' });
      await expect(worker.broadcast('x', { timeoutMs: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(worker.broadcast(() => 1)).rejects.toMatchObject({ code: 'ERR_INVALID_EVENT' });
      await worker.close();
      await expect(worker.broadcast('x')).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    });
  });

  describe('quarantine', () => {
    it('counts a hard timeout against its tenant, refuses the tenant’s waiting events, and keeps the others', async () => {
      const { worker, link } = await make({
        quarantine: { strikes: 1 },
        timeoutKillAfterMs: 0,
        maxInFlight: 1,
        restart: { backoff: () => 0 },
      });
      const poison = guild(1);
      const quarantined = once(worker, 'quarantine') as Promise<[QuarantineInfo]>;
      const crashed = once(worker, 'crash') as Promise<[WorkerCrashInfo]>;
      const stuck = worker.dispatch(poison, 'stuck', { timeoutMs: 10 });
      const waitingPoison = worker.dispatch(poison, 'next');
      const waitingOther = worker.dispatch(guild(2), 'other');
      await expect(stuck).rejects.toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
      const [crash] = await crashed;
      expect(crash).toMatchObject({ tenant: poison, cause: { code: 'ERR_HANDLER_TIMEOUT' } });
      const [info] = await quarantined;
      expect(info).toMatchObject({ workerId: 0, tenant: poison, strikes: 1, error: { code: 'ERR_HANDLER_TIMEOUT' } });
      await expect(waitingPoison).rejects.toMatchObject({ code: 'ERR_TENANT_QUARANTINED' });
      // The other tenant's event goes to the next incarnation.
      await vi.waitFor(() => expect(link.lives).toHaveLength(2));
      await turn();
      expect(link.last.items.map((item) => item.payload)).toEqual(['other']);
      link.last.answerAll();
      await expect(waitingOther).resolves.toBe('other');
      // Not waited: the refusal is that event's dispatchError, the caller's loop goes on.
      const reported = once(worker, 'dispatchError') as Promise<[DispatchErrorInfo]>;
      worker.dispatchNoWait(poison, 'x');
      expect((await reported)[0]).toMatchObject({
        tenant: poison,
        event: 'x',
        error: { code: 'ERR_TENANT_QUARANTINED' },
      });
      expect(worker.release(poison)).toBe(true);
      expect(worker.release(guild(2))).toBe(false);
      expect(() => worker.release({ kind: 'guild', id: 'x' })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_TENANT_ID' }),
      );
    });

    it('counts a hang (no liveness answer) against the tenant whose event was running', async () => {
      const { worker, link } = await make({
        quarantine: { strikes: 1 },
        livenessTimeoutMs: 10,
        restart: { backoff: () => 0 },
      });
      link.last.answerPings = false;
      const quarantined = once(worker, 'quarantine') as Promise<[QuarantineInfo]>;
      const hung = worker.dispatch(guild(7), 'spin');
      await expect(hung).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', cause: { code: 'ERR_WORKER_HUNG' } });
      const [info] = await quarantined;
      expect(info).toMatchObject({ tenant: guild(7), error: { code: 'ERR_WORKER_HUNG' } });
    });

    it('takes no strike for a crash while only a broadcast was in flight', async () => {
      const { worker, link } = await make({ quarantine: { strikes: 1 }, restart: { backoff: () => 0 } });
      let quarantines = 0;
      worker.on('quarantine', () => quarantines++);
      const entry = worker.broadcast('x');
      await turn();
      link.last.host.lost(new Error('died'));
      expect((await entry)[0]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_WORKER_CRASHED' } });
      await turn();
      expect(quarantines).toBe(0);
    });
  });

  describe('tenantLimits', () => {
    it('frees a tenant’s budget when its events settle, however they settle', async () => {
      const { worker, link } = await make({ tenantLimits: { maxQueued: 1 } });
      const controller = new AbortController();
      const first = worker.dispatch(guild(1), 'a', { signal: controller.signal });
      await expect(worker.dispatch(guild(1), 'b')).rejects.toMatchObject({ code: 'ERR_TENANT_BACKPRESSURE' });
      controller.abort();
      await expect(first).rejects.toMatchObject({ code: 'ABORT_ERR' });
      const second = worker.dispatch(guild(1), 'c');
      await turn();
      link.last.host.settle(link.last.items.at(-1)!.id, false, new Error('failed'));
      await expect(second).rejects.toThrow('failed');
      const third = worker.dispatch(guild(1), 'd');
      await turn();
      link.last.answerAll();
      await expect(third).resolves.toBe('d');
      // Drops are never refused or counted.
      const held = worker.dispatch(guild(1), 'e');
      const drop = worker.dropTenant(guild(1));
      await turn();
      link.last.answerAll();
      await expect(Promise.all([held, drop])).resolves.toEqual(['e', undefined]);
    });
  });

  describe('recycle', () => {
    it('stops sending at maxEvents, retires the incarnation once it holds nothing, and sends what waited to the next one', async () => {
      const { worker, link } = await make({ recycle: { maxEvents: 2 } });
      const first = link.last;
      first.holdClose = true;
      const recycled = once(worker, 'recycled') as Promise<[RecycleInfo]>;
      const a = worker.dispatch(guild(1), 'a');
      const b = worker.dispatch(guild(2), 'b');
      await turn();
      first.host.stats({ tenants: 2, handled: 2, failed: 0, heapUsed: 1000 });
      expect(worker.state).toBe('recycling');
      const c = worker.dispatch(guild(1), 'c');
      await turn();
      // Nothing more goes to the incarnation being recycled.
      expect(first.items.map((item) => item.payload)).toEqual(['a', 'b']);
      expect(first.closed).toBe(false);
      const started = link.nextStart();
      first.answerAll();
      await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b']);
      await turn();
      expect(first.closed).toBe(true);
      first.finishClose();
      const [info] = await recycled;
      expect(info).toMatchObject({ workerId: 0, reason: 'maxEvents', handled: 2, heapUsed: 1000 });
      expect(first.killed).toBe(true);
      const second = await started;
      await turn();
      expect(second.items.map((item) => item.payload)).toEqual(['c']);
      second.answerAll();
      await expect(c).resolves.toBe('c');
      expect(worker.stats()).toMatchObject({ recycles: 1, restarts: 0, failures: 0, handled: 2, state: 'running' });
    });

    it('treats an incarnation that does not close within closeTimeoutMs while recycled as hung', async () => {
      const { worker, link } = await make({
        recycle: { maxEvents: 1 },
        closeTimeoutMs: 20,
        restart: { backoff: () => 0 },
      });
      link.last.holdClose = true;
      const crashed = once(worker, 'crash') as Promise<[WorkerCrashInfo]>;
      link.last.host.stats({ tenants: 0, handled: 1, failed: 0 });
      const [crash] = await crashed;
      expect(crash.cause).toMatchObject({ code: 'ERR_WORKER_HUNG' });
      expect(worker.stats()).toMatchObject({ recycles: 0, restarts: 1 });
    });

    it('lets close() finish a recycle under way without starting another incarnation', async () => {
      const { worker, link } = await make({ recycle: { maxEvents: 1 } });
      link.last.holdClose = true;
      link.last.host.stats({ tenants: 0, handled: 1, failed: 0 });
      const closing = worker.close();
      await turn();
      link.last.finishClose();
      await closing;
      expect(link.lives).toHaveLength(1);
      expect(worker.state).toBe('closed');
    });

    it('rejects what waited with ERR_WORKER_KILLED when killed in the middle of a recycle', async () => {
      const { worker, link } = await make({ recycle: { maxEvents: 1 } });
      link.last.holdClose = true;
      link.last.host.stats({ tenants: 0, handled: 1, failed: 0 });
      const waiting = worker.dispatch(guild(1), 'late');
      await turn();
      await worker.kill();
      await expect(waiting).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
      expect(link.lives).toHaveLength(1);
    });

    it('recycles at maxAgeMs after the incarnation is up', async () => {
      const { worker } = await make({ recycle: { maxAgeMs: 20 } });
      const [info] = (await once(worker, 'recycled')) as [RecycleInfo];
      expect(info).toMatchObject({ reason: 'maxAgeMs', handled: 0 });
    });
  });
});
