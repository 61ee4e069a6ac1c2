import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type {
  DispatchErrorInfo,
  DispatchMessage,
  IncarnationStats,
  RemoteWorkerOptions,
  TenantId,
  WorkerCrashInfo,
} from '../../src/index.js';
import {
  AbortError,
  HandlerStillRunningError,
  MemoryKvStore,
  RemoteWorker,
  shardFor,
  WorkerCrashedError,
} from '../../src/index.js';
import { FakeLink, fakeWorkers } from './fakeLink.js';

const guild = (n: number): TenantId => ({ kind: 'guild', id: String(n) });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RemoteWorker over a fake link', () => {
  const make = fakeWorkers();

  it('sends the calls of one turn as one transfer and resolves each with its result', async () => {
    const { worker, link } = await make();
    const results = [1, 2, 3].map((n) => worker.dispatch(guild(n), { type: 'x', n }));
    worker.dispatchNoWait(guild(4), { type: 'y' });
    await turn();
    expect(link.last.batches).toHaveLength(1);
    expect(link.last.items.map((item) => [item.op, item.key, item.waited])).toEqual([
      ['event', 'guild:1', true],
      ['event', 'guild:2', true],
      ['event', 'guild:3', true],
      ['event', 'guild:4', false],
    ]);
    link.last.answerAll((item) => (item.payload as { n?: number }).n);
    expect(await Promise.all(results)).toEqual([1, 2, 3]);
    expect(worker.stats()).toMatchObject({ queued: 0, inFlight: 0, state: 'running' });
  });

  it('holds calls until the incarnation is ready, then sends them', async () => {
    const link = new FakeLink();
    link.autoReady = false;
    const { worker } = await make({}, link);
    const result = worker.dispatch(guild(1), 'a');
    await turn();
    expect(worker.state).toBe('starting');
    expect(link.last.batches).toEqual([]);
    link.last.host.ready();
    await worker.ready;
    await turn();
    expect(link.last.items.map((item) => item.payload)).toEqual(['a']);
    link.last.answerAll();
    await expect(result).resolves.toBe('a');
  });

  it('merges what waits while the link is busy into one transfer once it resumes', async () => {
    const { worker, link } = await make();
    const life = link.last;
    life.full = true;
    for (let n = 0; n < 3; n++) {
      worker.dispatchNoWait(guild(n), n);
      await turn();
    }
    expect(life.batches).toEqual([]);
    life.full = false;
    life.host.resume();
    await turn();
    expect(life.batches.map((batch) => batch.map((item) => item.payload))).toEqual([[0, 1, 2]]);
  });

  it('never has more than maxInFlight events in the worker, and at most maxBatchSize per transfer', async () => {
    const { worker, link } = await make({ maxInFlight: 5, maxBatchSize: 2 });
    for (let n = 0; n < 12; n++) worker.dispatchNoWait(guild(n), n);
    await turn();
    expect(link.last.batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
    link.last.host.settle(link.last.items[0]!.id, true, undefined);
    await turn();
    expect(link.last.batches.map((batch) => batch.length)).toEqual([2, 2, 1, 1]);
    expect(worker.stats()).toMatchObject({ queued: 11, inFlight: 5 });
  });

  it('by default keeps four transfers of 1024 in the worker, so it has the next while results travel back', async () => {
    const { worker, link } = await make();
    for (let n = 0; n < 5000; n++) worker.dispatchNoWait(guild(n % 7), n);
    await turn();
    expect(link.last.batches.map((batch) => batch.length)).toEqual([1024, 1024, 1024, 1024]);
    expect(worker.stats()).toMatchObject({ queued: 5000, inFlight: 4096 });
  });

  it('never sends a call aborted before it left, and cancels one aborted in the worker', async () => {
    const { worker, link } = await make();
    const early = new AbortController();
    const late = new AbortController();
    const first = worker.dispatch(guild(1), 'early', { signal: early.signal });
    early.abort('no');
    await expect(first).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'no' });
    const second = worker.dispatch(guild(1), 'late', { signal: late.signal });
    await turn();
    expect(link.last.items.map((item) => [item.payload, item.cancellable])).toEqual([['late', true]]);
    late.abort('later');
    await expect(second).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'later' });
    expect(link.last.cancelled).toEqual([link.last.items[0]!.id]);
    // The worker's late answer is ignored.
    link.last.answerAll();
    expect(worker.stats().queued).toBe(0);
    await expect(worker.dispatch(guild(1), 'x', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORT_ERR',
    });
  });

  it('keeps an aborted call that was in the worker in flight until the worker reports it, holding its place', async () => {
    const { worker, link } = await make({ maxInFlight: 1 });
    const controller = new AbortController();
    const aborted = worker.dispatch(guild(1), 'a', { signal: controller.signal });
    await turn();
    controller.abort('stop');
    // The link's flag is seen by the worker before it could start the item: the caller is told at once.
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'stop' });
    const next = worker.dispatch(guild(2), 'b');
    await turn();
    expect(worker.stats()).toMatchObject({ queued: 1, inFlight: 1 });
    expect(link.last.items.map((item) => item.payload)).toEqual(['a']);
    // A handler that had started answers twice: still running, then its end. Only the end frees the place.
    link.last.host.settle(link.last.items[0]!.id, false, new HandlerStillRunningError());
    await turn();
    expect(link.last.items.map((item) => item.payload)).toEqual(['a']);
    link.last.host.settle(link.last.items[0]!.id, false, new Error('The cancelled handler ended.'));
    await turn();
    expect(link.last.items.map((item) => item.payload)).toEqual(['a', 'b']);
    link.last.host.settle(link.last.items[1]!.id, true, 'B');
    expect(await next).toBe('B');
    expect(worker.stats()).toMatchObject({ queued: 0, inFlight: 0 });
  });

  it('over a link whose cancel travels as a message, tells an aborting caller only once the worker answered', async () => {
    const { worker, link } = await make();
    link.last.exact = false;
    const outcomes: string[] = [];
    const track = (name: string, promise: Promise<unknown>) =>
      promise.then(
        () => outcomes.push(`${name} resolved`),
        (error: { code: string }) => outcomes.push(`${name} ${error.code}`),
      );
    const never = new AbortController();
    const running = new AbortController();
    const first = track('never started', worker.dispatch(guild(1), 'a', { signal: never.signal }));
    const second = track('running', worker.dispatch(guild(2), 'b', { signal: running.signal }));
    await turn();
    never.abort();
    running.abort();
    await turn();
    expect(outcomes).toEqual([]);
    expect(link.last.cancelled).toEqual(link.last.items.map((item) => item.id));
    const [a, b] = link.last.items;
    link.last.host.settle(a!.id, false, new AbortError());
    link.last.host.settle(b!.id, false, new HandlerStillRunningError());
    await Promise.all([first, second]);
    expect(outcomes).toEqual(['never started ABORT_ERR', 'running ABORT_ERR']);
    expect(worker.stats()).toMatchObject({ queued: 0, inFlight: 1 });
    link.last.host.settle(b!.id, true, 'done after all');
    expect(worker.stats()).toMatchObject({ queued: 0, inFlight: 0 });
  });

  it('rejects a caller whose cancel was unanswered when the worker crashed with the reason it gave up', async () => {
    const { worker, link } = await make({ restart: { backoff: () => 0 } });
    link.last.exact = false;
    const controller = new AbortController();
    const call = worker.dispatch(guild(1), 'a', { signal: controller.signal });
    await turn();
    controller.abort('gave up');
    link.last.host.lost(new Error('boom'));
    await expect(call).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'gave up' });
  });

  it('rejects a call at its deadline even when the cancel travels as a message', async () => {
    const { worker, link } = await make();
    link.last.exact = false;
    const call = worker.dispatch(guild(1), 'slow', { timeoutMs: 10 });
    await turn();
    await expect(call).rejects.toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
    expect(worker.stats()).toMatchObject({ queued: 0, inFlight: 1 });
    link.last.answerAll();
    expect(worker.stats().inFlight).toBe(0);
  });

  it('reports a failed dispatchNoWait as dispatchError with the event', async () => {
    const { worker, link } = await make({ id: 3 });
    const reported = once(worker, 'dispatchError') as Promise<[DispatchErrorInfo]>;
    worker.dispatchNoWait(guild(1), { type: 'bad' });
    await turn();
    const error = new Error('handler failed');
    link.last.host.settle(link.last.items[0]!.id, false, error);
    const [info] = await reported;
    expect(info).toEqual({ workerId: 3, tenant: guild(1), error, event: { type: 'bad' } });
  });

  it('refuses bad tenants, uncloneable events and calls beyond maxQueue with their codes', async () => {
    const { worker } = await make({ maxQueue: 2 });
    await expect(worker.dispatch({ kind: 'guild', id: 'x' }, 1)).rejects.toMatchObject({
      code: 'ERR_INVALID_TENANT_ID',
    });
    expect(() => worker.dispatchNoWait(guild(1), { f: () => 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_EVENT' }),
    );
    worker.dispatchNoWait(guild(1), 1);
    worker.dispatchNoWait(guild(1), 2);
    expect(() => worker.dispatchNoWait(guild(1), 3)).toThrow(expect.objectContaining({ code: 'ERR_BACKPRESSURE' }));
    await expect(worker.dispatch(guild(1), 3)).rejects.toMatchObject({ code: 'ERR_BACKPRESSURE' });
    await expect(worker.runScript(guild(1), 1 as never, 'x', 1)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it.each([
    ['maxQueue', 0],
    ['maxInFlight', 1.5],
    ['maxBatchSize', -1],
    ['livenessTimeoutMs', 1],
    ['timeoutMs', 0],
    ['closeTimeoutMs', 'soon'],
    ['workers', 0],
    ['restart', 5],
    ['store', {}],
  ])('refuses %s = %j with ERR_INVALID_ARGUMENT', (name, value) => {
    expect(() => new RemoteWorker(new FakeLink(), { [name]: value } as RemoteWorkerOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('fails in-flight events with WorkerCrashedError on a crash, emits one crash payload, restarts and delivers what waited', async () => {
    const { worker, link } = await make({ restart: { backoff: () => 0 } });
    const first = link.last;
    const inflight = worker.dispatch(guild(7), { type: 'slow' });
    await turn();
    const crashed = once(worker, 'crash') as Promise<[WorkerCrashInfo]>;
    const cause = new Error('thread died');
    first.host.lost(cause);
    await expect(inflight).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(inflight).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', cause });
    const [info] = await crashed;
    expect(info).toEqual({ workerId: 0, cause, failures: 1, restartInMs: 0, tenant: guild(7), eventType: 'slow' });
    expect(first.killed).toBe(true);
    const held = worker.dispatch(guild(8), 'held');
    const second = await link.nextStart();
    await turn();
    expect(worker.state).toBe('running');
    second.answerAll();
    await expect(held).resolves.toBe('held');
    expect(worker.stats()).toMatchObject({ restarts: 1, failures: 1 });
  });

  it('gives up after maxConsecutiveFailures: fatal, and WorkerUnavailableError for held and new events', async () => {
    const { worker, link } = await make({ restart: { backoff: () => 0, maxConsecutiveFailures: 2 } });
    const reported: DispatchErrorInfo[] = [];
    worker.on('dispatchError', (info) => reported.push(info));
    link.last.host.lost(new Error('one'));
    await link.nextStart();
    link.autoReady = false;
    const fatal = once(worker, 'fatal') as Promise<[WorkerCrashInfo]>;
    worker.dispatchNoWait(guild(1), 'held');
    link.last.host.lost(new Error('two'));
    const [info] = await fatal;
    expect(info).toMatchObject({ workerId: 0, failures: 2, restartInMs: undefined });
    expect(reported.map((r) => (r.error as { code?: string }).code)).toEqual(['ERR_WORKER_UNAVAILABLE']);
    await expect(worker.dispatch(guild(1), 'new')).rejects.toMatchObject({ code: 'ERR_WORKER_UNAVAILABLE' });
    expect(worker.state).toBe('unavailable');
  });

  it('counts failures from 1 again after an incarnation ran stableAfterMs', async () => {
    const { worker, link } = await make({ restart: { backoff: () => 0, maxConsecutiveFailures: 2, stableAfterMs: 0 } });
    for (let i = 0; i < 3; i++) {
      const next = link.nextStart();
      link.last.host.lost(new Error(`crash ${i}`));
      await next;
      await worker.ready;
      await turn();
      expect(worker.failures).toBe(1);
    }
    expect(worker.state).toBe('running');
  });

  it('gives up with the error as the cause when restart.backoff returns an invalid delay', async () => {
    const { worker, link } = await make({ restart: { backoff: () => Number.NaN } });
    const fatal = once(worker, 'fatal') as Promise<[WorkerCrashInfo]>;
    link.last.host.lost(new Error('crash'));
    const [info] = await fatal;
    expect(info.cause).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('kills itself and rejects ready with the cause when the first incarnation cannot start at all', async () => {
    const link = new FakeLink();
    link.autoReady = false;
    const { worker } = await make({}, link);
    await turn();
    const cause = Object.assign(new Error('no module'), { code: 'ERR_THREAD_START' });
    link.last.host.lost(cause, { retry: false });
    await expect(worker.ready).rejects.toBe(cause);
    expect(worker.state).toBe('killed');
  });

  it('blames the call whose handler the link says was running, not the oldest in flight; the oldest when it cannot tell', async () => {
    const { worker, link } = await make({ restart: { backoff: () => 0 }, quarantine: { strikes: 1 } });
    const crashes: WorkerCrashInfo[] = [];
    worker.on('crash', (info) => crashes.push(info));
    const older = worker.dispatch(guild(1), { type: 'wait' });
    const younger = worker.dispatch(guild(2), { type: 'poison' });
    await turn();
    const [, poisonItem] = link.last.items;
    link.last.runningId = poisonItem!.id;
    const restarted = link.nextStart();
    link.last.host.lost(new Error('thread died'));
    await expect(younger).rejects.toMatchObject({
      code: 'ERR_WORKER_CRASHED',
      message: expect.stringContaining("(the event running: event 'poison' of tenant guild:2)"),
    });
    await expect(older).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    expect(crashes.map(({ tenant, eventType }) => [tenant, eventType])).toEqual([[guild(2), 'poison']]);
    // The strike went to the poison tenant: it is quarantined, the older one is not.
    await expect(worker.dispatch(guild(2), 'again')).rejects.toMatchObject({ code: 'ERR_TENANT_QUARANTINED' });
    expect(worker.release(guild(1))).toBe(false);
    // A link that cannot tell (0, or an item no longer in flight): the oldest in flight is blamed.
    const second = await restarted;
    const a = worker.dispatch(guild(3), { type: 'first' });
    const b = worker.dispatch(guild(4), { type: 'second' });
    await turn();
    second.runningId = 12345;
    second.host.lost(new Error('died again'));
    await expect(b).rejects.toMatchObject({
      message: expect.stringContaining("(the oldest event in flight: event 'first' of tenant guild:3)"),
    });
    await expect(a).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    expect(crashes[1]).toMatchObject({ tenant: guild(3), eventType: 'first' });
  });

  it('sends calls timed while someone listens on the dispatch channels, and reports the handling time the worker measured', async () => {
    const { worker, link } = await make();
    const untimed = worker.dispatch(guild(1), 'quiet');
    await turn();
    expect(link.last.items[0]!.timed).toBe(false);
    link.last.answerAll();
    await untimed;
    const ended: DispatchMessage[] = [];
    const onEnd = (message: unknown): void => void ended.push(message as DispatchMessage);
    subscribe('switchyard:dispatch:end', onEnd);
    try {
      const acceptedBefore = performance.now();
      const timed = worker.dispatch(guild(1), 'traced');
      await turn();
      const item = link.last.items[1]!;
      expect(item.timed).toBe(true);
      link.last.host.settle(item.id, true, 'done', 0.25, performance.now());
      await expect(timed).resolves.toBe('done');
      const settledAfter = performance.now();
      expect(ended).toHaveLength(1);
      expect(ended[0]!.handlingMs).toBe(0.25);
      expect(ended[0]!.startedAt).toBeGreaterThanOrEqual(acceptedBefore - 0.25);
      expect(ended[0]!.startedAt).toBeLessThanOrEqual(settledAfter);
      // A result (timed or not) for an item that is not in flight is ignored.
      link.last.host.settle(item.id + 100, true, 'stray', 1, performance.now());
      expect(ended).toHaveLength(1);
    } finally {
      unsubscribe('switchyard:dispatch:end', onEnd);
    }
  });

  it('ignores the handling time of a result that comes after its call ended (its trace slot is another call’s by then)', async () => {
    const { worker, link } = await make();
    const ended: DispatchMessage[] = [];
    const onEnd = (message: unknown): void => void ended.push(message as DispatchMessage);
    subscribe('switchyard:dispatch:end', onEnd);
    subscribe('switchyard:dispatch:error', onEnd);
    try {
      const controller = new AbortController();
      const aborted = worker.dispatch(guild(1), 'a', { signal: controller.signal });
      await turn();
      controller.abort('stop');
      await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
      // The next call's trace takes the slot the aborted one freed.
      const next = worker.dispatch(guild(2), 'b');
      await turn();
      const [a, b] = link.last.items;
      // The aborted call's handler had started and ran on: it says so, then reports its end, timed.
      link.last.host.settle(a!.id, false, new HandlerStillRunningError());
      link.last.host.settle(a!.id, true, 'ran on', 5, performance.now());
      link.last.host.settle(b!.id, true, 'B');
      await expect(next).resolves.toBe('B');
      expect(ended.find((message) => message.event === 'b')).toMatchObject({ handlingMs: undefined });
    } finally {
      unsubscribe('switchyard:dispatch:end', onEnd);
      unsubscribe('switchyard:dispatch:error', onEnd);
    }
  });

  it('treats an incarnation that stops answering liveness probes as hung and restarts it', async () => {
    const { worker, link } = await make({ livenessTimeoutMs: 40, restart: { backoff: () => 0 } });
    const hung = link.last;
    const inflight = worker.dispatch(guild(5), { type: 'spin' });
    await turn();
    hung.answerPings = false;
    const [info] = (await once(worker, 'crash')) as [WorkerCrashInfo];
    expect(info.cause).toMatchObject({ code: 'ERR_WORKER_HUNG' });
    expect((info.cause as Error).message).toContain("'spin' of tenant guild:5");
    expect(info).toMatchObject({ tenant: guild(5), eventType: 'spin' });
    await expect(inflight).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', cause: { code: 'ERR_WORKER_HUNG' } });
    expect(hung.killed).toBe(true);
    expect(hung.pings).toBeGreaterThan(0);
  });

  it('rejects a call past its timeoutMs with HandlerTimeoutError, and restarts a worker whose handler runs past the hard limit', async () => {
    const { worker, link } = await make({ timeoutKillAfterMs: 20, restart: { backoff: () => 0 } });
    const life = link.last;
    life.full = true;
    // Never sent: it times out while it waits, and never leaves.
    const waiting = worker.dispatch(guild(1), 'waiting', { timeoutMs: 10 });
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
    life.full = false;
    const stuck = worker.dispatch(guild(2), { type: 'stuck' }, { timeoutMs: 10 });
    await turn();
    expect(life.items.map((item) => item.payload)).toEqual([{ type: 'stuck' }]);
    await expect(stuck).rejects.toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
    expect(life.cancelled).toEqual([life.items[0]!.id]);
    const [info] = (await once(worker, 'crash')) as [WorkerCrashInfo];
    expect(info.cause).toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
    expect(info).toMatchObject({ tenant: guild(2), eventType: 'stuck' });
  });

  it('does not restart when a timed-out handler finishes before the hard limit', async () => {
    const { worker, link } = await make({ timeoutMs: 10, timeoutKillAfterMs: 60_000 });
    const crashes: unknown[] = [];
    worker.on('crash', (info) => crashes.push(info));
    const call = worker.dispatch(guild(2), 'slow');
    await turn();
    await expect(call).rejects.toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
    link.last.answerAll();
    await worker.close();
    expect(crashes).toEqual([]);
  });

  it("serves ctx.kv from its store, refusing tenants of other workers' shards", async () => {
    const store = new MemoryKvStore();
    const mine = Array.from({ length: 50 }, (_, n) => guild((n + 1) << 22)).find((t) => shardFor(t.id, 2) === 1)!;
    const theirs = Array.from({ length: 50 }, (_, n) => guild((n + 1) << 22)).find((t) => shardFor(t.id, 2) === 0)!;
    const { link } = await make({ id: 1, workers: 2, store });
    const host = link.last.host;
    await host.kv({ op: 'set', tenant: `guild:${mine.id}`, key: 'k', arg: 42 });
    await expect(host.kv({ op: 'get', tenant: `guild:${mine.id}`, key: 'k' })).resolves.toBe(42);
    await expect(host.kv({ op: 'list', tenant: `guild:${mine.id}`, key: '', arg: '' })).resolves.toEqual([['k', 42]]);
    await expect(host.kv({ op: 'get', tenant: `guild:${theirs.id}`, key: 'k' })).rejects.toMatchObject({
      code: 'ERR_PROTOCOL',
    });
    await expect(host.kv({ op: 'get', tenant: 'nonsense', key: 'k' })).rejects.toMatchObject({
      code: 'ERR_INVALID_TENANT_ID',
    });
  });

  it('keeps counting handled and failed events across incarnations', async () => {
    const { worker, link } = await make({ restart: { backoff: () => 0 } });
    const stats = (handled: number, failed: number, tenants = 1): IncarnationStats => ({ tenants, handled, failed });
    link.last.host.stats(stats(5, 1));
    link.last.host.lost(new Error('x'));
    await link.nextStart();
    await worker.ready;
    await turn();
    link.last.host.stats(stats(2, 1));
    expect(worker.stats()).toMatchObject({ tenants: 1, handled: 7, failed: 2, restarts: 1 });
  });

  it('close() finishes accepted events, closes the incarnation, then refuses new ones', async () => {
    const { worker, link } = await make();
    const pending = worker.dispatch(guild(1), 'a');
    const closing = worker.close();
    await expect(worker.dispatch(guild(1), 'b')).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await turn();
    expect(link.last.closed).toBe(false);
    link.last.answerAll();
    await closing;
    await expect(pending).resolves.toBe('a');
    expect(link.last.closed).toBe(true);
    expect(worker.state).toBe('closed');
  });

  it('close() kills the worker when it does not finish within closeTimeoutMs', async () => {
    const { worker, link } = await make({ closeTimeoutMs: 20 });
    const pending = worker.dispatch(guild(1), 'never answered');
    await worker.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(link.last.killed).toBe(true);
    expect(worker.state).toBe('closed');
  });

  it('kill() rejects waiting and in-flight events with WorkerKilledError once the incarnation is gone', async () => {
    const { worker, link } = await make();
    link.last.full = true;
    const waiting = worker.dispatch(guild(1), 'w');
    link.last.full = false;
    const reported: unknown[] = [];
    worker.on('dispatchError', ({ error }) => reported.push(error));
    worker.dispatchNoWait(guild(1), 'n');
    const killing = worker.kill('bye');
    await killing;
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED', cause: 'bye' });
    expect(reported).toEqual([expect.objectContaining({ code: 'ERR_WORKER_KILLED' })]);
    expect(link.last.killed).toBe(true);
    expect(worker.state).toBe('killed');
  });
});
