import type { JetStreamManager } from '@nats-io/jetstream';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { shardFor } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHeaders, JetStreamPublisher } from '../../src/index.js';
import { Child } from '../helpers/children.js';
import { connectNats, deleteStreams, jetstreamManager, natsServers, uniqueName, waitFor } from '../helpers/nats.js';
import { TcpProxy } from '../helpers/proxy.js';
import { GUILDS } from '../helpers/recorder.js';

let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
const children: Child[] = [];
let proxy: TcpProxy;

beforeAll(async () => {
  nc = await connectNats();
  jsm = await jetstreamManager(nc);
  const [host, port] = natsServers()
    .replace(/^nats:\/\//, '')
    .split(':');
  proxy = await TcpProxy.start({ host: host!, port: Number(port ?? 4222) });
});
afterAll(async () => {
  for (const child of children) child.kill();
  await Promise.all(children.map((child) => child.exited));
  await proxy.close();
  await deleteStreams(jsm, ...streams);
  await nc.close();
});

/** Waits for `check`, failing at once (with its stderr) when a child died on its own. */
function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  return waitFor(() => {
    for (const child of children) child.assertRunning();
    return check();
  }, what);
}

function spawnChild(fixture: string, options: unknown): Child {
  const child = new Child(fixture, options);
  children.push(child);
  return child;
}

async function subjectCount(stream: string, subject: string): Promise<number> {
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe('worker hosts and gateways in their own processes', () => {
  it('handles every event exactly once in effect, each guild in order, through a SIGKILLed gateway, a SIGKILLed host and a dropped connection', async () => {
    const total = 1200;
    const partitions = 4;
    const stream = uniqueName('FAILOVER');
    const subjectPrefix = stream.toLowerCase();
    const effects = `${stream}_FX`;
    const handledStream = `${stream}_HD`;
    streams.push(stream, `KV_${stream}_LEASES`, effects, handledStream);
    // The stream first (the hosts' own `ensure` then finds it), and the effects stream of the fixtures.
    await JetStreamPublisher.create({ connection: nc, stream, subjectPrefix, partitions });
    await jsm.streams.add({ name: effects, subjects: [`${subjectPrefix}.effects`] });
    await jsm.streams.add({ name: handledStream, subjects: [`${subjectPrefix}.handled`] });

    const common = { stream, subjectPrefix, partitions };
    const hostA = spawnChild('host-process.mjs', { ...common, servers: natsServers(), hostId: 'host-a' });
    const hostB = spawnChild('host-process.mjs', { ...common, servers: proxy.url, hostId: 'host-b' });
    await until(() => hostA.partitions().length === 2 && hostB.partitions().length === 2, 'two partitions per host');

    const partitionsOfA = hostA.partitions();
    // Gateway 1 dies mid-traffic; gateway 2 resumes from an earlier point and republishes what 1 had sent.
    const gateway = { ...common, servers: natsServers(), guilds: GUILDS };
    const gateway1 = spawnChild('gateway-process.mjs', { ...gateway, from: 0, to: total });
    await until(() => gateway1.count('published') >= 300, 'gateway 1 published 300');
    gateway1.kill();
    await gateway1.exited;
    const sent = gateway1.count('published');
    expect(sent).toBeLessThan(total);
    const gateway2 = spawnChild('gateway-process.mjs', { ...gateway, from: Math.max(0, sent - 100), to: total });

    // Host a dies mid-traffic, with events received and not acknowledged.
    await until(async () => (await subjectCount(effects, `${subjectPrefix}.effects`)) >= 450, '450 effects');
    hostA.kill();
    await hostA.exited;
    // Host b's connection drops mid-traffic.
    await until(async () => (await subjectCount(effects, `${subjectPrefix}.effects`)) >= 600, '600 effects');
    const before = proxy.connections;
    proxy.drop();
    await until(() => hostB.count('reconnect') >= 1 && proxy.connections > before, 'host b reconnected');

    expect(await gateway2.exited).toBe(0);
    await until(() => hostB.partitions().length === 4, 'host b took over the four partitions');
    await until(async () => (await subjectCount(effects, `${subjectPrefix}.effects`)) === total, `${total} effects`);

    // The event stream holds each event once: the republished ones were discarded as duplicates.
    expect((await jsm.streams.info(stream, { subjects_filter: `${subjectPrefix}.events.*` })).state.messages).toBe(
      total,
    );
    const done = /^done \{"published":\d+,"duplicates":(\d+)\}$/.exec(gateway2.lines.at(-1) ?? '');
    expect(Number(done?.[1])).toBeGreaterThanOrEqual(Math.min(100, sent));
    // Every event's effect once, each guild's in the order published.
    const js = jetstream(nc);
    const consumer = await js.consumers.get(effects);
    const ownedByA = new Set(partitionsOfA);
    let takenOver = 0;
    const seen = new Set<number>();
    const lastOf = new Map<string, number>();
    const iterator = await consumer.fetch({ max_messages: total, expires: 10_000 });
    for await (const m of iterator) {
      const n = Number(m.headers!.get('Test-N'));
      const tenant = m.headers!.get(EventHeaders.Tenant);
      expect(seen.has(n)).toBe(false);
      seen.add(n);
      expect(n).toBeGreaterThan(lastOf.get(tenant) ?? -1);
      lastOf.set(tenant, n);
      if (m.headers!.get('Test-Host') === 'host-b' && ownedByA.has(shardFor(tenant.split(':')[1]!, partitions)))
        takenOver++;
      if (seen.size === total) break;
    }
    expect(seen.size).toBe(total);
    expect(lastOf.size).toBe(GUILDS.length);
    // Host b carried on with host a's partitions after the kill.
    expect(takenOver).toBeGreaterThan(0);
    const handled = (await jsm.streams.info(handledStream)).state.messages;
    expect(handled).toBeGreaterThanOrEqual(total);
    console.log(`events sent ${total}, handled ${handled}, duplicates ${handled - total}`);
  });
});
