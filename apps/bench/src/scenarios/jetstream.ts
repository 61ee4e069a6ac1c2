import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { TenantId, WorkerLike } from '@switchyard/core';
import { tenantKey } from '@switchyard/core';
import { JetStreamPublisher, JetStreamWorkerHost } from '@switchyard/jetstream';
import { createThreadPool } from '@switchyard/pool-thread';
import { expectAnswer } from '../harness/checks.js';
import type { ContenderPlan, ContenderRun, ScenarioFactory } from '../harness/Scenario.js';
import { closedLoop, latencyLoop } from './loops.js';
import { fixture } from './payloads.js';
import { spreadTenant } from './threads.js';

/** Events in flight in the throughput groups (callers of the thread pool, unacknowledged publishes). */
const IN_FLIGHT = 256;
const PARTITIONS = 4;

type Pool = WorkerLike<number, number>;

const openPool = (): Promise<Pool> =>
  createThreadPool<never>({ workers: 2, filename: fixture('switchyard-worker.mjs') }) as unknown as Promise<Pool>;

let streams = 0;

/**
 * The JetStream path in one process: a publisher (the gateway side) and a worker host over a
 * 2-thread pool (the worker side) on one NATS connection each, so every event goes through the
 * server: publish → stored → delivered to the partition's consumer → the tenant's thread →
 * `onResult`, which resolves the caller's wait. `send(tenant, event)` resolves with the handler's
 * answer when `onResult` ran, which is what "gateway to handler" measures.
 */
async function openJetStream(): Promise<{
  send(tenant: TenantId, event: number): Promise<number>;
  close(): Promise<void>;
}> {
  const servers = process.env.NATS_URL ?? '127.0.0.1:4222';
  const stream = `BENCH_${process.pid}_${++streams}`;
  const subjectPrefix = stream.toLowerCase();
  const gatewayConnection: NatsConnection = await connect({ servers });
  const hostConnection: NatsConnection = await connect({ servers });
  const pool = await openPool();
  const waiting = new Map<string, (answer: number) => void>();
  const options = { stream, subjectPrefix, partitions: PARTITIONS };
  const publisher = await JetStreamPublisher.create<number>({ ...options, connection: gatewayConnection });
  const host = new JetStreamWorkerHost<number, number>({
    ...options,
    connection: hostConnection,
    worker: pool,
    maxAckPending: IN_FLIGHT * 4,
    onResult: (answer, event) => {
      waiting.get(event.msgId)?.(answer);
      waiting.delete(event.msgId);
    },
  });
  await host.start();
  let seq = 0;
  return {
    async send(tenant, event) {
      const msgId = `${tenantKey(tenant)}:${++seq}`;
      const answered = new Promise<number>((resolve) => waiting.set(msgId, resolve));
      await publisher.publish(tenant, event, { msgId });
      return answered;
    },
    async close() {
      await host.close();
      await pool.close();
      const jsm = await jetstreamManager(gatewayConnection);
      for (const name of [stream, `KV_${stream}_LEASES`]) await jsm.streams.delete(name).catch(() => false);
      await gatewayConnection.close();
      await hostConnection.close();
    },
  };
}

function contender(
  name: string,
  kind: 'throughput' | 'latency',
  open: () => Promise<{ send(tenant: TenantId, event: number): Promise<number>; close(): Promise<void> }>,
): ContenderPlan {
  return {
    name,
    kind: 'switchyard',
    async start(): Promise<ContenderRun> {
      const path = await open();
      return {
        async check() {
          const tenants = [0, 1, 2, 3].map((i) => spreadTenant(i, 0));
          const answers = await Promise.all(tenants.map((tenant) => path.send(tenant, 41)));
          expectAnswer(`${name}: event 41 to 4 tenants`, answers, [42, 42, 42, 42]);
        },
        run: (ms) =>
          kind === 'latency'
            ? latencyLoop(ms, (i) => path.send(spreadTenant(0, i), i))
            : closedLoop(ms, IN_FLIGHT, (caller, i) => path.send(spreadTenant(caller, i), i)).then((ops) => ({ ops })),
        close: () => path.close(),
      };
    },
  };
}

const threadPool = async (): Promise<{
  send(tenant: TenantId, event: number): Promise<number>;
  close(): Promise<void>;
}> => {
  const pool = await openPool();
  return { send: (tenant, event) => pool.dispatch(tenant, event), close: () => pool.close() };
};

/**
 * Scenario: the same events and the same 2-thread worker pool, dispatched in this process or
 * carried from a gateway to the handler through NATS JetStream (the local server at NATS_URL,
 * default 127.0.0.1:4222): what crossing machines with durable, ordered, deduplicated delivery costs.
 */
export const jetstreamScenario: ScenarioFactory = () => ({
  id: 'jetstream',
  title: 'Through NATS JetStream vs the local thread pool',
  description:
    'Gateway to handler: publish to JetStream (stored on disk, deduplicated), delivered to the worker host that owns the ' +
    "guild's partition, handled by a 2-thread pool, acknowledged; against dispatching to the same pool in the gateway's " +
    'process. Needs a NATS server with JetStream (NATS_URL).',
  groups: [
    {
      id: 'jetstream-throughput',
      title: `Events/s, ${IN_FLIGHT} in flight over 1,000 guilds`,
      kind: 'throughput',
      unit: 'events',
      reference: 'Switchyard thread pool dispatch',
      msFactor: 2,
      contenders: [
        contender('Switchyard thread pool dispatch', 'throughput', threadPool),
        contender('JetStream publish → worker host → thread pool', 'throughput', openJetStream),
      ],
    },
    {
      id: 'jetstream-latency',
      title: 'Gateway to handler, one event in flight',
      kind: 'latency',
      unit: 'events',
      reference: 'Switchyard thread pool dispatch',
      msFactor: 2,
      contenders: [
        contender('Switchyard thread pool dispatch', 'latency', threadPool),
        contender('JetStream publish → worker host → thread pool', 'latency', openJetStream),
      ],
    },
  ],
});
