import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import { GatewayIntent, startDiscordSim } from '../../src/index.js';
import { api } from '../helpers/api.js';
import { GatewayTestClient } from '../helpers/GatewayTestClient.js';

let sim: DiscordSim | undefined;
const clients: GatewayTestClient[] = [];

async function start(options: DiscordSimOptions = {}): Promise<DiscordSim> {
  sim = await startDiscordSim({ guilds: 1, ...options });
  return sim;
}

async function session(
  intents = GatewayIntent.Guilds |
    GatewayIntent.GuildMembers |
    GatewayIntent.GuildMessages |
    GatewayIntent.MessageContent,
): Promise<GatewayTestClient> {
  const client = await GatewayTestClient.connect(sim!.gatewayUrl);
  clients.push(client);
  client.identify(sim!.token, { intents });
  await client.dispatch('READY');
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await sim?.close();
  sim = undefined;
});

const unknownEntity = expect.objectContaining({ code: 'ERR_DISCORD_SIM_UNKNOWN_ENTITY' });
const invalidOption = expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' });

describe('sim.emit messages', () => {
  it('posts in the first text channel, as a member who is not a bot, by default', async () => {
    await start();
    const guild = sim!.guilds[0]!;
    const message = sim!.emit.messageCreate();
    expect(message).toMatchObject({
      channel_id: guild.textChannels[0]!.id,
      guild_id: guild.id,
      content: 'hello',
      type: 0,
    });
    expect(message.author.bot).toBeUndefined();
    expect(guild.members.has(message.author.id)).toBe(true);
    expect(message.member?.roles).toEqual(guild.members.get(message.author.id)!.roles);
    expect(sim!.emit.lastDelivered).toBe(0);
  });

  it('takes the channel, author and reply target given, by object or id', async () => {
    await start({ guilds: [{ channels: ['general', 'memes'] }] });
    const guild = sim!.guilds[0]!;
    const memes = guild.channel('memes');
    const author = [...guild.members.values()][2]!;
    const first = sim!.emit.messageCreate({ channel: memes.id, author, content: 'look' });
    const reply = sim!.emit.messageCreate({
      channel: memes,
      author: author.user.id,
      content: 'nice',
      replyTo: first.id,
    });
    expect(first).toMatchObject({ channel_id: memes.id, author: { id: author.user.id } });
    expect(reply).toMatchObject({
      type: 19,
      message_reference: { message_id: first.id },
      referenced_message: { id: first.id },
    });
  });

  it('edits and deletes messages with MESSAGE_UPDATE and MESSAGE_DELETE', async () => {
    await start();
    const client = await session();
    const message = sim!.emit.messageCreate({ content: 'v1' });
    sim!.emit.messageUpdate(message, { content: 'v2' });
    sim!.emit.messageDelete({ channel: message.channel_id, id: message.id });
    expect((await client.dispatch('MESSAGE_UPDATE')).d).toMatchObject({
      id: message.id,
      content: 'v2',
      edited_timestamp: expect.any(String),
    });
    expect((await client.dispatch('MESSAGE_DELETE')).d).toEqual({
      id: message.id,
      channel_id: message.channel_id,
      guild_id: sim!.guilds[0]!.id,
    });
    expect(() => sim!.emit.messageDelete(message)).toThrow(unknownEntity);
  });

  it('throws ERR_DISCORD_SIM_UNKNOWN_ENTITY for unknown guilds, channels, users and reply targets', async () => {
    await start();
    expect(() => sim!.emit.messageCreate({ guild: '123456789012345678' })).toThrow(unknownEntity);
    expect(() => sim!.emit.messageCreate({ channel: '123456789012345678' })).toThrow(unknownEntity);
    expect(() => sim!.emit.messageCreate({ author: '123456789012345678' })).toThrow(unknownEntity);
    expect(() => sim!.emit.messageCreate({ replyTo: '123456789012345678' })).toThrow(unknownEntity);
  });

  it('throws ERR_DISCORD_SIM_UNKNOWN_ENTITY when there is no guild or nobody but the bot to speak', async () => {
    await start({ guilds: 0 });
    expect(() => sim!.emit.messageCreate()).toThrow(unknownEntity);
    sim!.guild({ members: 0 });
    expect(() => sim!.emit.messageCreate()).toThrow(unknownEntity);
  });
});

describe('sim.emit members', () => {
  it('adds a new or an existing user, updates and removes members, dispatching each change', async () => {
    await start({ guilds: 2 });
    const client = await session();
    const first = sim!.guilds[0]!;
    const second = sim!.guilds[1]!;
    const joined = sim!.emit.memberAdd({ guild: first, username: 'newbie', roles: ['Member'] });
    expect(joined).toMatchObject({ user: { username: 'newbie' }, roles: [first.role('Member').id] });
    const again = sim!.emit.memberAdd({ guild: second, user: joined });
    expect(again.user).toBe(joined.user);
    expect(() => sim!.emit.memberAdd({ guild: second, user: joined })).toThrow(invalidOption);

    sim!.emit.memberUpdate({ guild: first, user: joined, nick: 'Newbie', roles: ['Moderator'] });
    expect(first.members.get(joined.user.id)).toMatchObject({ nick: 'Newbie', roles: [first.role('Moderator').id] });
    sim!.emit.memberRemove({ guild: first, user: joined.user.id });
    expect(first.members.has(joined.user.id)).toBe(false);
    expect(() => sim!.emit.memberRemove({ guild: first, user: joined })).toThrow(unknownEntity);

    expect((await client.dispatch('GUILD_MEMBER_ADD')).d).toMatchObject({
      guild_id: first.id,
      user: { id: joined.user.id },
    });
    expect((await client.dispatch('GUILD_MEMBER_ADD')).d).toMatchObject({ guild_id: second.id });
    expect((await client.dispatch('GUILD_MEMBER_UPDATE')).d).toMatchObject({ nick: 'Newbie' });
    expect((await client.dispatch('GUILD_MEMBER_REMOVE')).d).toEqual({ guild_id: first.id, user: joined.user });
  });
});

describe('sim.emit.interaction', () => {
  it('infers option types from the values of an unregistered command', async () => {
    await start();
    const interaction = sim!.emit.interaction({
      command: 'roll',
      options: { sides: 6, label: 'd6', fair: true, weight: 0.5 },
    });
    expect((interaction.payload.data as any).options).toEqual([
      { name: 'sides', type: 4, value: 6 },
      { name: 'label', type: 3, value: 'd6' },
      { name: 'fair', type: 5, value: true },
      { name: 'weight', type: 10, value: 0.5 },
    ]);
  });

  it('takes types from the registered command and resolves users, members, channels and roles', async () => {
    await start();
    const guild = sim!.guilds[0]!;
    await api(sim!, 'PUT', `/applications/${sim!.applicationId}/commands`, {
      body: [
        {
          name: 'mod',
          description: 'Moderate',
          options: [
            {
              type: 1,
              name: 'timeout',
              description: 'Time out',
              options: [
                { type: 6, name: 'target', description: 'Who' },
                { type: 7, name: 'where', description: 'Where' },
                { type: 8, name: 'role', description: 'Role' },
              ],
            },
          ],
        },
      ],
    });
    const target = [...guild.members.values()][1]!;
    const channel = guild.textChannels[0]!;
    const role = guild.role('Moderator');
    const interaction = sim!.emit.interaction({
      command: 'mod',
      subcommand: 'timeout',
      options: { target: target.user.id, where: channel.id, role: role.id },
    });
    const data = interaction.payload.data as any;
    expect(data.id).toBe((sim!.requests.at(-1)!.response as any[])[0].id);
    expect(data.options).toEqual([
      {
        name: 'timeout',
        type: 1,
        options: [
          { name: 'target', type: 6, value: target.user.id },
          { name: 'where', type: 7, value: channel.id },
          { name: 'role', type: 8, value: role.id },
        ],
      },
    ]);
    expect(data.resolved.users[target.user.id]).toEqual(target.user);
    expect(data.resolved.members[target.user.id]).toMatchObject({
      roles: target.roles,
      permissions: expect.any(String),
    });
    expect(data.resolved.channels[channel.id]).toMatchObject({ id: channel.id, type: 0 });
    expect(data.resolved.roles[role.id]).toEqual(role);
  });

  it('accepts explicit option types, raw option arrays and subcommand groups', async () => {
    await start();
    const guild = sim!.guilds[0]!;
    const user = [...guild.members.values()][1]!.user;
    const typed = sim!.emit.interaction({
      command: 'ban',
      subcommandGroup: 'temp',
      subcommand: 'add',
      options: { user: { type: 'user', value: user.id } },
    });
    expect((typed.payload.data as any).options).toEqual([
      {
        name: 'temp',
        type: 2,
        options: [{ name: 'add', type: 1, options: [{ name: 'user', type: 6, value: user.id }] }],
      },
    ]);
    const raw = sim!.emit.interaction({ command: 'echo', options: [{ name: 'text', type: 3, value: 'hi' }] });
    expect((raw.payload.data as any).options).toEqual([{ name: 'text', type: 3, value: 'hi' }]);
  });

  it('sends INTERACTION_CREATE with what discord.js needs, to the shard of the guild', async () => {
    await start();
    const client = await session(GatewayIntent.Guilds);
    const interaction = sim!.emit.interaction({ command: 'ping' });
    expect(sim!.emit.lastDelivered).toBe(1);
    const dispatch = await client.dispatch('INTERACTION_CREATE');
    expect(dispatch.d).toMatchObject({
      id: interaction.id,
      token: interaction.token,
      type: 2,
      application_id: sim!.applicationId,
      guild_id: sim!.guilds[0]!.id,
      channel: { id: interaction.channelId },
      member: { user: { id: interaction.userId }, permissions: expect.any(String) },
      app_permissions: expect.any(String),
      entitlements: [],
      authorizing_integration_owners: { '0': sim!.guilds[0]!.id },
      data: { name: 'ping', type: 1 },
    });
  });

  it('throws for an empty command (INVALID_OPTION), unknown option targets and non-member users (UNKNOWN_ENTITY)', async () => {
    await start();
    expect(() => sim!.emit.interaction({ command: '' })).toThrow(invalidOption);
    expect(() =>
      sim!.emit.interaction({ command: 'x', options: { user: { type: 'user', value: '123456789012345678' } } }),
    ).toThrow(unknownEntity);
    expect(() =>
      sim!.emit.interaction({ command: 'x', options: { c: { type: 'channel', value: '123456789012345678' } } }),
    ).toThrow(unknownEntity);
    expect(() =>
      sim!.emit.interaction({ command: 'x', options: { r: { type: 'role', value: '123456789012345678' } } }),
    ).toThrow(unknownEntity);
    expect(() =>
      sim!.emit.interaction({ command: 'x', options: { m: { type: 'mentionable', value: '123456789012345678' } } }),
    ).toThrow(unknownEntity);
    expect(() => sim!.emit.interaction({ command: 'x', options: { t: { type: 'bogus' as never, value: 1 } } })).toThrow(
      invalidOption,
    );
    const stranger = sim!.user();
    expect(() => sim!.emit.interaction({ command: 'x', user: stranger })).toThrow(unknownEntity);
  });

  it('rejects waitForResponse with ERR_DISCORD_SIM_WAIT_TIMEOUT when the bot never answers', async () => {
    await start();
    const interaction = sim!.emit.interaction({ command: 'ignored' });
    await expect(interaction.waitForResponse({ timeoutMs: 20 })).rejects.toMatchObject({
      code: 'ERR_DISCORD_SIM_WAIT_TIMEOUT',
    });
  });
});

describe('sim.emit.dispatch', () => {
  it('sends any event to the shard of a guild, or to shard 0 without one', async () => {
    await start({ guilds: 6 });
    const shardOf = (id: string): number => Number((BigInt(id) >> 22n) % 2n);
    const shard1Guild = sim!.guilds.find((guild) => shardOf(guild.id) === 1)!;
    const shard0 = await GatewayTestClient.connect(sim!.gatewayUrl);
    clients.push(shard0);
    shard0.identify(sim!.token, { shard: [0, 2] });
    await shard0.dispatch('READY');
    expect(sim!.emit.dispatch('MESSAGE_REACTION_ADD', { emoji: { name: '👍' } }, { guild: shard1Guild })).toBe(0);
    expect(sim!.emit.dispatch('PRESENCE_UPDATE', { status: 'online' })).toBe(1);
    expect((await shard0.dispatch('PRESENCE_UPDATE')).d).toEqual({ status: 'online' });
    expect(() => sim!.emit.dispatch('lower case', {})).toThrow(invalidOption);
  });

  it('throws ERR_DISCORD_SIM_CLOSED once the simulator is closed', async () => {
    await start();
    await sim!.close();
    expect(() => sim!.emit.messageCreate()).toThrow(expect.objectContaining({ code: 'ERR_DISCORD_SIM_CLOSED' }));
    expect(() => sim!.guild()).toThrow(expect.objectContaining({ code: 'ERR_DISCORD_SIM_CLOSED' }));
  });
});
