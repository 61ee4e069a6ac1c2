import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamManager } from '@nats-io/jetstream';
import { shardFor, tenantId } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventSubject, EventHeaders, JetStreamPublisher } from '../../src/index.js';
import { connectNats, deleteStreams, jetstreamManager, uniqueName } from '../helpers/nats.js';

let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];

beforeAll(async () => {
  nc = await connectNats();
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await deleteStreams(jsm, ...streams);
  await nc.close();
});

function names(): { stream: string; subjectPrefix: string } {
  const stream = uniqueName('PUB');
  streams.push(stream);
  return { stream, subjectPrefix: stream.toLowerCase() };
}

describe('JetStreamPublisher', () => {
  it("publishes each tenant's event to the subject of shardFor(guild, partitions), with its tenant and msg id", async () => {
    const { stream, subjectPrefix } = names();
    const publisher = await JetStreamPublisher.create<{ n: number }>({
      connection: nc,
      stream,
      subjectPrefix,
      partitions: 4,
    });
    const guilds = ['81384788765712384', '175928847299117063', '222078108977594368', '302050872383242240'];
    for (const [n, id] of guilds.entries()) {
      const result = await publisher.publish(tenantId('guild', id), { n }, { msgId: `e${n}` });
      expect(result.partition).toBe(shardFor(id, 4));
      expect(result.duplicate).toBe(false);
      const stored = await jsm.streams.getMessage(stream, { seq: result.seq });
      expect(stored?.subject).toBe(eventSubject(subjectPrefix, shardFor(id, 4)));
      expect(stored?.header.get(EventHeaders.Tenant)).toBe(`guild:${id}`);
      expect(stored?.header.get(EventHeaders.MsgId)).toBe(`e${n}`);
      expect(stored?.json()).toEqual({ n });
    }
    expect(publisher.stats()).toEqual({ published: 4, duplicates: 0 });
  });

  it('stores an event republished with the same msgId once and says it was a duplicate', async () => {
    const { stream, subjectPrefix } = names();
    const publisher = await JetStreamPublisher.create({ connection: nc, stream, subjectPrefix, partitions: 2 });
    const guild = tenantId('guild', '81384788765712384');
    const first = await publisher.publish(guild, { t: 'MESSAGE_CREATE', id: '1' }, { msgId: '0:session:17' });
    const again = await publisher.publish(guild, { t: 'MESSAGE_CREATE', id: '1' }, { msgId: '0:session:17' });
    expect(again).toEqual({ partition: first.partition, seq: first.seq, duplicate: true });
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
    expect(publisher.stats()).toEqual({ published: 2, duplicates: 1 });
  });

  it('refuses a stream made for another partition count with ERR_JETSTREAM_CONFIG_MISMATCH', async () => {
    const { stream, subjectPrefix } = names();
    await JetStreamPublisher.create({ connection: nc, stream, subjectPrefix, partitions: 4 });
    await expect(
      JetStreamPublisher.create({ connection: nc, stream, subjectPrefix, partitions: 8 }),
    ).rejects.toMatchObject({
      code: 'ERR_JETSTREAM_CONFIG_MISMATCH',
    });
    await expect(
      JetStreamPublisher.create({ connection: nc, stream, subjectPrefix: `${subjectPrefix}.other`, partitions: 4 }),
    ).rejects.toMatchObject({ code: 'ERR_JETSTREAM_CONFIG_MISMATCH' });
  });

  it('rejects with ERR_JETSTREAM_PUBLISH when JetStream does not store the event', async () => {
    const { stream, subjectPrefix } = names();
    const publisher = await JetStreamPublisher.create({
      connection: nc,
      stream,
      subjectPrefix,
      partitions: 1,
      timeoutMs: 2000,
    });
    await jsm.streams.delete(stream);
    await expect(publisher.publish(tenantId('guild', '1'), {}, { msgId: 'x' })).rejects.toMatchObject({
      code: 'ERR_JETSTREAM_PUBLISH',
    });
  });

  it('rejects an aborted call with ABORT_ERR and bad arguments with ERR_INVALID_ARGUMENT / ERR_INVALID_TENANT_ID', async () => {
    const { stream, subjectPrefix } = names();
    const publisher = await JetStreamPublisher.create({ connection: nc, stream, subjectPrefix, partitions: 1 });
    const guild = tenantId('guild', '1');
    await expect(publisher.publish(guild, {}, { msgId: 'a', signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORT_ERR',
    });
    await expect(publisher.publish(guild, {}, { msgId: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(publisher.publish(guild, undefined, { msgId: 'u' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(publisher.publish(guild, cyclic, { msgId: 'c' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(publisher.publish({ kind: 'guild', id: 'x' }, {}, { msgId: 'b' })).rejects.toMatchObject({
      code: 'ERR_INVALID_TENANT_ID',
    });
    expect((await jsm.streams.info(stream)).state.messages).toBe(0);
  });
});
