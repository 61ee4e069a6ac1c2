import type { JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { headers } from '@nats-io/nats-core';
import { defineWorker, LocalWorker, shardFor, tenantId } from '@switchyard/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterInfo, JetStreamWorkerHostOptions } from '../../src/index.js';
import {
  deadLetterSubject,
  EventHeaders,
  eventSubject,
  JetStreamPublisher,
  JetStreamWorkerHost,
} from '../../src/index.js';
import { connectNats, deleteStreams, jetstreamManager, uniqueName, waitFor } from '../helpers/nats.js';
import type { TestEvent } from '../helpers/recorder.js';
import { echoWorker, EffectRecorder, GUILDS } from '../helpers/recorder.js';

let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
const hosts: JetStreamWorkerHost<TestEvent, TestEvent>[] = [];

beforeAll(async () => {
  nc = await connectNats();
  jsm = await jetstreamManager(nc);
});
afterEach(async () => {
  for (const host of hosts.splice(0)) host.kill();
});
afterAll(async () => {
  await deleteStreams(jsm, ...streams);
  await nc.close();
});

interface Setup {
  stream: string;
  subjectPrefix: string;
  partitions: number;
  publisher: JetStreamPublisher<TestEvent>;
  recorder: EffectRecorder;
  host(
    options?: Partial<JetStreamWorkerHostOptions<TestEvent, TestEvent>>,
  ): Promise<JetStreamWorkerHost<TestEvent, TestEvent>>;
  publish(count: number, from?: number, guilds?: string[]): Promise<void>;
}

async function setup(partitions: number): Promise<Setup> {
  const stream = uniqueName('HOST');
  streams.push(stream, `KV_${stream}_LEASES`);
  const subjectPrefix = stream.toLowerCase();
  const publisher = await JetStreamPublisher.create<TestEvent>({ connection: nc, stream, subjectPrefix, partitions });
  const recorder = new EffectRecorder();
  let hostCount = 0;
  return {
    stream,
    subjectPrefix,
    partitions,
    publisher,
    recorder,
    async host(options = {}) {
      const host = new JetStreamWorkerHost<TestEvent, TestEvent>({
        connection: nc,
        stream,
        subjectPrefix,
        partitions,
        worker: echoWorker(),
        hostId: `host-${++hostCount}`,
        onResult: (event, delivered) => recorder.apply(delivered.msgId, delivered.tenant, event.n),
        ...options,
      });
      hosts.push(host);
      await host.start();
      return host;
    },
    async publish(count, from = 0, guilds = GUILDS) {
      for (let i = from; i < from + count; i++) {
        const guild = guilds[i % guilds.length]!;
        await publisher.publish(tenantId('guild', guild), { n: i }, { msgId: `event-${i}` });
      }
    },
  };
}

function expectInOrder(recorder: EffectRecorder): void {
  for (const [tenant, ns] of recorder.order) {
    expect(
      [...ns].sort((a, b) => a - b),
      `events of ${tenant} in order`,
    ).toEqual(ns);
  }
}

describe('JetStreamWorkerHost', () => {
  it('shares the partitions between two hosts and handles every event once, each guild in order', async () => {
    const s = await setup(4);
    const a = await s.host();
    const b = await s.host();
    await waitFor(() => a.partitions.length === 2 && b.partitions.length === 2, 'two partitions each');
    expect([...a.partitions, ...b.partitions].sort()).toEqual([0, 1, 2, 3]);
    await s.publish(400);
    await waitFor(() => s.recorder.applied.size === 400, 'all 400 events');
    expect(s.recorder.handled).toBe(400);
    expect(s.recorder.duplicates).toBe(0);
    expectInOrder(s.recorder);
    expect(a.stats().handled + b.stats().handled).toBe(400);
    expect(a.stats().handled).toBeGreaterThan(0);
    expect(b.stats().handled).toBeGreaterThan(0);
  });

  it('dead-letters a poison event after maxDeliveries tries with its tenant and error, and its guild goes on', async () => {
    const s = await setup(1);
    let tries = 0;
    const worker = new LocalWorker(
      defineWorker({
        createTenant: () => null,
        onEvent: (_state: null, event: TestEvent) => {
          if (event.fail === true) {
            tries++;
            throw Object.assign(new Error(`poison ${event.n}`), { code: 'E_POISON' });
          }
          return event;
        },
      }),
    );
    const host = await s.host({ worker, maxDeliveries: 3, retryDelayMs: 1 });
    const dead: DeadLetterInfo[] = [];
    host.on('deadLetter', (info) => dead.push(info));
    const guild = tenantId('guild', GUILDS[0]!);
    await s.publisher.publish(guild, { n: 0 }, { msgId: 'e0' });
    await s.publisher.publish(guild, { n: 1, fail: true }, { msgId: 'e1' });
    await s.publisher.publish(guild, { n: 2 }, { msgId: 'e2' });
    await waitFor(() => s.recorder.applied.size === 2 && dead.length === 1, 'two events handled, one dead');
    expect(tries).toBe(3);
    expect(s.recorder.order.get(`guild:${GUILDS[0]}`)).toEqual([0, 2]);
    expect(dead[0]).toMatchObject({ partition: 0, msgId: 'e1', tenant: guild, deliveries: 3 });
    expect(dead[0]!.error).toMatchObject({ code: 'E_POISON' });
    const stored = await jsm.streams.getMessage(s.stream, { last_by_subj: deadLetterSubject(s.subjectPrefix, 0) });
    expect(stored?.header.get(EventHeaders.Tenant)).toBe(`guild:${GUILDS[0]}`);
    expect(stored?.header.get(EventHeaders.ErrorCode)).toBe('E_POISON');
    expect(stored?.header.get(EventHeaders.Error)).toBe('poison 1');
    expect(stored?.header.get(EventHeaders.Deliveries)).toBe('3');
    expect(stored?.json()).toEqual({ n: 1, fail: true });
    expect(host.stats()).toMatchObject({ handled: 2, deadLettered: 1 });
    const consumer = (await jsm.consumers.list(s.stream).next())[0]!;
    await waitFor(async () => (await jsm.consumers.info(s.stream, consumer.name)).num_ack_pending === 0, 'all acked');
  });

  it('dead-letters a message without a tenant header with ERR_JETSTREAM_MALFORMED_EVENT', async () => {
    const s = await setup(1);
    const host = await s.host();
    const dead: DeadLetterInfo[] = [];
    host.on('deadLetter', (info) => dead.push(info));
    const h = headers();
    h.set(EventHeaders.MsgId, 'raw-1');
    await nc.request(eventSubject(s.subjectPrefix, 0), 'not json', { headers: h, timeout: 5000 });
    const h2 = headers();
    h2.set(EventHeaders.MsgId, 'raw-2');
    h2.set(EventHeaders.Tenant, `guild:${GUILDS[0]}`);
    await nc.request(eventSubject(s.subjectPrefix, 0), 'not json', { headers: h2, timeout: 5000 });
    await waitFor(() => dead.length === 2, 'two dead letters');
    expect(dead.map((d) => [d.msgId, d.tenant?.id, (d.error as { code?: string }).code])).toEqual([
      ['raw-1', undefined, 'ERR_JETSTREAM_MALFORMED_EVENT'],
      ['raw-2', GUILDS[0], 'ERR_JETSTREAM_MALFORMED_EVENT'],
    ]);
    expect(s.recorder.handled).toBe(0);
  });

  it('tries a failing onResult again without running the handler again', async () => {
    const s = await setup(1);
    let handlerRuns = 0;
    let resultRuns = 0;
    const worker = new LocalWorker(
      defineWorker({
        createTenant: () => null,
        onEvent: (_state: null, event: TestEvent) => {
          handlerRuns++;
          return event;
        },
      }),
    );
    await s.host({
      worker,
      retryDelayMs: 1,
      onResult: (event, delivered) => {
        if (++resultRuns === 1) throw new Error('REST call failed');
        s.recorder.apply(delivered.msgId, delivered.tenant, event.n);
        expect(delivered.deliveries).toBe(2);
      },
    });
    await s.publish(1);
    await waitFor(() => s.recorder.applied.size === 1, 'the event carried out');
    expect(handlerRuns).toBe(1);
    expect(resultRuns).toBe(2);
  });

  it('holds back deliveries beyond maxAckPending while the handlers are busy', async () => {
    const s = await setup(1);
    let started = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const worker = new LocalWorker(
      defineWorker({
        createTenant: () => null,
        onEvent: async (_state: null, event: TestEvent) => {
          started++;
          await gate;
          return event;
        },
      }),
    );
    await s.host({ worker, maxAckPending: 2 });
    // Ten guilds, so nothing but max_ack_pending holds the events back.
    const guilds = Array.from({ length: 10 }, (_, i) => String((BigInt(i + 1) << 22n) + 1n));
    await s.publish(10, 0, guilds);
    await waitFor(() => started === 2, 'two handlers started');
    const consumer = (await jsm.consumers.list(s.stream).next())[0]!;
    const info = await jsm.consumers.info(s.stream, consumer.name);
    expect(info.num_ack_pending).toBe(2);
    expect(info.num_pending).toBe(8);
    release();
    await waitFor(() => s.recorder.applied.size === 10, 'all ten handled');
    expect(started).toBe(10);
  });

  it('hands its partitions over on close() and the next host continues after the last acknowledged event', async () => {
    const s = await setup(2);
    const a = await s.host();
    await waitFor(() => a.partitions.length === 2, 'host a owns both partitions');
    await s.publish(100);
    await waitFor(() => s.recorder.applied.size === 100, 'the first 100');
    const released: number[] = [];
    a.on('partitionReleased', ({ partition }) => released.push(partition));
    await a.close();
    expect(released.sort()).toEqual([0, 1]);
    await s.publish(100, 100);
    const b = await s.host();
    await waitFor(() => s.recorder.applied.size === 200, 'all 200');
    expect(b.partitions).toEqual([0, 1]);
    expect(b.stats().handled).toBe(100);
    expect(s.recorder.duplicates).toBe(0);
    expectInOrder(s.recorder);
  });

  it('takes over the partitions of a killed host once its leases ran out, and loses no event', async () => {
    const s = await setup(2);
    let gate!: () => void;
    const blocked = new Promise<void>((resolve) => (gate = resolve));
    let entered = 0;
    // Host a's handler hangs after its 50th event: events are received, not acknowledged, when it dies.
    const hanging = new LocalWorker(
      defineWorker({
        createTenant: () => null,
        onEvent: async (_state: null, event: TestEvent) => {
          if (++entered > 50) await blocked;
          return event;
        },
      }),
    );
    const a = await s.host({ worker: hanging });
    await waitFor(() => a.partitions.length === 2, 'host a owns both partitions');
    await s.publish(100);
    await waitFor(() => entered > 50, 'host a stuck in its 51st event');
    const b = await s.host();
    expect(b.partitions).toEqual([]);
    a.kill();
    gate();
    await waitFor(() => b.partitions.length === 2, 'host b took both partitions');
    await s.publish(100, 100);
    await waitFor(() => s.recorder.applied.size === 200, 'all 200');
    expectInOrder(s.recorder);
    // Host a handled 50 and died; b handled the rest, and again what a had acknowledged out of order.
    expect(a.stats().handled).toBe(50);
    expect(b.stats().handled).toBeGreaterThanOrEqual(150);
    expect(s.recorder.handled).toBe(a.stats().handled + b.stats().handled);
  });

  it('dead-letters an event whose handler outlives handlerTimeoutMs with ERR_HANDLER_TIMEOUT', async () => {
    const s = await setup(1);
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const worker = new LocalWorker(
      defineWorker({
        createTenant: () => null,
        // Event 0 outlives the timeout until the test lets it finish (a tenant's events run one
        // after another in its worker, so the next one starts only then); the others answer at once.
        onEvent: async (_state: null, event: TestEvent) => {
          if (event.n === 0) await slow;
          return event;
        },
      }),
    );
    const host = await s.host({ worker, handlerTimeoutMs: 200, maxDeliveries: 1 });
    const dead = new Promise<DeadLetterInfo>((resolve) => host.once('deadLetter', resolve));
    await s.publish(2, 0, [GUILDS[0]!]);
    expect((await dead).error).toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
    release();
    await waitFor(() => s.recorder.applied.size === 1, 'the next event of the guild');
    expect(s.recorder.order.get(`guild:${GUILDS[0]}`)).toEqual([1]);
  });

  it('gives its partitions up after drainTimeoutMs when a handler does not settle, and the next host handles that event', async () => {
    const s = await setup(1);
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const worker = new LocalWorker(
      defineWorker({
        createTenant: () => null,
        onEvent: async (_state: null, event: TestEvent) => {
          await stuck;
          return event;
        },
      }),
    );
    const a = await s.host({ worker, drainTimeoutMs: 100, onResult: () => undefined });
    await waitFor(() => a.partitions.length === 1, 'host a owns the partition');
    await s.publish(1);
    await waitFor(() => a.stats().inFlight === 1, 'the event in hand');
    const released = new Promise((resolve) => a.once('partitionReleased', resolve));
    await a.close();
    await released;
    const b = await s.host();
    await waitFor(() => s.recorder.applied.size === 1, 'host b handled the event');
    expect(b.stats().handled).toBe(1);
    expect(a.stats().handled).toBe(0);
    release();
  });

  it('stops consuming a partition whose lease another host took, with ERR_JETSTREAM_LEASE_LOST', async () => {
    const s = await setup(1);
    const host = await s.host();
    await waitFor(() => host.partitions.length === 1, 'the partition owned');
    const lost = new Promise<{ partition: number; error: Error }>((resolve) => host.once('partitionLost', resolve));
    const kv = await new Kvm(nc).open(`${s.stream}_LEASES`);
    await kv.put('partitions.0', 'intruder');
    const { partition, error } = await lost;
    expect(partition).toBe(0);
    expect(error).toMatchObject({ code: 'ERR_JETSTREAM_LEASE_LOST' });
    expect(host.partitions).toEqual([]);
    await s.publish(1);
    const consumer = (await jsm.consumers.list(s.stream).next())[0]!;
    await waitFor(async () => (await jsm.consumers.info(s.stream, consumer.name)).num_pending === 1, 'the event waits');
    expect(s.recorder.handled).toBe(0);
  });

  it('refuses a second start with ERR_JETSTREAM_HOST_CLOSED and a lease bucket of another ttl with ERR_JETSTREAM_CONFIG_MISMATCH', async () => {
    const s = await setup(1);
    const host = await s.host();
    await expect(host.start()).rejects.toMatchObject({ code: 'ERR_JETSTREAM_HOST_CLOSED' });
    await expect(s.host({ leaseTtlMs: 20_000 })).rejects.toMatchObject({ code: 'ERR_JETSTREAM_CONFIG_MISMATCH' });
    await expect(s.host({ partitions: 2 })).rejects.toMatchObject({ code: 'ERR_JETSTREAM_CONFIG_MISMATCH' });
    await expect(
      new JetStreamWorkerHost({
        connection: nc,
        partitions: 1,
        stream: s.stream,
        subjectPrefix: s.subjectPrefix,
        worker: echoWorker(),
      }).start({
        signal: AbortSignal.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(shardFor(GUILDS[0]!, 1)).toBe(0);
  });
});
