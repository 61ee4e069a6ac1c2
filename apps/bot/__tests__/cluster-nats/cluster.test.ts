import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { DiscordSim, SimGuild } from '@switchyard/discord-sim';
import { startDiscordSim } from '@switchyard/discord-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDatabase } from '../../src/index.js';
import { GatewayInstance, WorkerHostInstance } from '../../src/index.js';
import { disposeDatabase, testDatabase } from '../helpers/database.js';
import { humans } from '../helpers/discord.js';

const PARTITIONS = 4;
const MEMBER_ROUTE = '/guilds/:guild_id/members/:user_id';
let sim: DiscordSim;
let nc: NatsConnection;
const stream = `BOT_${process.pid}_${Date.now().toString(36)}`;
const databases: BotDatabase[] = [];
const gateways: GatewayInstance[] = [];
const hosts: WorkerHostInstance[] = [];

beforeAll(async () => {
  // Guild i is on shard i % 2 (consecutive creation times).
  sim = await startDiscordSim({
    guilds: Array.from({ length: 4 }, (_, i) => ({
      id: ((157_766_400_000n + BigInt(i)) << 22n).toString(),
      name: `Guild ${i}`,
      members: 6,
    })),
  });
  nc = await connect({ servers: process.env.NATS_URL ?? '127.0.0.1:4222' });
});
afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  for (const host of hosts) await host.close().catch(() => undefined);
  for (const database of databases) await disposeDatabase(database);
  const jsm = await jetstreamManager(nc);
  for (const name of [stream, `KV_${stream}_LEASES`, `KV_${stream}_DONE`])
    await jsm.streams.delete(name).catch(() => false);
  await nc.close();
  await sim.close();
});

async function workerHost(hostId: string): Promise<WorkerHostInstance> {
  const database = await testDatabase();
  databases.push(database);
  const host = await WorkerHostInstance.start({
    token: sim.token,
    api: sim.apiBase,
    database,
    connection: nc,
    partitions: PARTITIONS,
    stream,
    topology: 'local',
    workers: 1,
    hostId,
    restShare: 2,
  });
  hosts.push(host);
  return host;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Each spammer posts the default anti-spam limit (5 messages) at once: one timeout each. */
function flood(guild: SimGuild, spammers: number, from: number): string[] {
  const channel = guild.textChannels[0]!;
  const members = humans(guild).slice(from, from + spammers);
  for (const member of members) {
    for (let i = 0; i < 5; i++)
      sim.emit.messageCreate({ channel: channel.id, author: member.user.id, content: `spam ${i}` });
  }
  return members.map((member) => `${guild.id}/${member.user.id}`);
}

function timeouts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of sim.requests) {
    if (r.method !== 'PATCH' || r.route !== MEMBER_ROUTE) continue;
    const key = `${r.params.guild_id}/${r.params.user_id}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('the bot split over gateway instances and worker hosts', () => {
  it('times each spammer out exactly once with two gateways (a shard each) and two worker hosts, one of which hands over mid-traffic, and answers slash commands', async () => {
    const a = await workerHost('host-a');
    const b = await workerHost('host-b');
    await until(() => a.host.partitions.length === 2 && b.host.partitions.length === 2, 'two partitions per host');
    for (const shard of [0, 1]) {
      gateways.push(
        await GatewayInstance.start({
          token: sim.token,
          api: sim.apiBase,
          shards: [shard],
          shardCount: 2,
          connection: nc,
          partitions: PARTITIONS,
          stream,
        }),
      );
    }
    // Each gateway sees only the guilds of its shard.
    expect(gateways.map((g) => [...g.client.guilds.cache.keys()].sort())).toEqual([
      [sim.guilds[0]!.id, sim.guilds[2]!.id],
      [sim.guilds[1]!.id, sim.guilds[3]!.id],
    ]);

    const expected: string[] = [];
    for (const guild of sim.guilds) expected.push(...flood(guild, 2, 0));
    await until(() => timeouts().size === expected.length, 'the first timeouts');
    // Host a hands its partitions to b while chatter is under way. (Not floods: a spammer's
    // messages split between two hosts would meet two empty anti-spam windows, which live in the
    // workers' memory; see the root README, "What is not".)
    let chatter = 0;
    for (const guild of sim.guilds) {
      for (const member of humans(guild).slice(0, 3)) {
        sim.emit.messageCreate({ channel: guild.textChannels[1]!.id, author: member.user.id, content: 'hello' });
        chatter++;
      }
    }
    await a.close();
    await until(() => b.host.partitions.length === PARTITIONS, 'host b owns every partition');
    for (const guild of sim.guilds) expected.push(...flood(guild, 2, 2));
    await until(() => timeouts().size === expected.length, 'every timeout');

    const counts = timeouts();
    expect([...counts.keys()].sort()).toEqual([...expected].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const published = gateways.reduce((sum, g) => sum + g.stats().published, 0);
    expect(published).toBe(expected.length * 5 + chatter);
    // A host counts an event once its decision is carried out and marked done: just after the request.
    await until(() => a.stats().handled + b.stats().handled >= published, 'every event counted');
    const stats = [a.stats(), b.stats()];
    expect(stats[0]!.handled + stats[1]!.handled).toBe(published);
    expect(stats[0]!.actions + stats[1]!.actions).toBe(expected.length);

    // Slash commands: the gateway defers, host b (it owns every partition now) edits the answer in.
    const guild = sim.guilds[1]!;
    const configured = sim.emit.interaction({
      command: 'config',
      subcommand: 'add-word',
      options: { word: 'forbidden' },
      guild: guild.id,
      user: guild.ownerId,
    });
    expect(await configured.waitForResponse({ kind: 'callback', timeoutMs: 30_000 })).toMatchObject({ type: 5 });
    const edit = await configured.waitForResponse({ kind: 'editOriginal', timeoutMs: 30_000 });
    expect((edit.data as { content: string }).content).toMatch(/forbidden/);
    const statsCommand = sim.emit.interaction({ command: 'stats', guild: guild.id, user: guild.ownerId });
    const answer = await statsCommand.waitForResponse({ kind: 'editOriginal', timeoutMs: 30_000 });
    expect((answer.data as { content: string }).content).toMatch(/^Moderation stats since/);
    // The word set through the split bot is enforced by it.
    const member = humans(guild).at(-1)!;
    const banned = sim.emit.messageCreate({
      channel: guild.textChannels[0]!.id,
      author: member.user.id,
      content: 'so forbidden',
    });
    await sim.waitForRequest((r) => r.method === 'DELETE' && r.params.message_id === banned.id, { timeoutMs: 30_000 });
    expect(b.stats().answered).toBe(2);
  });
});
