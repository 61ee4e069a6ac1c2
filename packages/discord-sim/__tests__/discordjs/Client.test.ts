import type { ChatInputCommandInteraction, Client, GuildMember, Message } from 'discord.js';
import {
  ApplicationCommandOptionType,
  Events,
  GatewayIntentBits,
  GuildVerificationLevel,
  MessageFlags,
} from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import { DEFAULT_BOT_PERMISSIONS, Permission, startDiscordSim } from '../../src/index.js';
import { nextEvent, readyClient } from '../helpers/discord.js';

let sim: DiscordSim | undefined;
let client: Client | undefined;

async function start(options: DiscordSimOptions = {}): Promise<DiscordSim> {
  sim = await startDiscordSim({ guilds: 2, ...options });
  return sim;
}

afterEach(async () => {
  await client?.destroy();
  client = undefined;
  await sim?.close();
  sim = undefined;
});

function shardOf(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

/** A member of the first guild that is neither the owner nor the bot. */
function someone(): { guildId: string; userId: string } {
  const guild = sim!.guilds[0]!;
  const member = [...guild.members.values()].find(
    (candidate) => candidate.user.id !== guild.ownerId && !candidate.user.bot,
  )!;
  return { guildId: guild.id, userId: member.user.id };
}

describe('a discord.js Client against the simulator', () => {
  it('logs in, gets READY and caches every guild with its channels, roles and members', async () => {
    await start({ guilds: 3 });
    client = await readyClient(sim!);
    expect(client.user?.id).toBe(sim!.bot.id);
    expect(client.application?.id).toBe(sim!.applicationId);
    expect([...client.guilds.cache.keys()].sort()).toEqual(sim!.guilds.map((guild) => guild.id).sort());
    for (const guild of sim!.guilds) {
      const cached = client.guilds.cache.get(guild.id)!;
      expect(cached.available).toBe(true);
      expect(cached.name).toBe(guild.name);
      expect(cached.channels.cache.size).toBe(guild.channels.length);
      expect(cached.roles.cache.size).toBe(guild.roles.length);
      expect(cached.members.cache.size).toBe(guild.members.size);
      expect(cached.members.me?.id).toBe(sim!.bot.id);
      expect(cached.ownerId).toBe(guild.ownerId);
    }
    expect(sim!.requests.map((request) => `${request.method} ${request.route} ${request.status}`)).toEqual([
      'GET /gateway/bot 200',
    ]);
    expect(sim!.gateway.sessions()).toMatchObject([{ shardId: 0, shardCount: 1, connected: true }]);
  });

  it('rejects login with TokenInvalid when the token is wrong', async () => {
    await start();
    const { Client: DiscordClient } = await import('discord.js');
    const bad = new DiscordClient({ intents: [GatewayIntentBits.Guilds], rest: { api: sim!.apiBase } });
    await expect(bad.login('not-the-token')).rejects.toMatchObject({ code: 'TokenInvalid' });
    await bad.destroy();
    expect(sim!.requests).toMatchObject([{ route: '/gateway/bot', status: 401 }]);
  });

  it('receives a message, replies, and the simulator records the reply', async () => {
    await start();
    client = await readyClient(sim!);
    const seen: string[] = [];
    client.on(Events.MessageCreate, (message) => {
      seen.push(message.content);
      if (!message.author.bot && message.content === '!ping') void message.reply(`pong, ${message.author.username}`);
    });
    const ping = sim!.emit.messageCreate({ content: '!ping' });
    const reply = await sim!.waitForRequest(
      (request) => request.method === 'POST' && request.route === '/channels/:channel_id/messages',
    );
    expect(reply.params.channel_id).toBe(ping.channel_id);
    expect(reply.body).toMatchObject({
      content: `pong, ${ping.author.username}`,
      message_reference: { message_id: ping.id },
    });
    expect(reply.status).toBe(200);
    // The bot's own message comes back as MESSAGE_CREATE, like on Discord.
    await nextEvent<[Message]>(client, Events.MessageCreate, (message) => message.author.id === sim!.bot.id);
    expect(seen).toEqual(['!ping', `pong, ${ping.author.username}`]);
    expect(sim!.messages(ping.channel_id).map((message) => message.content)).toEqual([
      '!ping',
      `pong, ${ping.author.username}`,
    ]);
  });

  it('gives the client an empty content without the MessageContent intent, unless the bot is mentioned', async () => {
    await start();
    client = await readyClient(sim!, { intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages] });
    const received = nextEvent<[Message]>(client, Events.MessageCreate);
    sim!.emit.messageCreate({ content: 'private words' });
    expect((await received)[0].content).toBe('');
    const mention = nextEvent<[Message]>(client, Events.MessageCreate);
    sim!.emit.messageCreate({ content: `<@${sim!.bot.id}> hello` });
    const [message] = await mention;
    expect(message.content).toBe(`<@${sim!.bot.id}> hello`);
    expect(message.mentions.users.has(sim!.bot.id)).toBe(true);
  });

  it('registers slash commands and answers one through the interaction callback', async () => {
    await start();
    client = await readyClient(sim!);
    await client.application!.commands.set([
      {
        name: 'ban',
        description: 'Ban a member',
        options: [
          { type: ApplicationCommandOptionType.User, name: 'user', description: 'Who', required: true },
          { type: ApplicationCommandOptionType.String, name: 'reason', description: 'Why' },
          { type: ApplicationCommandOptionType.Integer, name: 'days', description: 'Purge days' },
        ],
      },
    ]);
    expect(sim!.requests.at(-1)).toMatchObject({
      method: 'PUT',
      route: '/applications/:application_id/commands',
      status: 200,
    });

    const { userId } = someone();
    const handled = nextEvent<[ChatInputCommandInteraction]>(client, Events.InteractionCreate);
    client.on(Events.InteractionCreate, (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      const user = interaction.options.getUser('user', true);
      void interaction.reply({
        content: `banned ${user.username} for ${interaction.options.getString('reason')} (${interaction.options.getInteger('days')}d)`,
      });
    });
    const interaction = sim!.emit.interaction({ command: 'ban', options: { user: userId, reason: 'spam', days: 2 } });
    const [received] = await handled;
    expect(received.commandName).toBe('ban');
    expect(received.guildId).toBe(sim!.guilds[0]!.id);
    expect(received.options.getMember('user')).toMatchObject({ id: userId });
    const response = await interaction.waitForResponse();
    expect(response).toMatchObject({
      kind: 'callback',
      type: 4,
      data: { content: `banned ${sim!.guilds[0]!.members.get(userId)!.user.username} for spam (2d)` },
    });
    expect(interaction.acknowledged).toBe(true);
    expect(sim!.requests.at(-1)).toMatchObject({
      method: 'POST',
      route: '/interactions/:interaction_id/:interaction_token/callback',
      status: 204,
    });
  });

  it('defers, edits the reply and follows up', async () => {
    await start();
    client = await readyClient(sim!);
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.editReply('working on it… done');
      await interaction.followUp({ content: 'one more thing' });
    });
    const interaction = sim!.emit.interaction({ command: 'report' });
    expect((await interaction.waitForResponse()).type).toBe(5);
    expect((await interaction.waitForResponse({ kind: 'editOriginal' })).message).toMatchObject({
      content: 'working on it… done',
      flags: MessageFlags.Ephemeral,
    });
    expect((await interaction.waitForResponse({ kind: 'followup' })).message).toMatchObject({
      content: 'one more thing',
    });
  });

  it('fetches the members of a large guild through op 8 chunks', async () => {
    await start({ guilds: [{ members: 60 }] });
    client = await readyClient(sim!);
    const guild = client.guilds.cache.first()!;
    expect(guild.large).toBe(true);
    expect(guild.members.cache.size).toBe(1);
    const members = await guild.members.fetch();
    expect(members.size).toBe(61);
  });

  it('sees joins, leaves, deletes and new guilds as client events', async () => {
    await start();
    client = await readyClient(sim!);
    const added = nextEvent<[GuildMember]>(client, Events.GuildMemberAdd);
    const member = sim!.emit.memberAdd({ username: 'newcomer' });
    expect((await added)[0].user.username).toBe('newcomer');

    const removed = nextEvent<[GuildMember]>(client, Events.GuildMemberRemove);
    sim!.emit.memberRemove({ user: member });
    expect((await removed)[0].id).toBe(member.user.id);

    const message = sim!.emit.messageCreate({ content: 'soon gone' });
    await nextEvent(client, Events.MessageCreate);
    const deleted = nextEvent<[Message]>(client, Events.MessageDelete);
    sim!.emit.messageDelete(message);
    expect((await deleted)[0].id).toBe(message.id);

    const joined = nextEvent<[{ id: string }]>(client, Events.GuildCreate);
    const guild = sim!.guild({ name: 'Fresh guild' });
    expect((await joined)[0].id).toBe(guild.id);
  });

  it('times out, gives roles, bans and changes verification; the simulator records it and echoes the events', async () => {
    await start({ botPermissions: DEFAULT_BOT_PERMISSIONS | Permission.ManageGuild });
    client = await readyClient(sim!);
    const { guildId, userId } = someone();
    const guild = client.guilds.cache.get(guildId)!;
    const member = guild.members.cache.get(userId)!;

    const updated = nextEvent<[GuildMember, GuildMember]>(
      client,
      Events.GuildMemberUpdate,
      (_old, now) => now.communicationDisabledUntilTimestamp !== null,
    );
    await member.timeout(10 * 60_000, 'flooding');
    const patch = sim!.requests.at(-1)!;
    expect(patch).toMatchObject({
      method: 'PATCH',
      route: '/guilds/:guild_id/members/:user_id',
      reason: 'flooding',
      status: 200,
    });
    expect(
      Date.parse((patch.body as { communication_disabled_until: string }).communication_disabled_until),
    ).toBeGreaterThan(Date.now() + 9 * 60_000);
    await updated;
    expect(guild.members.cache.get(userId)!.isCommunicationDisabled()).toBe(true);
    expect(sim!.guilds[0]!.members.get(userId)!.communication_disabled_until).not.toBeNull();

    const moderator = guild.roles.cache.find((role) => role.name === 'Moderator')!;
    await member.roles.add(moderator);
    expect(sim!.requests.at(-1)).toMatchObject({
      method: 'PUT',
      route: '/guilds/:guild_id/members/:user_id/roles/:role_id',
      params: { role_id: moderator.id },
      status: 204,
    });
    expect(sim!.guilds[0]!.members.get(userId)!.roles).toContain(moderator.id);

    const banned = nextEvent(client, Events.GuildBanAdd);
    await guild.bans.create(userId, { reason: 'raid', deleteMessageSeconds: 60 });
    expect(sim!.requests.at(-1)).toMatchObject({
      method: 'PUT',
      route: '/guilds/:guild_id/bans/:user_id',
      reason: 'raid',
      body: { delete_message_seconds: 60 },
    });
    await banned;
    expect(sim!.guilds[0]!.bans.has(userId)).toBe(true);

    await guild.setVerificationLevel(GuildVerificationLevel.VeryHigh);
    expect(sim!.guilds[0]!.verificationLevel).toBe(4);
    expect(guild.verificationLevel).toBe(GuildVerificationLevel.VeryHigh);
  });
});

describe('sharding', () => {
  it("connects the recommended shard count with shards: 'auto', each shard getting its own guilds", async () => {
    await start({ guilds: 8, shards: 2 });
    client = await readyClient(sim!, { shards: 'auto' });
    const sessions = sim!.gateway.sessions().sort((a, b) => a.shardId - b.shardId);
    expect(sessions.map((session) => [session.shardId, session.shardCount])).toEqual([
      [0, 2],
      [1, 2],
    ]);
    expect(client.guilds.cache.size).toBe(8);
    for (const guild of client.guilds.cache.values()) expect(guild.shardId).toBe(shardOf(guild.id, 2));
    expect(new Set(client.guilds.cache.map((guild) => guild.shardId))).toEqual(new Set([0, 1]));
  });
});

describe('gateway recovery', () => {
  it('resumes after a forced reconnect and gets the events it missed exactly once', async () => {
    await start({ guilds: 1 });
    client = await readyClient(sim!);
    const received: string[] = [];
    client.on(Events.MessageCreate, (message) => received.push(message.id));
    const [identified] = sim!.gateway.sessions();

    expect(sim!.gateway.reconnect()).toBe(1);
    await sim!.gateway.waitForDisconnect((event) => event.closedBy === 'client');
    const missed = sim!.emit.messageCreate({ content: 'sent while reconnecting' });
    const resumed = nextEvent(client, Events.ShardResume);
    const resume = await sim!.gateway.waitForResume();
    expect(resume).toMatchObject({ replayed: 1, session: { id: identified!.id, resumeCount: 1 } });
    await resumed;
    const live = sim!.emit.messageCreate({ content: 'after resume' });
    await nextEvent<[Message]>(client, Events.MessageCreate, (message) => message.id === live.id);
    expect(received).toEqual([missed.id, live.id]);
    expect(sim!.gateway.sessions()).toMatchObject([{ id: identified!.id, connected: true }]);
  });

  it('resumes when its heartbeats stop being acknowledged (zombie connection)', async () => {
    await start({ guilds: 1, heartbeatIntervalMs: 200 });
    client = await readyClient(sim!);
    const [identified] = sim!.gateway.sessions();
    expect(sim!.gateway.zombie()).toBe(1);
    const resume = await sim!.gateway.waitForResume(() => true, { timeoutMs: 10_000 });
    expect(resume.session.id).toBe(identified!.id);
    const disconnect = await sim!.gateway.waitForDisconnect();
    expect(disconnect).toMatchObject({ closedBy: 'client', code: 4200, resumable: true });
    const live = nextEvent<[Message]>(client, Events.MessageCreate);
    const message = sim!.emit.messageCreate({ content: 'alive again' });
    expect((await live)[0].id).toBe(message.id);
  });

  it('resumes on the same connection after a resumable invalid session', async () => {
    await start({ guilds: 1 });
    client = await readyClient(sim!);
    expect(sim!.gateway.invalidateSession({ resumable: true })).toBe(1);
    const resume = await sim!.gateway.waitForResume();
    expect(resume.session.resumeCount).toBe(1);
    expect(sim!.gateway.connectionCount).toBe(1);
  });

  it('identifies again after a non-resumable invalid session', async () => {
    await start({ guilds: 1 });
    client = await readyClient(sim!);
    const [first] = sim!.gateway.sessions();
    expect(sim!.gateway.invalidateSession()).toBe(1);
    // discord.js waits out its 5 s identify window before identifying the same shard again.
    const second = await sim!.gateway.waitForIdentify((session) => session.id !== first!.id, { timeoutMs: 15_000 });
    expect(second).toMatchObject({ shardId: 0, shardCount: 1 });
    const live = nextEvent<[Message]>(client, Events.MessageCreate);
    const message = sim!.emit.messageCreate({ content: 'new session' });
    expect((await live)[0].id).toBe(message.id);
  }, 20_000);
});

describe('REST rate limits', () => {
  it('waits for retry-after on a 429 and retries', async () => {
    await start();
    client = await readyClient(sim!);
    const channel = client.channels.cache.get(sim!.guilds[0]!.textChannels[0]!.id)!;
    if (!channel.isSendable()) throw new Error('expected a text channel');
    sim!.rest.rateLimitNext({ match: '/channels/:channel_id/messages', method: 'POST', retryAfterMs: 300 });
    const sent = await channel.send('patience');
    expect(sent.content).toBe('patience');
    const attempts = sim!.requests.filter((request) => request.route === '/channels/:channel_id/messages');
    expect(attempts.map((request) => request.status)).toEqual([429, 200]);
    expect(attempts[1]!.time - attempts[0]!.time).toBeGreaterThanOrEqual(300);
  });

  it('waits out a global 429 before the next request', async () => {
    await start();
    client = await readyClient(sim!);
    const channel = client.channels.cache.get(sim!.guilds[0]!.textChannels[0]!.id)!;
    if (!channel.isSendable()) throw new Error('expected a text channel');
    sim!.rest.rateLimitNext({ global: true, retryAfterMs: 300 });
    await channel.send('global');
    const attempts = sim!.requests.filter((request) => request.route === '/channels/:channel_id/messages');
    expect(attempts.map((request) => request.status)).toEqual([429, 200]);
    expect(attempts[1]!.time - attempts[0]!.time).toBeGreaterThanOrEqual(300);
  });

  it('spaces requests by the X-RateLimit headers so it never hits the limit', async () => {
    await start({ rateLimits: { limit: 1, windowMs: 300 } });
    client = await readyClient(sim!);
    const channel = client.channels.cache.get(sim!.guilds[0]!.textChannels[0]!.id)!;
    if (!channel.isSendable()) throw new Error('expected a text channel');
    await Promise.all(['a', 'b', 'c'].map((content) => channel.send(content)));
    const attempts = sim!.requests.filter((request) => request.route === '/channels/:channel_id/messages');
    expect(attempts.map((request) => request.status)).toEqual([200, 200, 200]);
    expect(attempts[1]!.time - attempts[0]!.time).toBeGreaterThanOrEqual(290);
    expect(attempts[2]!.time - attempts[1]!.time).toBeGreaterThanOrEqual(290);
  });
});
