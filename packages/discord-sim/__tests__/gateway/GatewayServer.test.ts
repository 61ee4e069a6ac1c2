import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import { GatewayIntent, startDiscordSim } from '../../src/index.js';
import { GatewayTestClient } from '../helpers/GatewayTestClient.js';

const GUILDS = GatewayIntent.Guilds;
const MESSAGES = GatewayIntent.GuildMessages;
const CONTENT = GatewayIntent.MessageContent;

let sim: DiscordSim | undefined;
const clients: GatewayTestClient[] = [];

async function start(options: DiscordSimOptions = {}): Promise<DiscordSim> {
  sim = await startDiscordSim({ guilds: 2, ...options });
  return sim;
}

async function connect(url = sim!.gatewayUrl, query?: string): Promise<GatewayTestClient> {
  const client = await GatewayTestClient.connect(url, query);
  clients.push(client);
  return client;
}

/** Connects, identifies and takes READY; returns the client and the READY payload. */
async function identified(d: Record<string, unknown> = {}): Promise<{ client: GatewayTestClient; ready: any }> {
  const client = await connect();
  await client.next((payload) => payload.op === 10);
  client.identify(sim!.token, d);
  const ready = await client.dispatch('READY');
  return { client, ready };
}

function shardOf(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await sim?.close();
  sim = undefined;
});

describe('gateway handshake', () => {
  it('sends HELLO with the configured heartbeat interval', async () => {
    await start({ heartbeatIntervalMs: 1234 });
    const client = await connect();
    const hello = await client.next();
    expect(hello).toMatchObject({ op: 10, d: { heartbeat_interval: 1234 } });
  });

  it('closes with 4004 when IDENTIFY carries a wrong token', async () => {
    await start();
    const client = await connect();
    client.identify('not-the-token');
    expect((await client.closed).code).toBe(4004);
  });

  it('accepts the token with a "Bot " prefix', async () => {
    await start();
    const client = await connect();
    client.identify(`Bot ${sim!.token}`);
    expect((await client.dispatch('READY')).d.session_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    ['id equal to the count', [1, 1]],
    ['negative id', [-1, 2]],
    ['zero shards', [0, 0]],
    ['fractional id', [0.5, 2]],
    ['not a pair', [0]],
    ['not an array', 'shard-0'],
  ])('closes with 4010 for an invalid shard (%s)', async (_name, shard) => {
    await start();
    const client = await connect();
    client.identify(sim!.token, { shard });
    expect((await client.closed).code).toBe(4010);
  });

  it('closes with 4013 for unknown intent bits', async () => {
    await start();
    const client = await connect();
    client.identify(sim!.token, { intents: 1 << 30 });
    expect((await client.closed).code).toBe(4013);
  });

  it('closes with 4014 for privileged intents the application is not approved for', async () => {
    await start({ privilegedIntents: 0 });
    const client = await connect();
    client.identify(sim!.token, { intents: GUILDS | CONTENT });
    expect((await client.closed).code).toBe(4014);
  });

  it('closes with 4011 when the shard would hold more guilds than allowed', async () => {
    await start({ guilds: 3, maxGuildsPerShard: 2 });
    const client = await connect();
    client.identify(sim!.token, { shard: [0, 1] });
    expect((await client.closed).code).toBe(4011);
  });

  it('closes with 4003 for a payload other than a heartbeat before IDENTIFY', async () => {
    await start();
    const client = await connect();
    client.send({ op: 8, d: { guild_id: sim!.guilds[0]!.id, query: '', limit: 0 } });
    expect((await client.closed).code).toBe(4003);
  });

  it('closes with 4005 for a second IDENTIFY', async () => {
    await start();
    const { client } = await identified();
    client.identify(sim!.token);
    expect((await client.closed).code).toBe(4005);
  });

  it('closes with 4002 for a payload that is not JSON', async () => {
    await start();
    const client = await connect();
    client.send('{"op": 2, "d":');
    expect((await client.closed).code).toBe(4002);
  });

  it('closes with 4001 for an unknown opcode', async () => {
    await start();
    const client = await connect();
    client.send({ op: 42, d: null });
    expect((await client.closed).code).toBe(4001);
  });

  it('closes with 4012 for an API version other than 9 and 10', async () => {
    await start();
    const client = await connect(sim!.gatewayUrl, '?v=6&encoding=json');
    expect((await client.closed).code).toBe(4012);
  });

  it('speaks API v9 too, and says so in READY', async () => {
    await start();
    const client = await connect(sim!.gatewayUrl, '?v=9&encoding=json');
    await client.next((payload) => payload.op === 10);
    client.identify(sim!.token);
    expect((await client.dispatch('READY')).d.v).toBe(9);
  });

  it('accepts the gateway and resume paths with trailing slashes and parameters in any order', async () => {
    await start();
    for (const [url, query] of [
      [`${sim!.gatewayUrl}/`, '?encoding=json&v=10'],
      [`${sim!.gatewayUrl}//`, '?compress=zlib-stream&encoding=json&v=10'],
      [`${sim!.resumeGatewayUrl}/`, '?v=10'],
    ] as const) {
      const client = await connect(url, query);
      expect((await client.next()).op).toBe(10);
    }
  });

  it('answers 404 to an upgrade on another path', async () => {
    await start();
    await expect(connect(`${sim!.gatewayUrl}/elsewhere`, '?v=10')).rejects.toThrow(/404/);
  });

  it('closes a connection that stops heartbeating with 4009, and its session cannot be resumed', async () => {
    await start({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 300 });
    const { client, ready } = await identified();
    expect((await client.closed).code).toBe(4009);
    const disconnect = await sim!.gateway.waitForDisconnect();
    expect(disconnect).toMatchObject({ code: 4009, closedBy: 'server', resumable: false });
    const again = await connect(sim!.resumeGatewayUrl);
    await again.next((payload) => payload.op === 10);
    again.send({ op: 6, d: { token: sim!.token, session_id: ready.d.session_id, seq: 1 } });
    expect(await again.next((payload) => payload.op === 9)).toMatchObject({ d: false });
  });

  it('closes with 4002 for the etf encoding, which it does not speak', async () => {
    await start();
    const client = await connect(sim!.gatewayUrl, '?v=10&encoding=etf');
    expect((await client.closed).code).toBe(4002);
  });

  it('closes with 4008 after more than 120 payloads in a minute', async () => {
    await start();
    const client = await connect();
    for (let i = 0; i < 121; i++) client.send({ op: 1, d: null });
    expect((await client.closed).code).toBe(4008);
    expect(client.received.filter((payload) => payload.op === 11)).toHaveLength(120);
  });

  it('acknowledges every heartbeat, before and after IDENTIFY', async () => {
    await start();
    const client = await connect();
    client.send({ op: 1, d: null });
    expect((await client.next((payload) => payload.op !== 10)).op).toBe(11);
    client.identify(sim!.token);
    const ready = await client.dispatch('READY');
    client.send({ op: 1, d: ready.s });
    expect((await client.next((payload) => payload.op === 11)).op).toBe(11);
  });
});

describe('READY and guilds', () => {
  it("sends READY with the session, resume URL, application and the shard's unavailable guilds, then one GUILD_CREATE per guild", async () => {
    await start({ guilds: 12 });
    const expected = sim!.guilds.filter((guild) => shardOf(guild.id, 3) === 1).map((guild) => guild.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(12);

    const { client, ready } = await identified({ shard: [1, 3], intents: GUILDS });
    expect(ready.s).toBe(1);
    expect(ready.d).toMatchObject({
      v: 10,
      session_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      resume_gateway_url: sim!.resumeGatewayUrl,
      application: { id: sim!.applicationId },
      user: { id: sim!.bot.id, bot: true },
      shard: [1, 3],
    });
    expect(ready.d.guilds).toEqual(expected.map((id) => ({ id, unavailable: true })));

    const creates = [];
    for (let i = 0; i < expected.length; i++) creates.push(await client.dispatch('GUILD_CREATE'));
    expect(creates.map((payload) => payload.d.id)).toEqual(expected);
    expect(creates.map((payload) => payload.s)).toEqual(expected.map((_, i) => i + 2));
    const guild = sim!.guilds.find((candidate) => candidate.id === expected[0])!;
    expect(creates[0]!.d).toMatchObject({ unavailable: false, member_count: guild.members.size, large: false });
    expect(creates[0]!.d.channels).toHaveLength(guild.channels.length);
    expect(creates[0]!.d.roles).toHaveLength(guild.roles.length);
    expect(creates[0]!.d.members).toHaveLength(guild.members.size);
  });

  it('sends only the bot member of a guild larger than large_threshold', async () => {
    await start({ guilds: [{ members: 60 }] });
    const { client } = await identified({ intents: GUILDS, large_threshold: 50 });
    const create = await client.dispatch('GUILD_CREATE');
    expect(create.d).toMatchObject({ large: true, member_count: 61 });
    expect(create.d.members.map((member: any) => member.user.id)).toEqual([sim!.bot.id]);
  });

  it('sends no GUILD_CREATE without the Guilds intent', async () => {
    await start();
    const { client, ready } = await identified({ intents: MESSAGES });
    expect(ready.d.guilds).toHaveLength(2);
    const message = sim!.emit.messageCreate({ content: 'after ready' });
    const next = await client.next((payload) => payload.op === 0);
    expect(next.t).toBe('MESSAGE_CREATE');
    expect(next.d.id).toBe(message.id);
  });

  it('sends GUILD_CREATE when a guild is added while the session is connected', async () => {
    await start({ guilds: 0 });
    const { client } = await identified({ intents: GUILDS });
    const guild = sim!.guild({ name: 'Late guild' });
    const create = await client.dispatch('GUILD_CREATE');
    expect(create.d).toMatchObject({ id: guild.id, name: 'Late guild' });
  });

  it('answers op 8 with GUILD_MEMBERS_CHUNK for a query and for user ids', async () => {
    await start({ guilds: [{ members: [{ username: 'alice' }, { username: 'albert' }, { username: 'bob' }] }] });
    const { client } = await identified({ intents: GUILDS | GatewayIntent.GuildMembers });
    const guild = sim!.guilds[0]!;
    client.send({ op: 8, d: { guild_id: guild.id, query: 'al', limit: 10, nonce: 'n1' } });
    const chunk = await client.dispatch('GUILD_MEMBERS_CHUNK');
    expect(chunk.d).toMatchObject({ guild_id: guild.id, chunk_index: 0, chunk_count: 1, nonce: 'n1' });
    expect(chunk.d.members.map((member: any) => member.user.username).sort()).toEqual(['albert', 'alice']);

    const bob = guild.member('bob');
    client.send({ op: 8, d: { guild_id: guild.id, user_ids: [bob.user.id, '123456789012345678'], nonce: 'n2' } });
    const byId = await client.dispatch('GUILD_MEMBERS_CHUNK');
    expect(byId.d.members.map((member: any) => member.user.id)).toEqual([bob.user.id]);
    expect(byId.d.not_found).toEqual(['123456789012345678']);
  });
});

describe('dispatch routing', () => {
  it('numbers dispatches 1, 2, 3, ... per session', async () => {
    await start({ guilds: 1 });
    const { client } = await identified();
    await client.dispatch('GUILD_CREATE');
    for (let i = 0; i < 5; i++) sim!.emit.messageCreate({ content: `m${i}` });
    const sequences = [];
    for (let i = 0; i < 5; i++) sequences.push((await client.dispatch('MESSAGE_CREATE')).s);
    expect(sequences).toEqual([3, 4, 5, 6, 7]);
  });

  it("sends a guild's events only to the shard that owns it", async () => {
    await start({ guilds: 8, shards: 2 });
    const onShard = (shard: number) => sim!.guilds.find((guild) => shardOf(guild.id, 2) === shard)!;
    const { client: shard0 } = await identified({ shard: [0, 2] });
    const { client: shard1 } = await identified({ shard: [1, 2] });

    const forShard1 = sim!.emit.messageCreate({ guild: onShard(1), content: 'to shard 1' });
    expect(sim!.emit.lastDelivered).toBe(1);
    const forShard0 = sim!.emit.messageCreate({ guild: onShard(0), content: 'to shard 0' });
    expect(sim!.emit.lastDelivered).toBe(1);
    expect((await shard1.dispatch('MESSAGE_CREATE')).d.id).toBe(forShard1.id);
    expect((await shard0.dispatch('MESSAGE_CREATE')).d.id).toBe(forShard0.id);
    // Dispatches reach a connection in order, so shard 0 would have seen the first one before the second.
    expect(shard0.received.filter((payload) => payload.t === 'MESSAGE_CREATE').map((payload) => payload.d.id)).toEqual([
      forShard0.id,
    ]);
    expect(shard1.received.filter((payload) => payload.t === 'MESSAGE_CREATE').map((payload) => payload.d.id)).toEqual([
      forShard1.id,
    ]);
  });

  it('sends no MESSAGE_CREATE to a session without the GuildMessages intent', async () => {
    await start({ guilds: 1 });
    const { client } = await identified({ intents: GUILDS | GatewayIntent.GuildMembers });
    sim!.emit.messageCreate({ content: 'unseen' });
    expect(sim!.emit.lastDelivered).toBe(0);
    const member = sim!.emit.memberAdd();
    const add = await client.dispatch('GUILD_MEMBER_ADD');
    expect(add.d.user.id).toBe(member.user.id);
    expect(client.received.some((payload) => payload.t === 'MESSAGE_CREATE')).toBe(false);
  });

  it('strips message content without the MessageContent intent, unless the message mentions the bot', async () => {
    await start({ guilds: 1 });
    const { client } = await identified({ intents: GUILDS | MESSAGES });
    sim!.emit.messageCreate({ content: 'secret', embeds: [{ title: 'hidden' }] });
    const stripped = await client.dispatch('MESSAGE_CREATE');
    expect(stripped.d).toMatchObject({ content: '', embeds: [] });
    sim!.emit.messageCreate({ content: `<@${sim!.bot.id}> help` });
    const mention = await client.dispatch('MESSAGE_CREATE');
    expect(mention.d.content).toBe(`<@${sim!.bot.id}> help`);
    expect(mention.d.mentions.map((user: any) => user.id)).toEqual([sim!.bot.id]);
  });

  it('compresses every payload into one zlib stream when asked for compress=zlib-stream', async () => {
    await start({ guilds: 1 });
    const client = await connect(sim!.gatewayUrl, '?v=10&encoding=json&compress=zlib-stream');
    expect((await client.next()).op).toBe(10);
    client.identify(sim!.token);
    expect((await client.dispatch('READY')).d.session_id).toBeTypeOf('string');
    await client.dispatch('GUILD_CREATE');
    const message = sim!.emit.messageCreate({ content: 'compressed' });
    expect((await client.dispatch('MESSAGE_CREATE')).d.id).toBe(message.id);
  });
});

describe('resuming', () => {
  async function disconnectedSession(options: DiscordSimOptions = {}): Promise<{ sessionId: string; seq: number }> {
    await start({ guilds: 1, ...options });
    const { client, ready } = await identified();
    const create = await client.dispatch('GUILD_CREATE');
    await client.close(4000);
    await sim!.gateway.waitForDisconnect((event) => event.sessionId === ready.d.session_id);
    return { sessionId: ready.d.session_id, seq: create.s! };
  }

  it('replays exactly the dispatches missed while disconnected, then sends RESUMED', async () => {
    const { sessionId, seq } = await disconnectedSession();
    const missed = [1, 2, 3].map((i) => sim!.emit.messageCreate({ content: `missed ${i}` }));
    expect(sim!.emit.lastDelivered).toBe(1);

    const client = await connect(sim!.resumeGatewayUrl);
    await client.next((payload) => payload.op === 10);
    client.resume(sim!.token, sessionId, seq);
    const replayed = [];
    for (let i = 0; i < 3; i++) replayed.push(await client.next((payload) => payload.op === 0));
    expect(replayed.map((payload) => [payload.t, payload.s, payload.d.id])).toEqual(
      missed.map((message, i) => ['MESSAGE_CREATE', seq + 1 + i, message.id]),
    );
    const resumed = await client.next((payload) => payload.op === 0);
    expect(resumed).toMatchObject({ t: 'RESUMED', s: seq + 4 });

    const live = sim!.emit.messageCreate({ content: 'live' });
    expect((await client.dispatch('MESSAGE_CREATE')).d.id).toBe(live.id);
    expect(client.received.filter((payload) => payload.t === 'MESSAGE_CREATE')).toHaveLength(4);
    const resume = await sim!.gateway.waitForResume();
    expect(resume).toMatchObject({ replayed: 3, session: { id: sessionId, resumeCount: 1, connected: true } });
  });

  it('replays only what came after the sequence the client gives', async () => {
    const { sessionId, seq } = await disconnectedSession();
    sim!.emit.messageCreate({ content: 'seen' });
    const unseen = sim!.emit.messageCreate({ content: 'unseen' });
    const client = await connect(sim!.resumeGatewayUrl);
    client.resume(sim!.token, sessionId, seq + 1);
    expect((await client.next((payload) => payload.op === 0)).d.id).toBe(unseen.id);
    expect((await client.next((payload) => payload.op === 0)).t).toBe('RESUMED');
  });

  it('answers RESUME of an unknown session with a non-resumable INVALID_SESSION', async () => {
    await start();
    const client = await connect();
    client.resume(sim!.token, 'f'.repeat(32), 1);
    expect(await client.next((payload) => payload.op !== 10)).toMatchObject({ op: 9, d: false });
  });

  it('closes with 4004 when RESUME carries a wrong token', async () => {
    const { sessionId, seq } = await disconnectedSession();
    const client = await connect(sim!.resumeGatewayUrl);
    client.resume('wrong', sessionId, seq);
    expect((await client.closed).code).toBe(4004);
  });

  it('closes with 4007 when RESUME claims a sequence ahead of the session', async () => {
    const { sessionId, seq } = await disconnectedSession();
    const client = await connect(sim!.resumeGatewayUrl);
    client.resume(sim!.token, sessionId, seq + 100);
    expect((await client.closed).code).toBe(4007);
  });

  it('invalidates the session when the missed dispatches no longer fit the resume buffer', async () => {
    const { sessionId, seq } = await disconnectedSession({ resumeBufferSize: 3 });
    for (let i = 0; i < 5; i++) sim!.emit.messageCreate({ content: `overflow ${i}` });
    const client = await connect(sim!.resumeGatewayUrl);
    client.resume(sim!.token, sessionId, seq);
    expect(await client.next((payload) => payload.op !== 10)).toMatchObject({ op: 9, d: false });
    expect(sim!.gateway.sessions()).toEqual([]);
  });

  it('ends the session when the client closes with 1000', async () => {
    await start({ guilds: 1 });
    const { client, ready } = await identified();
    await client.close(1000);
    const disconnect = await sim!.gateway.waitForDisconnect();
    expect(disconnect).toMatchObject({
      code: 1000,
      closedBy: 'client',
      resumable: false,
      sessionId: ready.d.session_id,
    });
    const again = await connect(sim!.resumeGatewayUrl);
    again.resume(sim!.token, ready.d.session_id, ready.s);
    expect(await again.next((payload) => payload.op !== 10)).toMatchObject({ op: 9, d: false });
  });

  it('drops a disconnected session once its resume window has passed', async () => {
    const { sessionId, seq } = await disconnectedSession({ resumeTimeoutMs: 0 });
    const client = await connect(sim!.resumeGatewayUrl);
    client.resume(sim!.token, sessionId, seq);
    expect(await client.next((payload) => payload.op !== 10)).toMatchObject({ op: 9, d: false });
  });
});

describe('misbehaving on purpose', () => {
  it('stops acknowledging heartbeats of a zombie connection, and acknowledges again when released', async () => {
    await start({ guilds: 1 });
    const { client } = await identified();
    expect(sim!.gateway.zombie()).toBe(1);
    client.send({ op: 1, d: 1 });
    // The server handles a connection's payloads in order: once the answer to the op 8 sent after
    // the heartbeat arrives, an ACK would have arrived before it.
    client.send({ op: 8, d: { guild_id: sim!.guilds[0]!.id, query: '', limit: 1, nonce: 'probe' } });
    await client.dispatch('GUILD_MEMBERS_CHUNK');
    expect(client.received.some((payload) => payload.op === 11)).toBe(false);

    expect(sim!.gateway.zombie({ enabled: false })).toBe(1);
    client.send({ op: 1, d: 2 });
    expect((await client.next((payload) => payload.op === 11)).op).toBe(11);
  });

  it('sends op 7 RECONNECT to the targeted shard only', async () => {
    await start({ guilds: 4 });
    const { client: shard0 } = await identified({ shard: [0, 2] });
    const { client: shard1 } = await identified({ shard: [1, 2] });
    expect(sim!.gateway.reconnect({ shardId: 1 })).toBe(1);
    expect(await shard1.next((payload) => payload.op === 7)).toMatchObject({ op: 7 });
    expect(sim!.gateway.reconnect({ shardId: 0 })).toBe(1);
    expect((await shard0.next((payload) => payload.op === 7)).op).toBe(7);
    // Anything sent to shard 1 by the second call would arrive before the ACK of a later heartbeat.
    shard1.send({ op: 1, d: null });
    await shard1.next((payload) => payload.op === 11);
    expect(shard1.received.filter((payload) => payload.op === 7)).toHaveLength(1);
  });

  it('sends a non-resumable INVALID_SESSION, ends the session and accepts a new IDENTIFY', async () => {
    await start({ guilds: 1 });
    const { client, ready } = await identified();
    expect(sim!.gateway.invalidateSession()).toBe(1);
    expect(await client.next((payload) => payload.op === 9)).toMatchObject({ d: false });
    expect(sim!.gateway.sessions().map((session) => session.id)).not.toContain(ready.d.session_id);
    client.identify(sim!.token);
    const again = await client.dispatch('READY');
    expect(again.d.session_id).not.toBe(ready.d.session_id);
  });

  it('lets a resumable INVALID_SESSION be resumed on the same connection', async () => {
    await start({ guilds: 1 });
    const { client, ready } = await identified();
    const create = await client.dispatch('GUILD_CREATE');
    expect(sim!.gateway.invalidateSession({ resumable: true })).toBe(1);
    expect(await client.next((payload) => payload.op === 9)).toMatchObject({ d: true });
    const missed = sim!.emit.messageCreate({ content: 'while invalid' });
    client.resume(sim!.token, ready.d.session_id, create.s!);
    expect((await client.dispatch('MESSAGE_CREATE')).d.id).toBe(missed.id);
    expect((await client.dispatch('RESUMED')).t).toBe('RESUMED');
  });

  it('closes connections from the server side with the given code, keeping the session resumable', async () => {
    await start({ guilds: 1 });
    const { client, ready } = await identified();
    expect(sim!.gateway.disconnect({ code: 4000 })).toBe(1);
    expect((await client.closed).code).toBe(4000);
    expect(await sim!.gateway.waitForDisconnect()).toMatchObject({
      closedBy: 'server',
      code: 4000,
      resumable: true,
      sessionId: ready.d.session_id,
    });
    expect(sim!.gateway.sessions()).toMatchObject([{ id: ready.d.session_id, connected: false }]);
  });

  it('rejects a close code outside 1000-4999 with ERR_DISCORD_SIM_INVALID_OPTION', async () => {
    await start();
    expect(() => sim!.gateway.disconnect({ code: 999 })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' }),
    );
    expect(() => sim!.gateway.reconnect({ shardId: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' }),
    );
  });
});
