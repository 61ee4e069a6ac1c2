import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions, GuildSpec, SimGuild } from '../../src/index.js';
import { DEFAULT_BOT_PERMISSIONS, Permission, startDiscordSim } from '../../src/index.js';
import { api } from '../helpers/api.js';

let sim: DiscordSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(spec: GuildSpec = {}, options: DiscordSimOptions = {}): Promise<SimGuild> {
  sim = await startDiscordSim({ guilds: [spec], rateLimits: false, ...options });
  return sim.guilds[0]!;
}

/** A member that is neither the owner nor the bot, optionally with roles. */
function target(guild: SimGuild, index = 0): string {
  return [...guild.members.values()].filter((m) => !m.user.bot && m.user.id !== guild.ownerId)[index]!.user.id;
}

const botRole = (guild: SimGuild) => guild.roles.find((role) => role.tags?.bot_id === sim!.bot.id)!;
const expect403 = (code: number) => ({ status: 403, body: { code } });
const timeoutBody = () => ({ communication_disabled_until: new Date(Date.now() + 60_000).toISOString() });

describe('the bot role', () => {
  it('has the invite permissions by default, not Administrator', async () => {
    const guild = await start();
    expect(BigInt(botRole(guild).permissions)).toBe(DEFAULT_BOT_PERMISSIONS);
    expect(DEFAULT_BOT_PERMISSIONS & Permission.Administrator).toBe(0n);
    for (const bit of [
      Permission.ModerateMembers,
      Permission.BanMembers,
      Permission.KickMembers,
      Permission.ManageMessages,
      Permission.ManageRoles,
      Permission.SendMessages,
      Permission.ViewChannel,
    ]) {
      expect(DEFAULT_BOT_PERMISSIONS & bit).toBe(bit);
    }
    expect(botRole(guild).position).toBe(guild.roles.length - 1);
  });

  it('takes its permissions from the `botPermissions` option and a guild spec, and its position from `botRolePosition`', async () => {
    sim = await startDiscordSim({
      botPermissions: Permission.SendMessages | Permission.ViewChannel,
      guilds: [{}, { botPermissions: '8', botRolePosition: 1 }],
    });
    const [first, second] = sim.guilds as [SimGuild, SimGuild];
    expect(botRole(first).permissions).toBe(String(Permission.SendMessages | Permission.ViewChannel));
    expect(botRole(second)).toMatchObject({ permissions: '8', position: 1 });
    expect(second.roles.map((role) => role.position)).toEqual(second.roles.map((_, index) => index));
  });

  it.each([
    ['botPermissions', { botPermissions: 'all' }],
    ['botPermissions', { botPermissions: -1n }],
  ])('rejects an invalid `%s` with ERR_DISCORD_SIM_INVALID_OPTION', async (name, options) => {
    await expect(startDiscordSim(options as DiscordSimOptions)).rejects.toMatchObject({
      code: 'ERR_DISCORD_SIM_INVALID_OPTION',
      message: expect.stringContaining(`\`${name}\``),
    });
  });

  it('rejects a `botRolePosition` outside the roles', async () => {
    await expect(startDiscordSim({ guilds: [{ botRolePosition: 0 }] })).rejects.toMatchObject({
      code: 'ERR_DISCORD_SIM_INVALID_OPTION',
    });
  });
});

describe('permissions enforced with 403 50013 (50001 without View Channel)', () => {
  it('refuses a kick after the bot role lost Kick Members', async () => {
    const guild = await start({ botPermissions: DEFAULT_BOT_PERMISSIONS & ~Permission.KickMembers });
    expect(await api(sim!, 'DELETE', `/guilds/${guild.id}/members/${target(guild)}`)).toMatchObject(expect403(50013));
  });

  it('refuses a kick once the bot has no role left (stripped by a scenario)', async () => {
    const guild = await start();
    const victim = target(guild);
    expect((await api(sim!, 'DELETE', `/guilds/${guild.id}/members/${victim}`)).status).toBe(204);
    sim!.emit.memberUpdate({ guild, user: sim!.bot.id, roles: [] });
    expect(await api(sim!, 'DELETE', `/guilds/${guild.id}/members/${target(guild)}`)).toMatchObject(expect403(50013));
  });

  it.each([
    ['ban without Ban Members', Permission.BanMembers, 'PUT', (g: SimGuild) => `/guilds/${g.id}/bans/${target(g)}`, {}],
    [
      'timeout without Moderate Members',
      Permission.ModerateMembers,
      'PATCH',
      (g: SimGuild) => `/guilds/${g.id}/members/${target(g)}`,
      timeoutBody(),
    ],
    [
      'nickname without Manage Nicknames',
      Permission.ManageNicknames,
      'PATCH',
      (g: SimGuild) => `/guilds/${g.id}/members/${target(g)}`,
      { nick: 'x' },
    ],
    [
      'role change without Manage Roles',
      Permission.ManageRoles,
      'PUT',
      (g: SimGuild) => `/guilds/${g.id}/members/${target(g)}/roles/${g.role('Member').id}`,
      undefined,
    ],
    [
      'list of bans without Ban Members',
      Permission.BanMembers,
      'GET',
      (g: SimGuild) => `/guilds/${g.id}/bans`,
      undefined,
    ],
    [
      'delete of a user message without Manage Messages',
      Permission.ManageMessages,
      'DELETE',
      (g: SimGuild) => `/channels/${g.textChannels[0]!.id}/messages/${sim!.emit.messageCreate({ guild: g }).id}`,
      undefined,
    ],
    [
      'bulk delete without Manage Messages',
      Permission.ManageMessages,
      'POST',
      (g: SimGuild) => `/channels/${g.textChannels[0]!.id}/messages/bulk-delete`,
      { messages: ['1', '2'] },
    ],
    [
      'send without Send Messages',
      Permission.SendMessages,
      'POST',
      (g: SimGuild) => `/channels/${g.textChannels[0]!.id}/messages`,
      { content: 'x' },
    ],
    ['guild edit without Manage Server', 0n, 'PATCH', (g: SimGuild) => `/guilds/${g.id}`, { name: 'New name' }],
  ])('refuses a %s', async (_name, removed, method, path, body) => {
    const guild = await start({ botPermissions: DEFAULT_BOT_PERMISSIONS & ~removed });
    guild.roles[0]!.permissions = String(Permission.ViewChannel); // @everyone gives nothing else here
    expect(await api(sim!, method, path(guild), body === undefined ? {} : { body })).toMatchObject(expect403(50013));
  });

  it('lets Administrator do everything, overwrites included', async () => {
    const guild = await start({
      botPermissions: Permission.Administrator,
      channels: [{ name: 'locked' }],
    });
    const channel = guild.textChannels[0]!;
    channel.permission_overwrites = [
      { id: guild.id, type: 0, allow: '0', deny: String(Permission.ViewChannel | Permission.SendMessages) },
    ];
    expect((await api(sim!, 'POST', `/channels/${channel.id}/messages`, { body: { content: 'x' } })).status).toBe(200);
    expect((await api(sim!, 'PATCH', `/guilds/${guild.id}`, { body: { name: 'Renamed' } })).status).toBe(200);
  });

  it('applies channel overwrites in order: @everyone, then roles, then the member', async () => {
    const guild = await start({ channels: ['general'] });
    const channel = guild.textChannels[0]!;
    const path = `/channels/${channel.id}/messages`;
    const role = botRole(guild);
    // An @everyone overwrite applies to the permissions of every role, the bot's included.
    channel.permission_overwrites = [{ id: guild.id, type: 0, allow: '0', deny: String(Permission.ViewChannel) }];
    expect(await api(sim!, 'POST', path, { body: { content: 'a' } })).toMatchObject(expect403(50001));
    channel.permission_overwrites.push({
      id: role.id,
      type: 0,
      allow: String(Permission.ViewChannel),
      deny: String(Permission.SendMessages),
    });
    expect(await api(sim!, 'POST', path, { body: { content: 'b' } })).toMatchObject(expect403(50013));
    channel.permission_overwrites.push({ id: sim!.bot.id, type: 1, allow: String(Permission.SendMessages), deny: '0' });
    expect((await api(sim!, 'POST', path, { body: { content: 'c' } })).status).toBe(200);
    channel.permission_overwrites = [{ id: role.id, type: 0, allow: '0', deny: String(Permission.ViewChannel) }];
    expect(await api(sim!, 'POST', path, { body: { content: 'd' } })).toMatchObject(expect403(50001));
    expect(await api(sim!, 'GET', `/channels/${channel.id}`)).toMatchObject(expect403(50001));
  });

  it('answers an empty history without Read Message History', async () => {
    const guild = await start({ botPermissions: DEFAULT_BOT_PERMISSIONS & ~Permission.ReadMessageHistory });
    guild.roles[0]!.permissions = String(Permission.ViewChannel);
    const channel = guild.textChannels[0]!;
    sim!.emit.messageCreate({ channel });
    expect((await api(sim!, 'GET', `/channels/${channel.id}/messages`)).body).toEqual([]);
  });

  it('takes @everyone permissions into account for a bot without roles', async () => {
    const guild = await start({ botPermissions: 0n });
    const channel = guild.textChannels[0]!;
    // @everyone of a generated guild may view and send.
    expect((await api(sim!, 'POST', `/channels/${channel.id}/messages`, { body: { content: 'x' } })).status).toBe(200);
    expect(await api(sim!, 'DELETE', `/guilds/${guild.id}/members/${target(guild)}`)).toMatchObject(expect403(50013));
  });
});

describe('role hierarchy', () => {
  it('refuses to kick, ban, time out or rename a member whose highest role is at or above the bot', async () => {
    const guild = await start({
      roles: ['Moderator', 'Member'],
      botRolePosition: 1,
      members: [{ roles: ['Moderator'] }, { roles: [] }],
    });
    const moderator = [...guild.members.values()].find((m) => m.roles.includes(guild.role('Moderator').id))!.user.id;
    const plain = [...guild.members.values()].find(
      (m) => !m.user.bot && m.roles.length === 0 && m.user.id !== guild.ownerId,
    )!.user.id;
    expect(await api(sim!, 'DELETE', `/guilds/${guild.id}/members/${moderator}`)).toMatchObject(expect403(50013));
    expect(await api(sim!, 'PUT', `/guilds/${guild.id}/bans/${moderator}`)).toMatchObject(expect403(50013));
    expect(await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${moderator}`, { body: timeoutBody() })).toMatchObject(
      expect403(50013),
    );
    expect(await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${moderator}`, { body: { nick: 'x' } })).toMatchObject(
      expect403(50013),
    );
    expect((await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${plain}`, { body: timeoutBody() })).status).toBe(
      200,
    );
    expect(guild.members.get(moderator)!.communication_disabled_until).toBeNull();
  });

  it('refuses to give or take a role at or above its own, and its own managed role', async () => {
    const guild = await start({ roles: ['Low', 'High'], botRolePosition: 2 });
    const user = target(guild);
    const low = guild.role('Low');
    const high = guild.role('High');
    expect(high.position).toBeGreaterThan(botRole(guild).position);
    expect((await api(sim!, 'PUT', `/guilds/${guild.id}/members/${user}/roles/${low.id}`)).status).toBe(204);
    expect(await api(sim!, 'PUT', `/guilds/${guild.id}/members/${user}/roles/${high.id}`)).toMatchObject(
      expect403(50013),
    );
    expect(await api(sim!, 'PUT', `/guilds/${guild.id}/members/${user}/roles/${botRole(guild).id}`)).toMatchObject(
      expect403(50013),
    );
    expect(
      await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${user}`, { body: { roles: [low.id, high.id] } }),
    ).toMatchObject(expect403(50013));
    expect(guild.members.get(user)!.roles).toEqual([low.id]);
  });

  it('never acts on the owner, and refuses to time out an administrator', async () => {
    const guild = await start({
      roles: [{ name: 'Admin', permissions: Permission.Administrator }],
      members: [{ roles: ['Admin'] }, {}],
    });
    const admin = [...guild.members.values()].find((m) => m.roles.includes(guild.role('Admin').id))!.user.id;
    expect(await api(sim!, 'DELETE', `/guilds/${guild.id}/members/${guild.ownerId}`)).toMatchObject(expect403(50013));
    expect(await api(sim!, 'PUT', `/guilds/${guild.id}/bans/${guild.ownerId}`)).toMatchObject(expect403(50013));
    expect(await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${admin}`, { body: timeoutBody() })).toMatchObject(
      expect403(50013),
    );
  });

  it('lets the bot change its own nickname with Change Nickname', async () => {
    const guild = await start();
    expect((await api(sim!, 'PATCH', `/guilds/${guild.id}/members/@me`, { body: { nick: 'Robo' } })).status).toBe(200);
  });
});
