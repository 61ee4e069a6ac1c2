import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Server, Socket } from 'node:net';
import { connect as connectTcp, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { DiscordSim } from '@switchyard/discord-sim';
import { startDiscordSim } from '@switchyard/discord-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDatabase } from '../../src/index.js';
import { CONFIG_KEY, ModerationLog, openDatabase, PostgresKvStore } from '../../src/index.js';
import { humans } from '../helpers/discord.js';
import { StoppableDatabase } from '../helpers/StoppableDatabase.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const NATS = process.env.NATS_URL ?? '127.0.0.1:4222';
const PARTITIONS = 4;
const MESSAGE_ROUTE = '/channels/:channel_id/messages/:message_id';
const stream = `BOTPROC_${process.pid}_${Date.now().toString(36)}`;

/** A bot instance (`dist/main.js` with the cluster flags) in its own process, its output kept. */
interface Instance {
  child: ChildProcess;
  output: string;
  exited: Promise<unknown>;
}

/** A TCP proxy to NATS whose connections the test can drop. */
class NatsProxy {
  readonly sockets = new Set<Socket>();
  accepted = 0;
  readonly server: Server = createServer((client) => {
    this.accepted++;
    const upstream = connectTcp(Number(NATS.split(':')[1] ?? 4222), NATS.split(':')[0]);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      from.pipe(to);
    }
  });
  get url(): string {
    const address = this.server.address();
    return `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }
  drop(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

let sim: DiscordSim;
let db: StoppableDatabase;
let database: BotDatabase;
const proxy = new NatsProxy();
const instances: Instance[] = [];

beforeAll(async () => {
  sim = await startDiscordSim({
    guilds: Array.from({ length: 4 }, (_, i) => ({
      id: ((157_766_400_000n + BigInt(i)) << 22n).toString(),
      name: `Guild ${i}`,
      members: 6,
    })),
  });
  db = await StoppableDatabase.start();
  database = await openDatabase({ url: db.url, schema: db.schema });
  // Every guild bans one word: each message with it is deleted (one audited action per message).
  const store = new PostgresKvStore(database);
  for (const guild of sim.guilds)
    await store.set({ kind: 'guild', id: guild.id }, CONFIG_KEY, { bannedWords: ['forbidden'] });
  await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const instance of instances) instance.child.kill('SIGKILL');
  await Promise.all(instances.map((instance) => instance.exited));
  proxy.drop();
  await new Promise((resolve) => proxy.server.close(resolve));
  const nc = await connect({ servers: NATS });
  const jsm = await jetstreamManager(nc);
  for (const name of [stream, `KV_${stream}_LEASES`, `KV_${stream}_DONE`])
    await jsm.streams.delete(name).catch(() => false);
  await nc.close();
  await database.close();
  await db.close();
  await sim.close();
});

function start(args: string[], nats = NATS): Instance {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--events',
      `jetstream://${nats}`,
      '--stream',
      stream,
      '--partitions',
      String(PARTITIONS),
      '--discord-api',
      sim.apiBase,
      ...args,
    ],
    {
      env: { ...process.env, DISCORD_TOKEN: sim.token, DATABASE_URL: db.url, BOT_DB_SCHEMA: db.schema },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const instance: Instance = { child, output: '', exited: new Promise((resolve) => child.once('exit', resolve)) };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (instance.output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (instance.output += chunk));
  instances.push(instance);
  return instance;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 150_000;
  while (!(await check())) {
    if (performance.now() > deadline)
      throw new Error(`Timed out waiting for ${what}.\n${instances.map((i) => i.output).join('\n----\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The partitions an instance owns, from its log lines. */
function owned(instance: Instance): number {
  let count = 0;
  for (const line of instance.output.split('\n')) {
    if (line.startsWith('workers: took partition')) count++;
    if (line.startsWith('workers: handed partition') || line.startsWith('workers: lost partition')) count--;
  }
  return count;
}

const expected = new Set<string>();
let round = 0;
/** `count` messages with the banned word, round robin over the guilds and their members. */
function banned(count: number): void {
  for (let i = 0; i < count; i++, round++) {
    const guild = sim.guilds[round % sim.guilds.length]!;
    const author = humans(guild)[Math.floor(round / sim.guilds.length) % humans(guild).length]!;
    const message = sim.emit.messageCreate({
      channel: guild.textChannels[0]!.id,
      author: author.user.id,
      content: `this is forbidden (${round})`,
    });
    expected.add(message.id);
  }
}

function deleted(): Set<string> {
  return new Set(
    sim.requests.filter((r) => r.method === 'DELETE' && r.route === MESSAGE_ROUTE).map((r) => r.params.message_id!),
  );
}

describe('the split bot in its own processes', () => {
  it("deletes every banned message exactly once in effect and in each guild's order through a SIGKILLed gateway, a SIGKILLed worker host and a dropped NATS connection", async () => {
    const w1 = start(['--role', 'workers', '--host-id', 'w1', '--topology', 'local', '--workers', '1']);
    // Worker host 2 reaches NATS through a proxy the test can cut.
    const w2 = start(['--role', 'workers', '--host-id', 'w2', '--topology', 'local', '--workers', '1'], proxy.url);
    await until(() => owned(w1) === 2 && owned(w2) === 2, 'two partitions per worker host');
    const g0 = start(['--shards', '0', '--shard-count', '2']);
    const g1 = start(['--shards', '1', '--shard-count', '2']);
    await until(() => g0.output.includes('gateway ready') && g1.output.includes('gateway ready'), 'the gateways');

    banned(40);
    await until(() => deleted().size === expected.size, 'the first 40 deletions');

    // A second instance for shard 0 (Discord sends every session of a shard its events), then the
    // first one dies mid-traffic: what both published is stored once.
    const g0b = start(['--shards', '0', '--shard-count', '2']);
    await until(() => g0b.output.includes('gateway ready'), 'the second shard-0 gateway');
    banned(20);
    g0.child.kill('SIGKILL');
    banned(20);

    // Worker host 1 dies mid-traffic: host 2 takes its partitions when the leases run out.
    banned(20);
    w1.child.kill('SIGKILL');
    banned(20);

    // Host 2's connection to NATS drops mid-traffic; it reconnects through the proxy.
    banned(20);
    const before = proxy.accepted;
    proxy.drop();
    banned(20);
    await until(() => proxy.accepted > before, 'worker host 2 reconnected');
    await until(() => owned(w2) === PARTITIONS, 'worker host 2 owns every partition');
    await until(() => deleted().size === expected.size, `all ${expected.size} deletions`);

    expect(deleted()).toEqual(expected);
    // Each guild's deletions in the order its messages were posted (snowflakes grow with time).
    const firstDeletes = new Map<string, string[]>();
    const seen = new Set<string>();
    for (const r of sim.requests) {
      if (r.method !== 'DELETE' || r.route !== MESSAGE_ROUTE || seen.has(r.params.message_id!)) continue;
      seen.add(r.params.message_id!);
      const list = firstDeletes.get(r.params.channel_id!) ?? [];
      list.push(r.params.message_id!);
      firstDeletes.set(r.params.channel_id!, list);
    }
    expect(firstDeletes.size).toBe(sim.guilds.length);
    for (const ids of firstDeletes.values()) {
      expect([...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0))).toEqual(ids);
    }
    // The audit rows: one per deleted message, none twice.
    await until(
      async () =>
        (await new ModerationLog(database).list()).filter((row) => row.action === 'deleteMessage').length >=
        expected.size,
      'the audit rows',
    );
    const rows = (await new ModerationLog(database).list()).filter((row) => row.action === 'deleteMessage');
    const audited = rows.map((row) => (row.details as { messageId: string }).messageId);
    expect(audited.length).toBe(expected.size);
    expect(new Set(audited)).toEqual(expected);
    const requests = sim.requests.filter((r) => r.method === 'DELETE' && r.route === MESSAGE_ROUTE).length;
    console.log(
      `banned messages ${expected.size}, deleted ${deleted().size}, DELETE requests ${requests}, audit rows ${rows.length}`,
    );
  });
});
