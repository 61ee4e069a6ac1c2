import type { Client, Guild, TextChannel } from 'discord.js';
import {
  AttachmentBuilder,
  AuditLogEvent,
  ChannelType,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  PermissionFlagsBits,
} from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import { DEFAULT_BOT_PERMISSIONS, Permission, startDiscordSim } from '../../src/index.js';
import { api } from '../helpers/api.js';
import { ALL_TEST_INTENTS, nextEvent, readyClient } from '../helpers/discord.js';

let sim: DiscordSim | undefined;
let client: Client | undefined;

afterEach(async () => {
  await client?.destroy();
  client = undefined;
  await sim?.close();
  sim = undefined;
});

async function setup(options: DiscordSimOptions = {}): Promise<{ guild: Guild; channel: TextChannel }> {
  sim = await startDiscordSim({ guilds: [{ emojis: ['party'] }], ...options });
  client = await readyClient(sim, {
    intents: [
      ...ALL_TEST_INTENTS,
      GatewayIntentBits.GuildMessageReactions,
      GatewayIntentBits.GuildWebhooks,
      GatewayIntentBits.GuildInvites,
    ],
  });
  const guild = client.guilds.cache.get(sim.guilds[0]!.id)!;
  return { guild, channel: guild.channels.cache.get(sim.guilds[0]!.textChannels[0]!.id) as TextChannel };
}

async function rejection(promise: Promise<unknown>): Promise<DiscordAPIError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DiscordAPIError);
  return error as DiscordAPIError;
}

describe('reactions', () => {
  it("emits MESSAGE_REACTION_ADD for the bot's own reaction, lists who reacted and shows reactions on a fetched message", async () => {
    const { channel } = await setup();
    const message = await channel.send('vote');
    const added = nextEvent(
      client!,
      Events.MessageReactionAdd,
      (_reaction: unknown, user: { id: string }) => user.id === sim!.bot.id,
    );
    await message.react('👍');
    await added;
    const voter = [...sim!.guilds[0]!.members.values()].find((member) => !member.user.bot)!;
    const theirs = nextEvent(
      client!,
      Events.MessageReactionAdd,
      (_reaction: unknown, user: { id: string }) => user.id === voter.user.id,
    );
    sim!.emit.reactionAdd({ message: { channel: channel.id, id: message.id }, emoji: '👍', user: voter });
    await theirs;
    const fetched = await channel.messages.fetch({ message: message.id, force: true });
    const reaction = fetched.reactions.cache.get('👍')!;
    expect(reaction.count).toBe(2);
    expect(reaction.me).toBe(true);
    const users = await reaction.users.fetch();
    expect([...users.keys()].sort()).toEqual([sim!.bot.id, voter.user.id].sort());
    const removed = nextEvent(client!, Events.MessageReactionRemove);
    await reaction.users.remove(voter.user.id);
    await removed;
    expect(sim!.messages(channel.id).find((m) => m.id === message.id)!.reactions).toMatchObject([
      { count: 1, me: true },
    ]);
  });

  it('answers 10014 Unknown Emoji for a custom emoji that does not exist, accepts one of the guild', async () => {
    const { channel } = await setup();
    const message = await channel.send('react');
    expect((await rejection(message.react('<:nope:123456789012345678>'))).code).toBe(10014);
    expect((await rejection(message.react('notanemoji'))).code).toBe(10014);
    const party = sim!.guilds[0]!.emojis[0]!;
    await message.react(`<:party:${party.id}>`);
    expect(sim!.messages(channel.id).find((m) => m.id === message.id)!.reactions).toMatchObject([
      { emoji: { id: party.id, name: 'party' }, count: 1 },
    ]);
    expect(() => sim!.emit.reactionAdd({ message: { channel: channel.id, id: message.id }, emoji: 'x:1' })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_UNKNOWN_ENTITY' }),
    );
  });
});

describe('threads', () => {
  it('creates threads both ways, joins and leaves, and lists active and archived ones', async () => {
    const { guild, channel } = await setup();
    const created = nextEvent(client!, Events.ThreadCreate);
    const standalone = await channel.threads.create({ name: 'planning', type: ChannelType.PublicThread });
    expect((await created)[0]).toMatchObject({ id: standalone.id, name: 'planning' });
    const starter = await channel.send('discuss here');
    const fromMessage = await starter.startThread({ name: 'discussion' });
    expect(fromMessage.id).toBe(starter.id);
    await fromMessage.send('in the thread');
    expect(sim!.messages(fromMessage.id).map((m) => m.content)).toEqual(['in the thread']);

    await fromMessage.leave();
    expect((await api(sim!, 'GET', `/channels/${fromMessage.id}/thread-members`)).body).toEqual([]);
    await fromMessage.join();
    const member = [...sim!.guilds[0]!.members.values()].find((m) => !m.user.bot)!;
    await fromMessage.members.add(member.user.id);
    expect((await fromMessage.members.fetch()).size).toBe(2);

    const active = await guild.channels.fetchActiveThreads();
    expect([...active.threads.keys()].sort()).toEqual([standalone.id, fromMessage.id].sort());
    await standalone.setArchived(true);
    const archived = await channel.threads.fetchArchived();
    expect([...archived.threads.keys()]).toEqual([standalone.id]);
    expect(sim!.guilds[0]!.threads.map((thread) => thread.id)).toContain(standalone.id);
  });
});

describe('pins, roles, channels, overwrites, webhooks, invites, attachments', () => {
  it('pins with PUT /channels/{c}/messages/pins/{m} and fetches the pins', async () => {
    const { channel } = await setup();
    const message = await channel.send('important');
    const pinsUpdate = nextEvent(client!, Events.ChannelPinsUpdate);
    await message.pin();
    await pinsUpdate;
    expect(
      sim!.requests.some((r) => r.method === 'PUT' && r.route === '/channels/:channel_id/messages/pins/:message_id'),
    ).toBe(true);
    const pins = await channel.messages.fetchPins();
    expect(pins.items.map((item) => item.message.id)).toEqual([message.id]);
    await message.unpin();
    expect((await channel.messages.fetchPins()).items).toEqual([]);
  });

  it('creates, edits and deletes a role with the gateway events, refusing permissions the bot lacks', async () => {
    const { guild } = await setup();
    const created = nextEvent(client!, Events.GuildRoleCreate);
    const role = await guild.roles.create({ name: 'Helpers', permissions: [PermissionFlagsBits.ManageMessages] });
    await created;
    expect(sim!.guilds[0]!.role('Helpers')).toMatchObject({ position: 1 });
    const updated = nextEvent(client!, Events.GuildRoleUpdate);
    await role.edit({ name: 'Helpers+' });
    await updated;
    expect((await rejection(role.setPermissions([PermissionFlagsBits.Administrator]))).code).toBe(50013);
    const deleted = nextEvent(client!, Events.GuildRoleDelete);
    await role.delete();
    await deleted;
    expect(sim!.guilds[0]!.roles.some((r) => r.name === 'Helpers+')).toBe(false);
  });

  it('creates and edits a channel and its permission overwrites', async () => {
    const { guild } = await setup();
    const created = nextEvent(client!, Events.ChannelCreate);
    const channel = await guild.channels.create({ name: 'staff', type: ChannelType.GuildText });
    await created;
    const updated = nextEvent(client!, Events.ChannelUpdate);
    await channel.setTopic('for staff');
    await updated;
    await channel.permissionOverwrites.edit(guild.roles.everyone, { SendMessages: false });
    expect(sim!.guilds[0]!.channel('staff')).toMatchObject({
      topic: 'for staff',
      permission_overwrites: [{ id: guild.id, type: 0, deny: String(PermissionFlagsBits.SendMessages) }],
    });
    // The @everyone overwrite applies to the bot too, as on Discord.
    expect((await rejection(channel.send('locked out'))).code).toBe(50013);
    await channel.permissionOverwrites.edit(guild.roles.everyone, { ViewChannel: false });
    expect((await rejection(channel.setTopic('x'))).code).toBe(50001);
    sim!.guilds[0]!.channel('staff').permission_overwrites = [];
    await channel.delete();
    expect(sim!.guilds[0]!.channels.some((c) => c.name === 'staff')).toBe(false);
  });

  it('creates a webhook and executes it; the message is authored by the webhook', async () => {
    const { channel } = await setup();
    const updated = nextEvent(client!, Events.WebhooksUpdate);
    const webhook = await channel.createWebhook({ name: 'Announcer' });
    await updated;
    const sent = await webhook.send({ content: 'hello from a webhook' });
    expect(sent.webhookId).toBe(webhook.id);
    expect(sent.author.username).toBe('Announcer');
    expect((await rejection(channel.createWebhook({ name: 'discord helper' }))).code).toBe(50035);
  });

  it('creates an invite (INVITE_CREATE) and fetches it', async () => {
    const { channel } = await setup();
    const created = nextEvent(client!, Events.InviteCreate);
    const invite = await channel.createInvite({ maxAge: 3600, maxUses: 5 });
    await created;
    expect(invite).toMatchObject({ maxAge: 3600, maxUses: 5, channelId: channel.id });
    expect((await client!.fetchInvite(invite.code)).code).toBe(invite.code);
  });

  it('returns uploaded attachments with URLs the simulator serves', async () => {
    const { channel } = await setup();
    const sent = await channel.send({
      files: [new AttachmentBuilder(Buffer.from('hello file'), { name: 'note.txt' })],
    });
    const attachment = sent.attachments.first()!;
    expect(attachment).toMatchObject({ name: 'note.txt', size: 10 });
    const download = await fetch(attachment.url);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('hello file');
    expect((await fetch(`${attachment.url}x`)).status).toBe(200); // the id decides, as on Discord's CDN
    expect((await fetch(attachment.url.replace(attachment.id, '1'))).status).toBe(404);
  });

  it('records what the bot did in the audit log, with GUILD_AUDIT_LOG_ENTRY_CREATE', async () => {
    const { guild } = await setup();
    const victim = [...sim!.guilds[0]!.members.values()].find(
      (m) => !m.user.bot && m.user.id !== sim!.guilds[0]!.ownerId,
    )!;
    const entry = nextEvent(client!, Events.GuildAuditLogEntryCreate);
    await guild.members.kick(victim.user.id, 'spam');
    const [created] = (await entry) as [{ action: number; targetId: string; reason: string }];
    expect(created).toMatchObject({ action: AuditLogEvent.MemberKick, targetId: victim.user.id, reason: 'spam' });
    const logs = await guild.fetchAuditLogs({ type: AuditLogEvent.MemberKick });
    expect(logs.entries.first()).toMatchObject({ action: AuditLogEvent.MemberKick, targetId: victim.user.id });
  });

  it('refuses the audit log without View Audit Log', async () => {
    const { guild } = await setup({ botPermissions: DEFAULT_BOT_PERMISSIONS & ~Permission.ViewAuditLog });
    expect((await rejection(guild.fetchAuditLogs())).code).toBe(50013);
  });
});

describe('405 and 404', () => {
  it('answers 405 for a method a known path lacks and 404 for an unknown path', async () => {
    sim = await startDiscordSim();
    const channel = sim.guilds[0]!.textChannels[0]!.id;
    expect((await api(sim, 'POST', `/channels/${channel}`)).status).toBe(405);
    expect((await api(sim, 'PUT', `/channels/${channel}/messages`)).status).toBe(405);
    expect((await api(sim, 'GET', `/channels/${channel}/nothing-here`)).status).toBe(404);
    for (const [method, path] of [
      ['POST', `/channels/${channel}/threads`],
      ['POST', `/guilds/${sim.guilds[0]!.id}/roles`],
      ['POST', `/guilds/${sim.guilds[0]!.id}/channels`],
      ['PATCH', `/channels/${channel}`],
    ] as const) {
      expect((await api(sim, method, path, { body: {} })).status).not.toBe(405);
    }
  });
});
