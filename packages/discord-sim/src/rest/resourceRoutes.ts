import type { GuildState } from '../world/GuildState.js';
import { Permission } from '../world/permissions.js';
import type {
  ApiChannel,
  ApiInvite,
  ApiMessage,
  ApiOverwrite,
  ApiReactionEmoji,
  ApiRole,
  ApiThreadMember,
  ApiUser,
  ApiWebhook,
} from '../world/types.js';
import type { World } from '../world/World.js';
import { THREAD_TYPES } from '../world/World.js';
import type { RouteContext, RouteDefinition } from './context.js';
import { attachmentsFor, channelFor, guildOf, isResult, messageOf, record, validateMessageBody } from './context.js';
import { botPermissions, canManageRole, missingAccess, requirePermissions } from './guards.js';
import type { RouteResult } from './responses.js';
import { apiError, missingPermissions, noContent, ok, unknown } from './responses.js';
import { FormErrors } from './validation.js';

/** Audit log action types (Discord's numbers) the simulator records. */
export const AuditLogEvent = {
  GuildUpdate: 1,
  ChannelCreate: 10,
  ChannelUpdate: 11,
  ChannelDelete: 12,
  ChannelOverwriteCreate: 13,
  ChannelOverwriteUpdate: 14,
  ChannelOverwriteDelete: 15,
  MemberKick: 20,
  MemberBanAdd: 22,
  MemberBanRemove: 23,
  MemberUpdate: 24,
  MemberRoleUpdate: 25,
  RoleCreate: 30,
  RoleUpdate: 31,
  RoleDelete: 32,
  InviteCreate: 40,
  InviteDelete: 42,
  WebhookCreate: 50,
  WebhookUpdate: 51,
  WebhookDelete: 52,
  MessageDelete: 72,
  MessageBulkDelete: 73,
  MessagePin: 74,
  MessageUnpin: 75,
  ThreadCreate: 110,
  ThreadUpdate: 111,
  ThreadDelete: 112,
} as const;

const ARCHIVE_DURATIONS = [60, 1440, 4320, 10_080];
const HAS_THREAD = 1 << 5;
const UNICODE_EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3)/u;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

function guildChannel(
  context: RouteContext,
  needed: bigint = 0n,
): { channel: ApiChannel; guild: GuildState } | RouteResult {
  const entry = channelFor(context, needed);
  if (isResult(entry)) return entry;
  if (entry.guild === null) return missingAccess();
  return { channel: entry.channel, guild: entry.guild };
}

function threadMember(threadId: string, userId: string, now: number): ApiThreadMember {
  return { id: threadId, user_id: userId, join_timestamp: iso(now), flags: 0 };
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

/** Creates a thread in `parent` (from `message` when given) and dispatches `THREAD_CREATE`. */
function createThread(
  context: RouteContext,
  parent: ApiChannel,
  guild: GuildState,
  body: Record<string, unknown>,
  message: ApiMessage | null,
): ApiChannel | RouteResult {
  const errors = new FormErrors();
  const name = errors.string(['name'], body.name, { required: true, min: 1, max: 100 });
  const duration = body.auto_archive_duration ?? 4320;
  if (typeof duration !== 'number' || !ARCHIVE_DURATIONS.includes(duration))
    errors.add(['auto_archive_duration'], 'BASE_TYPE_CHOICES', 'Value must be one of {60, 1440, 4320, 10080}.');
  let type = parent.type === 5 ? 10 : 11;
  if (message === null && parent.type !== 15) {
    type = typeof body.type === 'number' ? body.type : 12;
    if (type !== 11 && type !== 12 && !(type === 10 && parent.type === 5))
      errors.add(['type'], 'BASE_TYPE_CHOICES', 'Value must be one of {10, 11, 12}.');
  }
  if (![0, 5, 15].includes(parent.type)) return apiError(400, 50024, 'Cannot execute action on this channel type');
  const invalid = errors.result();
  if (invalid) return invalid;
  const denied = requirePermissions(
    context.engine,
    guild,
    type === 12 ? Permission.CreatePrivateThreads : Permission.CreatePublicThreads,
    parent,
  );
  if (denied) return denied;
  if (message?.thread) return apiError(400, 160004, 'A thread has already been created for this message');

  const { engine } = context;
  const { world } = engine;
  const id = message?.id ?? world.ids.next(context.now);
  const thread: ApiChannel = {
    id,
    type,
    guild_id: guild.id,
    parent_id: parent.id,
    owner_id: world.bot.id,
    name: name as string,
    last_message_id: null,
    rate_limit_per_user: typeof body.rate_limit_per_user === 'number' ? body.rate_limit_per_user : 0,
    message_count: 0,
    member_count: 1,
    total_message_sent: 0,
    flags: 0,
    thread_metadata: {
      archived: false,
      auto_archive_duration: duration as number,
      archive_timestamp: iso(context.now),
      locked: false,
      create_timestamp: iso(context.now),
      ...(type === 12 ? { invitable: body.invitable !== false } : {}),
    },
  };
  guild.threads.push(thread);
  world.channels.set(thread.id, { channel: thread, guild });
  world.threadMembers.set(thread.id, new Map([[world.bot.id, threadMember(thread.id, world.bot.id, context.now)]]));
  if (message) {
    message.thread = thread;
    message.flags |= HAS_THREAD;
  }
  engine.echo(guild, 'THREAD_CREATE', { ...thread, newly_created: true });
  if (parent.type === 15) {
    // A forum post: the thread's first message, with the thread's id.
    const starter = record(body.message);
    const starterInvalid = validateMessageBody(starter, true, ['message'], context.uploads.length);
    if (starterInvalid) return starterInvalid;
    const first = world.createMessage({
      channel: thread,
      guild,
      author: world.bot,
      content: typeof starter.content === 'string' ? starter.content : '',
      embeds: Array.isArray(starter.embeds) ? (starter.embeds as Record<string, unknown>[]) : [],
      components: Array.isArray(starter.components) ? starter.components : [],
      attachments: attachmentsFor(context, thread.id, starter),
      timestamp: context.now,
    });
    engine.publishMessage(first, guild, engine.echoEvents);
    thread.message_count = 1;
    thread.total_message_sent = 1;
    return { ...thread, message: first } as ApiChannel;
  }
  engine.audit(guild, 110, thread.id, context.reason, {
    changes: [
      { key: 'name', new_value: thread.name },
      { key: 'type', new_value: thread.type },
    ],
  });
  return thread;
}

function threadOf(context: RouteContext): { thread: ApiChannel; guild: GuildState } | RouteResult {
  const entry = guildChannel(context);
  if (isResult(entry)) return entry;
  if (!THREAD_TYPES.has(entry.channel.type)) return apiError(400, 50024, 'Cannot execute action on this channel type');
  return { thread: entry.channel, guild: entry.guild };
}

function setThreadMember(context: RouteContext, join: boolean): RouteResult {
  const entry = threadOf(context);
  if (isResult(entry)) return entry;
  const { thread, guild } = entry;
  const { engine } = context;
  const { world } = engine;
  const raw = context.params.user_id as string;
  const userId = raw === '@me' ? world.bot.id : raw;
  if (userId !== world.bot.id) {
    if (!guild.members.has(userId)) return unknown('Member');
    const denied = requirePermissions(
      engine,
      guild,
      join ? Permission.SendMessagesInThreads : Permission.ManageThreads,
      thread,
    );
    if (denied) return denied;
  }
  if (thread.thread_metadata?.archived === true) return apiError(400, 50083, 'Thread is archived');
  let members = world.threadMembers.get(thread.id);
  if (!members) {
    members = new Map();
    world.threadMembers.set(thread.id, members);
  }
  const had = members.has(userId);
  if (join && !had) members.set(userId, threadMember(thread.id, userId, context.now));
  if (!join && had) members.delete(userId);
  thread.member_count = members.size;
  if (had !== join) {
    const update: Record<string, unknown> = { id: thread.id, guild_id: guild.id, member_count: members.size };
    if (join) {
      const member = guild.members.get(userId);
      update.added_members = [{ ...members.get(userId), ...(member ? { member } : {}) }];
    } else {
      update.removed_member_ids = [userId];
    }
    engine.echo(guild, 'THREAD_MEMBERS_UPDATE', update);
    if (userId === world.bot.id && join)
      engine.echo(guild, 'THREAD_MEMBER_UPDATE', { ...members.get(userId), guild_id: guild.id });
  }
  return noContent();
}

function threadList(context: RouteContext, threads: ApiChannel[]): RouteResult {
  const { world } = context.engine;
  const members = threads.flatMap((thread) => {
    const own = world.threadMembers.get(thread.id)?.get(world.bot.id);
    return own ? [own] : [];
  });
  return ok({ threads, members, has_more: false });
}

const threadRoutes: RouteDefinition[] = [
  {
    method: 'POST',
    route: '/channels/:channel_id/messages/:message_id/threads',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context, Permission.ReadMessageHistory);
      if (isResult(entry)) return entry;
      const message = messageOf(context, entry.channel.id);
      if (isResult(message)) return message;
      const thread = createThread(context, entry.channel, entry.guild, record(context.body), message);
      if (isResult(thread)) return thread;
      context.engine.publishMessageUpdate(message, entry.guild);
      return ok(thread, 201);
    },
  },
  {
    method: 'POST',
    route: '/channels/:channel_id/threads',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context);
      if (isResult(entry)) return entry;
      const thread = createThread(context, entry.channel, entry.guild, record(context.body), null);
      return isResult(thread) ? thread : ok(thread, 201);
    },
  },
  {
    method: 'GET',
    route: '/channels/:channel_id/thread-members',
    auth: true,
    handle: (context) => {
      const entry = threadOf(context);
      if (isResult(entry)) return entry;
      return ok([...(context.engine.world.threadMembers.get(entry.thread.id)?.values() ?? [])]);
    },
  },
  {
    method: 'GET',
    route: '/channels/:channel_id/thread-members/:user_id',
    auth: true,
    handle: (context) => {
      const entry = threadOf(context);
      if (isResult(entry)) return entry;
      const raw = context.params.user_id as string;
      const userId = raw === '@me' ? context.engine.world.bot.id : raw;
      const member = context.engine.world.threadMembers.get(entry.thread.id)?.get(userId);
      return member ? ok(member) : apiError(404, 10007, 'Unknown Member');
    },
  },
  {
    method: 'PUT',
    route: '/channels/:channel_id/thread-members/:user_id',
    auth: true,
    handle: (c) => setThreadMember(c, true),
  },
  {
    method: 'DELETE',
    route: '/channels/:channel_id/thread-members/:user_id',
    auth: true,
    handle: (c) => setThreadMember(c, false),
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/threads/active',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const active = guild.threads.filter((thread) => thread.thread_metadata?.archived !== true);
      const visible = active.filter(
        (thread) => (botPermissions(context.engine, guild, thread) & Permission.ViewChannel) !== 0n,
      );
      const { threads, members } = (threadList(context, visible).body ?? {}) as Record<string, unknown>;
      return ok({ threads, members });
    },
  },
  ...(['public', 'private'] as const).map((kind): RouteDefinition => ({
    method: 'GET',
    route: `/channels/:channel_id/threads/archived/${kind}`,
    auth: true,
    handle: (context) => {
      const entry = guildChannel(
        context,
        Permission.ReadMessageHistory | (kind === 'private' ? Permission.ManageThreads : 0n),
      );
      if (isResult(entry)) return entry;
      const type = kind === 'private' ? 12 : entry.channel.type === 5 ? 10 : 11;
      return threadList(
        context,
        entry.guild.threads.filter(
          (thread) =>
            thread.parent_id === entry.channel.id && thread.type === type && thread.thread_metadata?.archived === true,
        ),
      );
    },
  })),
];

// ---------------------------------------------------------------------------------------------
// Channels: create, edit, delete, permission overwrites
// ---------------------------------------------------------------------------------------------

const CHANNEL_TYPES = new Set([0, 2, 4, 5, 13, 15, 16]);

function checkOverwrites(errors: FormErrors, value: unknown, guild: GuildState): ApiOverwrite[] {
  const list = errors.array(['permission_overwrites'], value, { max: 100 });
  return list.map((raw, index) => {
    const overwrite = record(raw);
    const at = ['permission_overwrites', index];
    const id = errors.string([...at, 'id'], overwrite.id, { required: true, min: 1, max: 20 }) ?? '';
    const type = overwrite.type === 1 || overwrite.type === 'member' ? 1 : 0;
    if (type === 0 && !guild.roles.some((role) => role.id === id))
      errors.add([...at, 'id'], 'UNKNOWN_ROLE', 'Unknown role');
    return { id, type, allow: String(overwrite.allow ?? '0'), deny: String(overwrite.deny ?? '0') } as ApiOverwrite;
  });
}

/** Overwrites may only allow or deny permissions the bot has (Discord's rule for Manage Roles in a channel). */
function overwritesWithinBot(context: RouteContext, guild: GuildState, overwrites: readonly ApiOverwrite[]): boolean {
  const bits = botPermissions(context.engine, guild);
  if ((bits & Permission.Administrator) !== 0n) return true;
  return overwrites.every((overwrite) => ((BigInt(overwrite.allow) | BigInt(overwrite.deny)) & ~bits) === 0n);
}

const channelAdminRoutes: RouteDefinition[] = [
  {
    method: 'POST',
    route: '/guilds/:guild_id/channels',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.ManageChannels);
      if (denied) return denied;
      const body = record(context.body);
      const errors = new FormErrors();
      const name = errors.string(['name'], body.name, { required: true, min: 1, max: 100 });
      const type = typeof body.type === 'number' ? body.type : 0;
      if (!CHANNEL_TYPES.has(type))
        errors.add(['type'], 'BASE_TYPE_CHOICES', 'Value must be one of {0, 2, 4, 5, 13, 15, 16}.');
      errors.string(['topic'], body.topic, { max: 1024 });
      let parent: ApiChannel | undefined;
      if (typeof body.parent_id === 'string') {
        parent = guild.channels.find((channel) => channel.id === body.parent_id && channel.type === 4);
        if (!parent) errors.add(['parent_id'], 'CHANNEL_PARENT_INVALID', 'Category does not exist');
      }
      const overwrites = checkOverwrites(errors, body.permission_overwrites, guild);
      const invalid = errors.result();
      if (invalid) return invalid;
      if (overwrites.length > 0 && !overwritesWithinBot(context, guild, overwrites)) return missingPermissions();
      const { world } = context.engine;
      const channel: ApiChannel = {
        id: world.ids.next(context.now),
        type,
        guild_id: guild.id,
        name: name as string,
        position: typeof body.position === 'number' ? body.position : guild.channels.length,
        permission_overwrites: overwrites,
        parent_id: parent?.id ?? null,
        flags: 0,
      };
      if (type !== 4 && type !== 2) {
        channel.topic = typeof body.topic === 'string' ? body.topic : null;
        channel.nsfw = body.nsfw === true;
        channel.last_message_id = null;
        channel.rate_limit_per_user = typeof body.rate_limit_per_user === 'number' ? body.rate_limit_per_user : 0;
      }
      guild.addChannel(channel);
      world.channels.set(channel.id, { channel, guild });
      context.engine.echo(guild, 'CHANNEL_CREATE', channel);
      context.engine.audit(guild, AuditLogEvent.ChannelCreate, channel.id, context.reason, {
        changes: [
          { key: 'name', new_value: channel.name },
          { key: 'type', new_value: type },
        ],
      });
      return ok(channel, 201);
    },
  },
  {
    method: 'PATCH',
    route: '/channels/:channel_id',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context);
      if (isResult(entry)) return entry;
      const { channel, guild } = entry;
      const thread = THREAD_TYPES.has(channel.type);
      const body = record(context.body);
      const own = thread && channel.owner_id === context.engine.world.bot.id;
      const needed = thread ? (own && !('locked' in body) ? 0n : Permission.ManageThreads) : Permission.ManageChannels;
      const denied = requirePermissions(context.engine, guild, needed, channel);
      if (denied) return denied;
      const errors = new FormErrors();
      const name = errors.string(['name'], body.name, { min: 1, max: 100 });
      const topic = errors.string(['topic'], body.topic, { max: 1024 });
      const slowmode = errors.integer(['rate_limit_per_user'], body.rate_limit_per_user, { min: 0, max: 21_600 });
      const overwrites =
        'permission_overwrites' in body ? checkOverwrites(errors, body.permission_overwrites, guild) : null;
      const invalid = errors.result();
      if (invalid) return invalid;
      if (overwrites !== null) {
        const manage = requirePermissions(context.engine, guild, Permission.ManageRoles, channel);
        if (manage) return manage;
        if (!overwritesWithinBot(context, guild, overwrites)) return missingPermissions();
      }
      const changes: { key: string; old_value?: unknown; new_value?: unknown }[] = [];
      const change = (key: string, value: unknown): void => {
        const target = channel as unknown as Record<string, unknown>;
        changes.push({ key, old_value: target[key], new_value: value });
        target[key] = value;
      };
      if (name !== undefined) change('name', name);
      if (topic !== undefined && !thread) change('topic', topic);
      if (slowmode !== undefined) change('rate_limit_per_user', slowmode);
      if (typeof body.nsfw === 'boolean' && !thread) change('nsfw', body.nsfw);
      if (overwrites !== null) channel.permission_overwrites = overwrites;
      if (typeof body.parent_id === 'string' || body.parent_id === null) {
        if (!thread) change('parent_id', body.parent_id);
      }
      if (thread && channel.thread_metadata) {
        const metadata = channel.thread_metadata;
        if (typeof body.archived === 'boolean' && body.archived !== metadata.archived) {
          metadata.archived = body.archived;
          metadata.archive_timestamp = iso(context.now);
        }
        if (typeof body.locked === 'boolean') metadata.locked = body.locked;
        if (typeof body.auto_archive_duration === 'number') metadata.auto_archive_duration = body.auto_archive_duration;
      }
      context.engine.echo(guild, thread ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE', channel);
      context.engine.audit(
        guild,
        thread ? AuditLogEvent.ThreadUpdate : AuditLogEvent.ChannelUpdate,
        channel.id,
        context.reason,
        { changes },
      );
      return ok(channel);
    },
  },
  {
    method: 'DELETE',
    route: '/channels/:channel_id',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context);
      if (isResult(entry)) return entry;
      const { channel, guild } = entry;
      const thread = THREAD_TYPES.has(channel.type);
      const denied = requirePermissions(
        context.engine,
        guild,
        thread ? Permission.ManageThreads : Permission.ManageChannels,
        channel,
      );
      if (denied) return denied;
      guild.removeChannel(channel.id);
      context.engine.world.channels.delete(channel.id);
      context.engine.world.threadMembers.delete(channel.id);
      context.engine.echo(
        guild,
        thread ? 'THREAD_DELETE' : 'CHANNEL_DELETE',
        thread ? { id: channel.id, guild_id: guild.id, parent_id: channel.parent_id, type: channel.type } : channel,
      );
      context.engine.audit(
        guild,
        thread ? AuditLogEvent.ThreadDelete : AuditLogEvent.ChannelDelete,
        channel.id,
        context.reason,
      );
      return ok(channel);
    },
  },
  {
    method: 'PUT',
    route: '/channels/:channel_id/permissions/:overwrite_id',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context, Permission.ManageRoles);
      if (isResult(entry)) return entry;
      const { channel, guild } = entry;
      const body = record(context.body);
      const id = context.params.overwrite_id as string;
      const errors = new FormErrors();
      const type = errors.integer(['type'], body.type, { required: true, min: 0, max: 1 });
      for (const key of ['allow', 'deny'] as const) {
        const value = body[key];
        if (value !== undefined && value !== null && !/^\d{1,20}$/.test(String(value)))
          errors.add([key], 'NUMBER_TYPE_COERCE', `Value "${String(value)}" is not a permission bitfield.`);
      }
      const invalid = errors.result();
      if (invalid) return invalid;
      if (type === 0 && !guild.roles.some((role) => role.id === id)) return unknown('Role');
      if (type === 1 && !guild.members.has(id)) return unknown('Member');
      const overwrite: ApiOverwrite = {
        id,
        type: type as 0 | 1,
        allow: String(body.allow ?? '0'),
        deny: String(body.deny ?? '0'),
      };
      if (!overwritesWithinBot(context, guild, [overwrite])) return missingPermissions();
      const overwrites = (channel.permission_overwrites ??= []);
      const index = overwrites.findIndex((candidate) => candidate.id === id);
      if (index >= 0) overwrites[index] = overwrite;
      else overwrites.push(overwrite);
      context.engine.echo(guild, THREAD_TYPES.has(channel.type) ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE', channel);
      context.engine.audit(
        guild,
        index >= 0 ? AuditLogEvent.ChannelOverwriteUpdate : AuditLogEvent.ChannelOverwriteCreate,
        channel.id,
        context.reason,
        { options: { id, type: String(type) } },
      );
      return noContent();
    },
  },
  {
    method: 'DELETE',
    route: '/channels/:channel_id/permissions/:overwrite_id',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context, Permission.ManageRoles);
      if (isResult(entry)) return entry;
      const { channel, guild } = entry;
      const id = context.params.overwrite_id as string;
      const overwrites = channel.permission_overwrites ?? [];
      const index = overwrites.findIndex((candidate) => candidate.id === id);
      if (index >= 0) {
        overwrites.splice(index, 1);
        context.engine.echo(guild, 'CHANNEL_UPDATE', channel);
        context.engine.audit(guild, AuditLogEvent.ChannelOverwriteDelete, channel.id, context.reason, {
          options: { id },
        });
      }
      return noContent();
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

function checkRoleBody(errors: FormErrors, body: Record<string, unknown>): void {
  errors.string(['name'], body.name, { max: 100 });
  errors.integer(['color'], body.color, { min: 0, max: 0xffffff });
  if (body.permissions !== undefined && body.permissions !== null && !/^\d{1,20}$/.test(String(body.permissions)))
    errors.add(
      ['permissions'],
      'NUMBER_TYPE_COERCE',
      `Value "${String(body.permissions)}" is not a permission bitfield.`,
    );
}

/** A role may only be given permissions the bot has (unless it is an administrator). */
function permissionsWithinBot(context: RouteContext, guild: GuildState, permissions: unknown): boolean {
  if (permissions === undefined || permissions === null) return true;
  const bits = botPermissions(context.engine, guild);
  return (bits & Permission.Administrator) !== 0n || (BigInt(String(permissions)) & ~bits) === 0n;
}

function roleOf(context: RouteContext, guild: GuildState): ApiRole | RouteResult {
  return guild.roles.find((role) => role.id === context.params.role_id) ?? unknown('Role');
}

const roleRoutes: RouteDefinition[] = [
  {
    method: 'GET',
    route: '/guilds/:guild_id/roles/:role_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const role = roleOf(context, guild);
      return isResult(role) ? role : ok(role);
    },
  },
  {
    method: 'POST',
    route: '/guilds/:guild_id/roles',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.ManageRoles);
      if (denied) return denied;
      const body = record(context.body);
      const errors = new FormErrors();
      checkRoleBody(errors, body);
      if (guild.roles.length >= 250) errors.add([], 'MAX_ROLES', 'Maximum number of guild roles reached (250)');
      const invalid = errors.result();
      if (invalid) return invalid;
      if (!permissionsWithinBot(context, guild, body.permissions)) return missingPermissions();
      const { world } = context.engine;
      const color = typeof body.color === 'number' ? body.color : 0;
      const role: ApiRole = {
        id: world.ids.next(context.now),
        name: typeof body.name === 'string' ? body.name : 'new role',
        color,
        colors: { primary_color: color, secondary_color: null, tertiary_color: null },
        hoist: body.hoist === true,
        icon: null,
        unicode_emoji: null,
        position: 1,
        permissions:
          body.permissions === undefined || body.permissions === null
            ? (guild.roles[0]?.permissions ?? '0')
            : BigInt(String(body.permissions)).toString(),
        managed: false,
        mentionable: body.mentionable === true,
        flags: 0,
      };
      // New roles go just above @everyone, as on Discord; the others move up one.
      guild.roles.splice(1, 0, role);
      for (const [index, existing] of guild.roles.entries()) existing.position = index;
      context.engine.echo(guild, 'GUILD_ROLE_CREATE', { guild_id: guild.id, role });
      context.engine.audit(guild, AuditLogEvent.RoleCreate, role.id, context.reason, {
        changes: [
          { key: 'name', new_value: role.name },
          { key: 'permissions', new_value: role.permissions },
        ],
      });
      return ok(role);
    },
  },
  {
    method: 'PATCH',
    route: '/guilds/:guild_id/roles/:role_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const role = roleOf(context, guild);
      if (isResult(role)) return role;
      const denied = requirePermissions(context.engine, guild, Permission.ManageRoles);
      if (denied) return denied;
      const body = record(context.body);
      const errors = new FormErrors();
      checkRoleBody(errors, body);
      const invalid = errors.result();
      if (invalid) return invalid;
      if (role.id !== guild.id && !canManageRole(context.engine, guild, role)) return missingPermissions();
      if (role.managed && body.permissions !== undefined) return missingPermissions();
      if (!permissionsWithinBot(context, guild, body.permissions)) return missingPermissions();
      const changes: { key: string; old_value: unknown; new_value: unknown }[] = [];
      const set = <K extends keyof ApiRole>(key: K, value: ApiRole[K]): void => {
        changes.push({ key, old_value: role[key], new_value: value });
        role[key] = value;
      };
      if (typeof body.name === 'string') set('name', body.name);
      if (typeof body.color === 'number') {
        set('color', body.color);
        role.colors = { ...role.colors, primary_color: body.color };
      }
      if (typeof body.hoist === 'boolean') set('hoist', body.hoist);
      if (typeof body.mentionable === 'boolean') set('mentionable', body.mentionable);
      if (body.permissions !== undefined && body.permissions !== null)
        set('permissions', BigInt(String(body.permissions)).toString());
      context.engine.echo(guild, 'GUILD_ROLE_UPDATE', { guild_id: guild.id, role });
      context.engine.audit(guild, AuditLogEvent.RoleUpdate, role.id, context.reason, { changes });
      return ok(role);
    },
  },
  {
    method: 'DELETE',
    route: '/guilds/:guild_id/roles/:role_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const role = roleOf(context, guild);
      if (isResult(role)) return role;
      const denied = requirePermissions(context.engine, guild, Permission.ManageRoles);
      if (denied) return denied;
      if (role.id === guild.id) return apiError(400, 50028, 'Invalid role');
      if (role.managed || !canManageRole(context.engine, guild, role)) return missingPermissions();
      guild.roles.splice(guild.roles.indexOf(role), 1);
      for (const [index, existing] of guild.roles.entries()) existing.position = index;
      for (const member of guild.members.values()) {
        if (member.roles.includes(role.id)) member.roles = member.roles.filter((id) => id !== role.id);
      }
      for (const channel of [...guild.channels, ...guild.threads]) {
        if (channel.permission_overwrites)
          channel.permission_overwrites = channel.permission_overwrites.filter((overwrite) => overwrite.id !== role.id);
      }
      context.engine.echo(guild, 'GUILD_ROLE_DELETE', { guild_id: guild.id, role_id: role.id });
      context.engine.audit(guild, AuditLogEvent.RoleDelete, role.id, context.reason, {
        changes: [{ key: 'name', old_value: role.name }],
      });
      return noContent();
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Pins
// ---------------------------------------------------------------------------------------------

function pinnedOf(context: RouteContext, channelId: string): ApiMessage[] {
  return context.engine.world
    .messages(channelId)
    .filter((message) => message.pinned)
    .reverse();
}

function setPinned(context: RouteContext, pinned: boolean): RouteResult {
  const entry = channelFor(context, Permission.ReadMessageHistory);
  if (isResult(entry)) return entry;
  const { channel, guild } = entry;
  if (guild) {
    const bits = botPermissions(context.engine, guild, channel);
    if ((bits & (Permission.PinMessages | Permission.ManageMessages)) === 0n) return missingPermissions();
  }
  const message = messageOf(context, channel.id);
  if (isResult(message)) return message;
  if (message.pinned === pinned) return noContent();
  if (pinned && pinnedOf(context, channel.id).length >= 250)
    return apiError(400, 30003, 'Maximum number of pins reached (250)');
  message.pinned = pinned;
  const { engine } = context;
  engine.publishMessageUpdate(message, guild);
  const pins = pinnedOf(context, channel.id);
  const last = pins[0];
  engine.echo(guild, 'CHANNEL_PINS_UPDATE', {
    ...(guild ? { guild_id: guild.id } : {}),
    channel_id: channel.id,
    last_pin_timestamp: last === undefined ? null : iso(context.now),
  });
  if (pinned) {
    // Discord announces a pin with a system message (type 6) referencing it.
    const notice = engine.world.createMessage({
      channel,
      guild,
      author: engine.world.bot,
      type: 6,
      timestamp: context.now,
    });
    notice.message_reference = {
      type: 0,
      message_id: message.id,
      channel_id: channel.id,
      ...(guild ? { guild_id: guild.id } : {}),
    };
    engine.publishMessage(notice, guild, engine.echoEvents);
  }
  if (guild) {
    engine.audit(
      guild,
      pinned ? AuditLogEvent.MessagePin : AuditLogEvent.MessageUnpin,
      message.author.id,
      context.reason,
      {
        options: { channel_id: channel.id, message_id: message.id },
      },
    );
  }
  return noContent();
}

const pinRoutes: RouteDefinition[] = [
  {
    method: 'GET',
    route: '/channels/:channel_id/messages/pins',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context, Permission.ReadMessageHistory);
      if (isResult(entry)) return entry;
      const limit = Math.min(50, Math.max(1, Number(context.query.get('limit') ?? 50) || 50));
      const items = pinnedOf(context, entry.channel.id).map((message) => ({
        pinned_at: message.edited_timestamp ?? message.timestamp,
        message,
      }));
      return ok({ items: items.slice(0, limit), has_more: items.length > limit });
    },
  },
  {
    method: 'PUT',
    route: '/channels/:channel_id/messages/pins/:message_id',
    auth: true,
    handle: (c) => setPinned(c, true),
  },
  {
    method: 'DELETE',
    route: '/channels/:channel_id/messages/pins/:message_id',
    auth: true,
    handle: (c) => setPinned(c, false),
  },
  {
    method: 'GET',
    route: '/channels/:channel_id/pins',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context, Permission.ReadMessageHistory);
      return isResult(entry) ? entry : ok(pinnedOf(context, entry.channel.id));
    },
  },
  { method: 'PUT', route: '/channels/:channel_id/pins/:message_id', auth: true, handle: (c) => setPinned(c, true) },
  { method: 'DELETE', route: '/channels/:channel_id/pins/:message_id', auth: true, handle: (c) => setPinned(c, false) },
];

// ---------------------------------------------------------------------------------------------
// Reactions
// ---------------------------------------------------------------------------------------------

/** The emoji of a reaction (`👍` or `name:id`), or `null` when it does not exist (Discord's 10014). */
export function parseEmoji(world: World, raw: string): { emoji: ApiReactionEmoji; key: string } | null {
  const custom = /^a?:?([\w~]{1,32}):(\d{17,20})$/.exec(raw);
  if (custom) {
    const name = custom[1] as string;
    const id = custom[2] as string;
    for (const guild of world.guildList) {
      const emoji = guild.emojis.find((candidate) => candidate.id === id);
      if (emoji) return { emoji: { id, name: emoji.name, animated: emoji.animated }, key: `${name}:${id}` };
    }
    return null;
  }
  if (!UNICODE_EMOJI.test(raw)) return null;
  return { emoji: { id: null, name: raw }, key: raw };
}

/** Adds or removes `user`'s reaction and dispatches `MESSAGE_REACTION_ADD/REMOVE`. Returns how many sessions got it, `null` when nothing changed. */
export function applyReaction(
  engine: RouteContext['engine'],
  message: ApiMessage,
  guild: GuildState | null,
  emoji: ApiReactionEmoji,
  key: string,
  user: ApiUser,
  add: boolean,
): number | null {
  const { world } = engine;
  let byEmoji = world.reactions.get(message.id);
  if (!byEmoji) {
    byEmoji = new Map();
    world.reactions.set(message.id, byEmoji);
  }
  let entry = byEmoji.get(key);
  if (!entry) {
    entry = { emoji, users: new Set() };
    byEmoji.set(key, entry);
  }
  if (entry.users.has(user.id) === add) return null;
  if (add) entry.users.add(user.id);
  else entry.users.delete(user.id);
  if (entry.users.size === 0) byEmoji.delete(key);
  world.syncReactions(message);
  const data: Record<string, unknown> = {
    user_id: user.id,
    channel_id: message.channel_id,
    message_id: message.id,
    emoji,
    burst: false,
    type: 0,
  };
  if (guild) {
    data.guild_id = guild.id;
    const member = guild.members.get(user.id);
    if (add && member) data.member = member;
  }
  if (add) {
    data.message_author_id = message.author.id;
    data.burst_colors = [];
  }
  const event = add ? 'MESSAGE_REACTION_ADD' : 'MESSAGE_REACTION_REMOVE';
  return guild ? engine.gateway.dispatchToGuild(guild, event, data) : engine.gateway.dispatchDirect(event, data);
}

function reactionTarget(
  context: RouteContext,
): { message: ApiMessage; guild: GuildState | null; emoji: ApiReactionEmoji; key: string } | RouteResult {
  const entry = channelFor(context, Permission.ReadMessageHistory);
  if (isResult(entry)) return entry;
  const message = messageOf(context, entry.channel.id);
  if (isResult(message)) return message;
  const parsed = parseEmoji(context.engine.world, context.params.emoji as string);
  if (parsed === null) return apiError(400, 10014, 'Unknown Emoji');
  return { message, guild: entry.guild, ...parsed };
}

const reactionRoutes: RouteDefinition[] = [
  {
    method: 'PUT',
    route: '/channels/:channel_id/messages/:message_id/reactions/:emoji/@me',
    auth: true,
    handle: (context) => {
      const target = reactionTarget(context);
      if (isResult(target)) return target;
      const { world } = context.engine;
      const existing = world.reactions.get(target.message.id)?.get(target.key);
      // Adding a new reaction (not joining one) takes Add Reactions.
      if (existing === undefined && target.guild) {
        const channel = world.channels.get(target.message.channel_id)?.channel;
        const denied = requirePermissions(context.engine, target.guild, Permission.AddReactions, channel);
        if (denied) return denied;
      }
      if (!existing && (world.reactions.get(target.message.id)?.size ?? 0) >= 20)
        return apiError(400, 30010, 'Maximum number of reactions reached (20)');
      applyReaction(context.engine, target.message, target.guild, target.emoji, target.key, world.bot, true);
      return noContent();
    },
  },
  {
    method: 'DELETE',
    route: '/channels/:channel_id/messages/:message_id/reactions/:emoji/:user_id',
    auth: true,
    handle: (context) => {
      const target = reactionTarget(context);
      if (isResult(target)) return target;
      const { world } = context.engine;
      const raw = context.params.user_id as string;
      const userId = raw === '@me' ? world.bot.id : raw;
      if (userId !== world.bot.id && target.guild) {
        const channel = world.channels.get(target.message.channel_id)?.channel;
        const denied = requirePermissions(context.engine, target.guild, Permission.ManageMessages, channel);
        if (denied) return denied;
      }
      const user = world.users.get(userId);
      if (!user) return unknown('User');
      applyReaction(context.engine, target.message, target.guild, target.emoji, target.key, user, false);
      return noContent();
    },
  },
  {
    method: 'GET',
    route: '/channels/:channel_id/messages/:message_id/reactions/:emoji',
    auth: true,
    handle: (context) => {
      const target = reactionTarget(context);
      if (isResult(target)) return target;
      const { world } = context.engine;
      const limit = Math.min(100, Math.max(1, Number(context.query.get('limit') ?? 25) || 25));
      const after = BigInt(context.query.get('after') ?? '0');
      const ids = [...(world.reactions.get(target.message.id)?.get(target.key)?.users ?? [])]
        .filter((id) => BigInt(id) > after)
        .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      return ok(ids.slice(0, limit).flatMap((id) => world.users.get(id) ?? []));
    },
  },
  {
    method: 'DELETE',
    route: '/channels/:channel_id/messages/:message_id/reactions/:emoji',
    auth: true,
    handle: (context) => {
      const target = reactionTarget(context);
      if (isResult(target)) return target;
      const { engine } = context;
      const channel = engine.world.channels.get(target.message.channel_id)?.channel;
      const denied = requirePermissions(engine, target.guild, Permission.ManageMessages, channel);
      if (denied) return denied;
      if (engine.world.reactions.get(target.message.id)?.delete(target.key) === true) {
        engine.world.syncReactions(target.message);
        engine.echo(target.guild, 'MESSAGE_REACTION_REMOVE_EMOJI', {
          channel_id: target.message.channel_id,
          message_id: target.message.id,
          emoji: target.emoji,
          ...(target.guild ? { guild_id: target.guild.id } : {}),
        });
      }
      return noContent();
    },
  },
  {
    method: 'DELETE',
    route: '/channels/:channel_id/messages/:message_id/reactions',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context, Permission.ManageMessages);
      if (isResult(entry)) return entry;
      const message = messageOf(context, entry.channel.id);
      if (isResult(message)) return message;
      const { engine } = context;
      if (engine.world.reactions.delete(message.id)) {
        engine.world.syncReactions(message);
        engine.echo(entry.guild, 'MESSAGE_REACTION_REMOVE_ALL', {
          channel_id: message.channel_id,
          message_id: message.id,
          ...(entry.guild ? { guild_id: entry.guild.id } : {}),
        });
      }
      return noContent();
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Webhooks (channel webhooks; interaction webhooks live with the interactions)
// ---------------------------------------------------------------------------------------------

function webhookOf(context: RouteContext): ApiWebhook | RouteResult {
  return context.engine.world.webhooks.get(context.params.webhook_id as string) ?? unknown('Webhook');
}

function webhookName(errors: FormErrors, value: unknown, required: boolean): string | undefined {
  const name = errors.string(['name'], value, { required, min: 1, max: 80 });
  if (name !== undefined && /clyde|discord/i.test(name))
    errors.add(
      ['name'],
      'WEBHOOK_INVALID_USERNAME',
      `Username cannot contain "${/clyde/i.test(name) ? 'clyde' : 'discord'}"`,
    );
  return name;
}

const webhookRoutes: RouteDefinition[] = [
  {
    method: 'POST',
    route: '/channels/:channel_id/webhooks',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context, Permission.ManageWebhooks);
      if (isResult(entry)) return entry;
      const errors = new FormErrors();
      const name = webhookName(errors, record(context.body).name, true);
      const invalid = errors.result();
      if (invalid) return invalid;
      const { world } = context.engine;
      const count = [...world.webhooks.values()].filter((hook) => hook.channel_id === entry.channel.id).length;
      if (count >= 15) return apiError(400, 30007, 'Maximum number of webhooks reached (15)');
      const id = world.ids.next(context.now);
      const webhook: ApiWebhook = {
        id,
        type: 1,
        guild_id: entry.guild.id,
        channel_id: entry.channel.id,
        user: world.bot,
        name: name as string,
        avatar: null,
        token: Buffer.from(`webhook:${id}`).toString('base64url').padEnd(68, 'w'),
        application_id: world.applicationId,
      };
      world.webhooks.set(id, webhook);
      context.engine.echo(entry.guild, 'WEBHOOKS_UPDATE', { guild_id: entry.guild.id, channel_id: entry.channel.id });
      context.engine.audit(entry.guild, AuditLogEvent.WebhookCreate, id, context.reason, {
        changes: [
          { key: 'name', new_value: webhook.name },
          { key: 'channel_id', new_value: entry.channel.id },
        ],
      });
      return ok(webhook);
    },
  },
  {
    method: 'GET',
    route: '/channels/:channel_id/webhooks',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context, Permission.ManageWebhooks);
      if (isResult(entry)) return entry;
      return ok([...context.engine.world.webhooks.values()].filter((hook) => hook.channel_id === entry.channel.id));
    },
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/webhooks',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.ManageWebhooks);
      if (denied) return denied;
      return ok([...context.engine.world.webhooks.values()].filter((hook) => hook.guild_id === guild.id));
    },
  },
  {
    method: 'GET',
    route: '/webhooks/:webhook_id',
    auth: true,
    handle: (context) => {
      const webhook = webhookOf(context);
      return isResult(webhook) ? webhook : ok(webhook);
    },
  },
  {
    method: 'DELETE',
    route: '/webhooks/:webhook_id',
    auth: true,
    handle: (context) => {
      const webhook = webhookOf(context);
      if (isResult(webhook)) return webhook;
      const guild = context.engine.world.guilds.get(webhook.guild_id) ?? null;
      const denied = requirePermissions(context.engine, guild, Permission.ManageWebhooks);
      if (denied) return denied;
      context.engine.world.webhooks.delete(webhook.id);
      if (guild) {
        context.engine.echo(guild, 'WEBHOOKS_UPDATE', { guild_id: guild.id, channel_id: webhook.channel_id });
        context.engine.audit(guild, AuditLogEvent.WebhookDelete, webhook.id, context.reason);
      }
      return noContent();
    },
  },
];

/** `POST /webhooks/{id}/{token}` for a channel webhook: a message in its channel, authored by the webhook. */
export function executeWebhook(context: RouteContext): RouteResult {
  const { world } = context.engine;
  const webhook = world.webhooks.get(context.params.webhook_id as string);
  if (!webhook || webhook.token !== context.params.webhook_token) return unknown('Webhook');
  const entry = world.channels.get(webhook.channel_id);
  if (!entry) return unknown('Channel');
  const body = record(context.body);
  const errors = new FormErrors();
  webhookName(errors, body.username, false);
  const invalidName = errors.result();
  if (invalidName) return invalidName;
  const invalid = validateMessageBody(body, true, [], context.uploads.length);
  if (invalid) return invalid;
  const author: ApiUser = {
    id: webhook.id,
    username: typeof body.username === 'string' ? body.username : webhook.name,
    discriminator: '0000',
    global_name: null,
    avatar: null,
    bot: true,
    public_flags: 0,
  };
  const message = world.createMessage({
    channel: entry.channel,
    guild: entry.guild,
    author,
    content: typeof body.content === 'string' ? body.content : '',
    embeds: Array.isArray(body.embeds) ? (body.embeds as Record<string, unknown>[]) : [],
    components: Array.isArray(body.components) ? body.components : [],
    attachments: attachmentsFor(context, entry.channel.id, body),
    flags: typeof body.flags === 'number' ? body.flags : 0,
    tts: body.tts === true,
    webhookId: webhook.id,
    timestamp: context.now,
  });
  if (webhook.application_id === null) delete message.application_id;
  else message.application_id = webhook.application_id;
  context.engine.publishMessage(message, entry.guild, context.engine.echoEvents);
  return context.query.get('wait') === 'true' ? ok(message) : noContent();
}

// ---------------------------------------------------------------------------------------------
// Invites
// ---------------------------------------------------------------------------------------------

function inviteBody(context: RouteContext, invite: ApiInvite): Record<string, unknown> {
  const { world } = context.engine;
  const guild = world.guilds.get(invite.guild_id);
  const channel = world.channels.get(invite.channel_id)?.channel;
  return {
    ...invite,
    guild: guild
      ? {
          id: guild.id,
          name: guild.name,
          icon: null,
          splash: null,
          banner: null,
          description: null,
          features: [],
          verification_level: guild.verificationLevel,
          vanity_url_code: null,
          nsfw_level: 0,
          premium_subscription_count: 0,
        }
      : null,
    channel: channel ? { id: channel.id, name: channel.name, type: channel.type } : null,
  };
}

let inviteCounter = 0;

const inviteRoutes: RouteDefinition[] = [
  {
    method: 'POST',
    route: '/channels/:channel_id/invites',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context, Permission.CreateInstantInvite);
      if (isResult(entry)) return entry;
      const body = record(context.body);
      const errors = new FormErrors();
      const maxAge = errors.integer(['max_age'], body.max_age, { min: 0, max: 604_800 }) ?? 86_400;
      const maxUses = errors.integer(['max_uses'], body.max_uses, { min: 0, max: 100 }) ?? 0;
      const invalid = errors.result();
      if (invalid) return invalid;
      const { world } = context.engine;
      const code = Buffer.from(`${world.applicationId}:${++inviteCounter}`).toString('base64url').slice(-10);
      const invite: ApiInvite = {
        code,
        type: 0,
        guild_id: entry.guild.id,
        channel_id: entry.channel.id,
        inviter: world.bot,
        max_age: maxAge,
        max_uses: maxUses,
        temporary: body.temporary === true,
        uses: 0,
        created_at: iso(context.now),
        expires_at: maxAge === 0 ? null : iso(context.now + maxAge * 1000),
      };
      world.invites.set(code, invite);
      context.engine.echo(entry.guild, 'INVITE_CREATE', { ...invite });
      context.engine.audit(entry.guild, AuditLogEvent.InviteCreate, null, context.reason, {
        changes: [
          { key: 'code', new_value: code },
          { key: 'channel_id', new_value: entry.channel.id },
        ],
      });
      return ok(inviteBody(context, invite));
    },
  },
  {
    method: 'GET',
    route: '/channels/:channel_id/invites',
    auth: true,
    handle: (context) => {
      const entry = guildChannel(context, Permission.ManageChannels);
      if (isResult(entry)) return entry;
      return ok(
        [...context.engine.world.invites.values()]
          .filter((invite) => invite.channel_id === entry.channel.id)
          .map((invite) => inviteBody(context, invite)),
      );
    },
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/invites',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.ManageGuild);
      if (denied) return denied;
      return ok(
        [...context.engine.world.invites.values()]
          .filter((invite) => invite.guild_id === guild.id)
          .map((invite) => inviteBody(context, invite)),
      );
    },
  },
  {
    method: 'GET',
    route: '/invites/:code',
    auth: true,
    handle: (context) => {
      const invite = context.engine.world.invites.get(context.params.code as string);
      return invite ? ok(inviteBody(context, invite)) : apiError(404, 10006, 'Unknown Invite');
    },
  },
  {
    method: 'DELETE',
    route: '/invites/:code',
    auth: true,
    handle: (context) => {
      const { world } = context.engine;
      const invite = world.invites.get(context.params.code as string);
      if (!invite) return apiError(404, 10006, 'Unknown Invite');
      const guild = world.guilds.get(invite.guild_id) ?? null;
      const channel = world.channels.get(invite.channel_id)?.channel;
      const denied = requirePermissions(context.engine, guild, Permission.ManageChannels, channel);
      if (denied) return denied;
      world.invites.delete(invite.code);
      if (guild) {
        context.engine.echo(guild, 'INVITE_DELETE', {
          channel_id: invite.channel_id,
          guild_id: guild.id,
          code: invite.code,
        });
        context.engine.audit(guild, AuditLogEvent.InviteDelete, null, context.reason, {
          changes: [{ key: 'code', old_value: invite.code }],
        });
      }
      return ok(inviteBody(context, invite));
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------

const auditLogRoutes: RouteDefinition[] = [
  {
    method: 'GET',
    route: '/guilds/:guild_id/audit-logs',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.ViewAuditLog);
      if (denied) return denied;
      const { query } = context;
      const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 50) || 50));
      const userId = query.get('user_id');
      const actionType = query.get('action_type');
      const before = query.get('before');
      const after = query.get('after');
      let entries = [...guild.auditLog].reverse();
      if (userId !== null) entries = entries.filter((entry) => entry.user_id === userId);
      if (actionType !== null) entries = entries.filter((entry) => entry.action_type === Number(actionType));
      if (before !== null) entries = entries.filter((entry) => BigInt(entry.id) < BigInt(before));
      if (after !== null) entries = entries.filter((entry) => BigInt(entry.id) > BigInt(after)).reverse();
      entries = entries.slice(0, limit);
      const { world } = context.engine;
      const userIds = new Set(entries.flatMap((entry) => [entry.user_id, entry.target_id ?? '']));
      return ok({
        audit_log_entries: entries,
        users: [...userIds].flatMap((id) => world.users.get(id) ?? []),
        webhooks: [...world.webhooks.values()].filter((hook) => hook.guild_id === guild.id),
        threads: guild.threads.filter((thread) => entries.some((entry) => entry.target_id === thread.id)),
        integrations: [],
        application_commands: [],
        auto_moderation_rules: [],
        guild_scheduled_events: [],
      });
    },
  },
];

/**
 * Threads, channel administration, roles, pins, reactions, channel webhooks, invites and the audit
 * log. Routes with literal segments come before routes whose parameters could shadow them.
 */
export const RESOURCE_ROUTES: readonly RouteDefinition[] = [
  ...pinRoutes,
  ...threadRoutes,
  ...channelAdminRoutes,
  ...roleRoutes,
  ...reactionRoutes,
  ...webhookRoutes,
  ...inviteRoutes,
  ...auditLogRoutes,
];
