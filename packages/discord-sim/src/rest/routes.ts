import { isSnowflake, snowflakeTimestamp } from '../snowflake/Snowflake.js';
import type { InteractionState } from '../sim/InteractionState.js';
import type { GuildState } from '../world/GuildState.js';
import type { ApiApplicationCommand, ApiCommandOptionDefinition, ApiEmbed, ApiMessage } from '../world/types.js';
import type { RouteResult } from './responses.js';
import { apiError, ApiErrorCode, formError, missingPermissions, noContent, ok, unknown } from './responses.js';
import { Permission } from '../world/permissions.js';
import { canManageRole, requireModeration, requirePermissions } from './guards.js';
import { checkCommand, FormErrors } from './validation.js';
import { AuditLogEvent, executeWebhook, RESOURCE_ROUTES } from './resourceRoutes.js';
import type { RouteContext, RouteDefinition } from './context.js';
import {
  applyEdit,
  attachmentsFor,
  channelFor,
  channelOf,
  EPHEMERAL,
  guildOf,
  isResult,
  isTextBased,
  LOADING,
  MAX_TIMEOUT_MS,
  memberOf,
  messageOf,
  record,
  sendPermission,
  TWO_WEEKS_MS,
  validateAutocomplete,
  validateMessageBody,
  validateModal,
} from './context.js';

export type { RouteContext, RouteDefinition } from './context.js';

// ---------------------------------------------------------------------------------------------
// Gateway, users, application
// ---------------------------------------------------------------------------------------------

const gatewayRoutes: RouteDefinition[] = [
  { method: 'GET', route: '/gateway', auth: false, handle: (context) => ok({ url: context.gateway.url }) },
  {
    method: 'GET',
    route: '/gateway/bot',
    auth: true,
    handle: (context) =>
      ok({
        url: context.gateway.url,
        shards: context.gateway.recommendedShards,
        session_start_limit: {
          total: context.gateway.sessionStartTotal,
          remaining: Math.max(0, context.gateway.sessionStartTotal - context.engine.gateway.identifyCount),
          reset_after: 14_400_000,
          max_concurrency: context.gateway.maxConcurrency,
        },
      }),
  },
];

const userRoutes: RouteDefinition[] = [
  {
    method: 'GET',
    route: '/users/@me',
    auth: true,
    handle: (context) =>
      ok({ ...context.engine.world.bot, verified: true, mfa_enabled: false, email: null, locale: 'en-US' }),
  },
  {
    method: 'GET',
    route: '/users/@me/guilds',
    auth: true,
    handle: (context) =>
      ok(
        context.engine.world.guildList.map((guild) => ({
          id: guild.id,
          name: guild.name,
          icon: null,
          banner: null,
          owner: false,
          permissions: '2251799813685247',
          features: [],
        })),
      ),
  },
  {
    method: 'POST',
    route: '/users/@me/channels',
    auth: true,
    handle: (context) => {
      const recipient = record(context.body).recipient_id;
      const user = typeof recipient === 'string' ? context.engine.world.users.get(recipient) : undefined;
      if (!user)
        return typeof recipient === 'string'
          ? unknown('User')
          : formError('recipient_id', 'BASE_TYPE_REQUIRED', 'This field is required');
      return ok(context.engine.world.dmChannel(user));
    },
  },
  {
    method: 'GET',
    route: '/users/:user_id',
    auth: true,
    handle: (context) => {
      const user = context.engine.world.users.get(context.params.user_id as string);
      return user ? ok(user) : unknown('User');
    },
  },
  {
    method: 'GET',
    route: '/applications/@me',
    auth: true,
    handle: (context) => {
      const { world } = context.engine;
      return ok({
        id: world.applicationId,
        name: world.bot.username,
        icon: null,
        description: 'A bot running against @switchyard/discord-sim.',
        summary: '',
        type: null,
        bot: world.bot,
        bot_public: true,
        bot_require_code_grant: false,
        verify_key: '0'.repeat(64),
        flags: 0,
        owner: {
          id: world.guildList[0]?.ownerId ?? world.bot.id,
          username: 'owner',
          discriminator: '0',
          avatar: null,
          global_name: null,
          public_flags: 0,
          flags: 0,
        },
        team: null,
        approximate_guild_count: world.guildList.length,
        integration_types_config: { '0': {} },
        hook: true,
        redirect_uris: [],
        interactions_endpoint_url: null,
        tags: [],
      });
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Application commands (global and guild)
// ---------------------------------------------------------------------------------------------

function commandStore(context: RouteContext): Map<string, ApiApplicationCommand> | RouteResult {
  if (context.params.application_id !== context.engine.world.applicationId)
    return apiError(403, ApiErrorCode.MissingAccess, 'Missing Access');
  if (context.params.guild_id === undefined) return context.engine.world.globalCommands;
  const guild = guildOf(context);
  return isResult(guild) ? guild : guild.commands;
}

function buildCommand(
  context: RouteContext,
  input: unknown,
  existing: ApiApplicationCommand | undefined,
  errors: FormErrors,
  path: readonly number[],
): ApiApplicationCommand | undefined {
  const body = record(input);
  const before = errors.empty;
  checkCommand(errors, path, existing === undefined ? body : { type: existing.type, ...body }, existing !== undefined);
  if (!before || !errors.empty) return undefined;
  const type = typeof body.type === 'number' ? body.type : (existing?.type ?? 1);
  const name = typeof body.name === 'string' ? body.name : (existing?.name as string);
  const description = typeof body.description === 'string' ? body.description : (existing?.description ?? '');
  const { world } = context.engine;
  const command: ApiApplicationCommand = {
    id: existing?.id ?? world.ids.next(context.now),
    application_id: world.applicationId,
    version: world.ids.next(context.now),
    type,
    name,
    name_localizations:
      (body.name_localizations as Record<string, string> | undefined) ?? existing?.name_localizations ?? null,
    description,
    description_localizations:
      (body.description_localizations as Record<string, string> | undefined) ??
      existing?.description_localizations ??
      null,
    default_member_permissions:
      typeof body.default_member_permissions === 'string'
        ? body.default_member_permissions
        : (existing?.default_member_permissions ?? null),
    contexts: Array.isArray(body.contexts) ? (body.contexts as number[]) : (existing?.contexts ?? null),
    integration_types: Array.isArray(body.integration_types)
      ? (body.integration_types as number[])
      : (existing?.integration_types ?? [0]),
    nsfw: typeof body.nsfw === 'boolean' ? body.nsfw : (existing?.nsfw ?? false),
  };
  const options = Array.isArray(body.options) ? (body.options as ApiCommandOptionDefinition[]) : existing?.options;
  if (options !== undefined) command.options = options;
  if (typeof body.dm_permission === 'boolean') command.dm_permission = body.dm_permission;
  if (context.params.guild_id !== undefined) command.guild_id = context.params.guild_id;
  return command;
}

function findByName(
  store: Map<string, ApiApplicationCommand>,
  name: unknown,
  type: unknown,
): ApiApplicationCommand | undefined {
  const wanted = typeof type === 'number' ? type : 1;
  for (const command of store.values()) if (command.name === name && command.type === wanted) return command;
  return undefined;
}

function commandRoutes(prefix: string): RouteDefinition[] {
  return [
    {
      method: 'GET',
      route: prefix,
      auth: true,
      handle: (context) => {
        const store = commandStore(context);
        return store instanceof Map ? ok([...store.values()]) : store;
      },
    },
    {
      method: 'PUT',
      route: prefix,
      auth: true,
      handle: (context) => {
        const store = commandStore(context);
        if (!(store instanceof Map)) return store;
        if (!Array.isArray(context.body)) return formError('_root', 'BASE_TYPE_ARRAY', 'Must be an array.');
        const next: ApiApplicationCommand[] = [];
        const errors = new FormErrors();
        if (context.body.length > 200) errors.add([], 'BASE_TYPE_MAX_LENGTH', 'Must be 200 or fewer in length.');
        const seen = new Set<string>();
        for (const [index, input] of context.body.entries()) {
          const body = record(input);
          const key = `${typeof body.type === 'number' ? body.type : 1}:${String(body.name)}`;
          if (seen.has(key))
            errors.add([index], 'APPLICATION_COMMANDS_DUPLICATE_NAME', 'Application command names must be unique');
          seen.add(key);
          const command = buildCommand(context, input, findByName(store, body.name, body.type), errors, [index]);
          if (command) next.push(command);
        }
        const invalid = errors.result();
        if (invalid) return invalid;
        store.clear();
        for (const command of next) store.set(command.id, command);
        return ok(next);
      },
    },
    {
      method: 'POST',
      route: prefix,
      auth: true,
      handle: (context) => {
        const store = commandStore(context);
        if (!(store instanceof Map)) return store;
        const body = record(context.body);
        const existing = findByName(store, body.name, body.type);
        const errors = new FormErrors();
        const command = buildCommand(context, body, undefined, errors, []);
        if (!command) return errors.result() as RouteResult;
        if (existing) command.id = existing.id;
        store.set(command.id, command);
        return ok(command, existing ? 200 : 201);
      },
    },
    {
      method: 'GET',
      route: `${prefix}/:command_id`,
      auth: true,
      handle: (context) => {
        const store = commandStore(context);
        if (!(store instanceof Map)) return store;
        const command = store.get(context.params.command_id as string);
        return command ? ok(command) : unknown('application command');
      },
    },
    {
      method: 'PATCH',
      route: `${prefix}/:command_id`,
      auth: true,
      handle: (context) => {
        const store = commandStore(context);
        if (!(store instanceof Map)) return store;
        const existing = store.get(context.params.command_id as string);
        if (!existing) return unknown('application command');
        const errors = new FormErrors();
        const command = buildCommand(context, context.body, existing, errors, []);
        if (!command) return errors.result() as RouteResult;
        store.set(command.id, command);
        return ok(command);
      },
    },
    {
      method: 'DELETE',
      route: `${prefix}/:command_id`,
      auth: true,
      handle: (context) => {
        const store = commandStore(context);
        if (!(store instanceof Map)) return store;
        return store.delete(context.params.command_id as string) ? noContent() : unknown('application command');
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Guilds, members, roles, bans
// ---------------------------------------------------------------------------------------------

/** Deletes a banned user's recent messages from the guild's channels, as `delete_message_seconds` asks. */
function purgeMessages(context: RouteContext, guild: GuildState, userId: string, seconds: number): void {
  if (seconds <= 0) return;
  const since = context.now - seconds * 1000;
  const { engine } = context;
  for (const channel of guild.channels) {
    const ids = engine.world
      .messages(channel.id)
      .filter((message) => message.author.id === userId && snowflakeTimestamp(message.id) >= since)
      .map((message) => message.id);
    if (ids.length === 0) continue;
    for (const id of ids) engine.world.deleteMessage(channel.id, id);
    if (engine.echoEvents)
      engine.gateway.dispatchToGuild(guild, 'MESSAGE_DELETE_BULK', { ids, channel_id: channel.id, guild_id: guild.id });
  }
}

function banUser(
  context: RouteContext,
  guild: GuildState,
  userId: string,
  deleteSeconds: number,
): RouteResult | undefined {
  const { engine } = context;
  const user = engine.world.users.get(userId);
  if (!user) return unknown('User');
  const denied = requireModeration(engine, guild, guild.members.get(userId), Permission.BanMembers);
  if (denied) return denied;
  if (guild.ownerId === userId || userId === engine.world.bot.id) return missingPermissions();
  guild.bans.set(userId, { reason: context.reason, user });
  const member = guild.removeMember(userId);
  if (engine.echoEvents) {
    if (member) engine.publishMemberRemove(guild, user);
    engine.publishBan(guild, user, true);
  }
  engine.audit(guild, AuditLogEvent.MemberBanAdd, userId, context.reason);
  purgeMessages(context, guild, userId, deleteSeconds);
  return undefined;
}

function deleteSecondsOf(body: Record<string, unknown>): number | RouteResult {
  const seconds =
    body.delete_message_seconds ??
    (typeof body.delete_message_days === 'number' ? body.delete_message_days * 86_400 : 0);
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0 || seconds > 604_800) {
    return formError('delete_message_seconds', 'NUMBER_TYPE_MAX', 'int value should be between 0 and 604800.');
  }
  return seconds;
}

const guildRoutes: RouteDefinition[] = [
  {
    method: 'GET',
    route: '/guilds/:guild_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const body: Record<string, unknown> = { ...guild.toApiGuild() };
      if (context.query.get('with_counts') === 'true') {
        body.approximate_member_count = guild.members.size;
        body.approximate_presence_count = 0;
      }
      return ok(body);
    },
  },
  {
    method: 'PATCH',
    route: '/guilds/:guild_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.ManageGuild);
      if (denied) return denied;
      const body = record(context.body);
      if (body.verification_level !== undefined) {
        const level = body.verification_level;
        if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 4) {
          return formError('verification_level', 'BASE_TYPE_CHOICES', 'Value must be one of {0, 1, 2, 3, 4}.');
        }
        guild.verificationLevel = level;
      }
      if (body.name !== undefined) {
        if (typeof body.name !== 'string' || body.name.length < 2 || body.name.length > 100)
          return formError('name', 'BASE_TYPE_BAD_LENGTH', 'Must be between 2 and 100 in length.');
        guild.name = body.name;
      }
      if (context.engine.echoEvents) context.engine.publishGuildUpdate(guild);
      context.engine.audit(guild, AuditLogEvent.GuildUpdate, guild.id, context.reason);
      return ok(guild.toApiGuild());
    },
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/channels',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      return isResult(guild) ? guild : ok(guild.channels);
    },
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/roles',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      return isResult(guild) ? guild : ok(guild.roles);
    },
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/members',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const limit = Math.min(1000, Math.max(1, Number(context.query.get('limit') ?? 1) || 1));
      const afterParam = context.query.get('after') ?? '0';
      if (!/^\d{1,20}$/.test(afterParam))
        return formError('after', 'NUMBER_TYPE_COERCE', `Value "${afterParam}" is not snowflake.`);
      const after = BigInt(afterParam);
      const members = [...guild.members.values()]
        .filter((member) => BigInt(member.user.id) > after)
        .sort((a, b) => (BigInt(a.user.id) < BigInt(b.user.id) ? -1 : 1));
      return ok(members.slice(0, limit));
    },
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/members/search',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const query = context.query.get('query');
      if (query === null) return formError('query', 'BASE_TYPE_REQUIRED', 'This field is required');
      const limit = Math.min(1000, Math.max(1, Number(context.query.get('limit') ?? 1) || 1));
      const needle = query.toLowerCase();
      const members = [...guild.members.values()].filter(
        (member) =>
          member.user.username.toLowerCase().startsWith(needle) ||
          (member.nick?.toLowerCase().startsWith(needle) ?? false),
      );
      return ok(members.slice(0, limit));
    },
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/members/:user_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const member = memberOf(context, guild);
      return isResult(member) ? member : ok(member);
    },
  },
  {
    method: 'PATCH',
    route: '/guilds/:guild_id/members/:user_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const member = memberOf(context, guild);
      if (isResult(member)) return member;
      const body = record(context.body);
      const { engine } = context;
      const self = member.user.id === engine.world.bot.id;
      let until: string | null | undefined;
      if ('communication_disabled_until' in body) {
        const raw = body.communication_disabled_until;
        if (raw !== null) {
          const time = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
          if (Number.isNaN(time))
            return formError('communication_disabled_until', 'DATE_TYPE_PARSE', 'Could not parse the date.');
          if (time - context.now > MAX_TIMEOUT_MS)
            return formError(
              'communication_disabled_until',
              'BASE_TYPE_BAD_TIMEOUT',
              'The timeout must be at most 28 days in the future.',
            );
          until = new Date(time).toISOString().replace('Z', '+00:00');
        } else {
          until = null;
        }
        const denied = requireModeration(engine, guild, member, Permission.ModerateMembers);
        if (denied) return denied;
        // Discord never times out members with Administrator.
        if ((engine.world.permissionBits(guild, member) & Permission.Administrator) !== 0n) return missingPermissions();
      }
      let roleIds: string[] | undefined;
      if ('roles' in body) {
        if (!Array.isArray(body.roles)) return formError('roles', 'BASE_TYPE_ARRAY', 'Must be an array.');
        roleIds = [...new Set(body.roles.map(String))];
        const roles = roleIds.map((roleId) => guild.roles.find((role) => role.id === roleId));
        if (roles.includes(undefined)) return unknown('Role');
        const denied = requirePermissions(engine, guild, Permission.ManageRoles);
        if (denied) return denied;
        // Every role added or removed must be below the bot's highest role.
        const changed = guild.roles.filter(
          (role) => role.id !== guild.id && roleIds!.includes(role.id) !== member.roles.includes(role.id),
        );
        if (changed.some((role) => !canManageRole(engine, guild, role))) return missingPermissions();
      }
      if ('nick' in body) {
        if (body.nick !== null && (typeof body.nick !== 'string' || body.nick.length > 32))
          return formError('nick', 'BASE_TYPE_MAX_LENGTH', 'Must be 32 or fewer in length.');
        const denied = self
          ? requirePermissions(engine, guild, Permission.ChangeNickname)
          : requireModeration(engine, guild, member, Permission.ManageNicknames);
        if (denied) return denied;
      }
      for (const [field, bit] of [
        ['mute', Permission.MuteMembers],
        ['deaf', Permission.DeafenMembers],
      ] as const) {
        if (typeof body[field] === 'boolean') {
          const denied = requirePermissions(engine, guild, bit);
          if (denied) return denied;
        }
      }
      const changes: { key: string; old_value?: unknown; new_value?: unknown }[] = [];
      if (until !== undefined) {
        changes.push({
          key: 'communication_disabled_until',
          old_value: member.communication_disabled_until,
          new_value: until,
        });
        member.communication_disabled_until = until;
      }
      if ('nick' in body) {
        const nick = body.nick === '' ? null : (body.nick as string | null);
        changes.push({ key: 'nick', old_value: member.nick, new_value: nick });
        member.nick = nick;
      }
      if (changes.length > 0)
        engine.audit(guild, AuditLogEvent.MemberUpdate, member.user.id, context.reason, { changes });
      if (roleIds !== undefined) {
        const added = roleIds.filter((id) => !member.roles.includes(id));
        const removed = member.roles.filter((id) => !roleIds!.includes(id));
        member.roles = roleIds;
        if (added.length + removed.length > 0)
          engine.audit(guild, AuditLogEvent.MemberRoleUpdate, member.user.id, context.reason, {
            changes: [
              ...(added.length > 0 ? [{ key: '$add', new_value: added.map((id) => ({ id })) }] : []),
              ...(removed.length > 0 ? [{ key: '$remove', new_value: removed.map((id) => ({ id })) }] : []),
            ],
          });
      }
      if (typeof body.mute === 'boolean') member.mute = body.mute;
      if (typeof body.deaf === 'boolean') member.deaf = body.deaf;
      if (typeof body.flags === 'number') member.flags = body.flags;
      if (context.engine.echoEvents) context.engine.publishMemberUpdate(guild, member);
      return ok(member);
    },
  },
  {
    method: 'DELETE',
    route: '/guilds/:guild_id/members/:user_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const member = memberOf(context, guild);
      if (isResult(member)) return member;
      const denied = requireModeration(context.engine, guild, member, Permission.KickMembers);
      if (denied) return denied;
      guild.removeMember(member.user.id);
      if (context.engine.echoEvents) context.engine.publishMemberRemove(guild, member.user);
      context.engine.audit(guild, AuditLogEvent.MemberKick, member.user.id, context.reason);
      return noContent();
    },
  },
  ...(['PUT', 'DELETE'] as const).map((method): RouteDefinition => ({
    method,
    route: '/guilds/:guild_id/members/:user_id/roles/:role_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const member = memberOf(context, guild);
      if (isResult(member)) return member;
      const roleId = context.params.role_id as string;
      const role = guild.roles.find((candidate) => candidate.id === roleId);
      if (!role) return unknown('Role');
      const denied = requirePermissions(context.engine, guild, Permission.ManageRoles);
      if (denied) return denied;
      if (!canManageRole(context.engine, guild, role)) return missingPermissions();
      const has = member.roles.includes(roleId);
      if (method === 'PUT' && !has) member.roles = [...member.roles, roleId];
      if (method === 'DELETE' && has) member.roles = member.roles.filter((id) => id !== roleId);
      if (has !== (method === 'PUT')) {
        if (context.engine.echoEvents) context.engine.publishMemberUpdate(guild, member);
        context.engine.audit(guild, AuditLogEvent.MemberRoleUpdate, member.user.id, context.reason, {
          changes: [{ key: method === 'PUT' ? '$add' : '$remove', new_value: [{ id: role.id, name: role.name }] }],
        });
      }
      return noContent();
    },
  })),
  {
    method: 'GET',
    route: '/guilds/:guild_id/bans',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      return requirePermissions(context.engine, guild, Permission.BanMembers) ?? ok([...guild.bans.values()]);
    },
  },
  {
    method: 'GET',
    route: '/guilds/:guild_id/bans/:user_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.BanMembers);
      if (denied) return denied;
      const ban = guild.bans.get(context.params.user_id as string);
      return ban ? ok(ban) : unknown('Ban');
    },
  },
  {
    method: 'PUT',
    route: '/guilds/:guild_id/bans/:user_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const seconds = deleteSecondsOf(record(context.body));
      if (typeof seconds !== 'number') return seconds;
      return banUser(context, guild, context.params.user_id as string, seconds) ?? noContent();
    },
  },
  {
    method: 'DELETE',
    route: '/guilds/:guild_id/bans/:user_id',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.BanMembers);
      if (denied) return denied;
      const ban = guild.bans.get(context.params.user_id as string);
      if (!ban) return unknown('Ban');
      guild.bans.delete(ban.user.id);
      if (context.engine.echoEvents) context.engine.publishBan(guild, ban.user, false);
      context.engine.audit(guild, AuditLogEvent.MemberBanRemove, ban.user.id, context.reason);
      return noContent();
    },
  },
  {
    method: 'POST',
    route: '/guilds/:guild_id/bulk-ban',
    auth: true,
    handle: (context) => {
      const guild = guildOf(context);
      if (isResult(guild)) return guild;
      const denied = requirePermissions(context.engine, guild, Permission.BanMembers | Permission.ManageGuild);
      if (denied) return denied;
      const body = record(context.body);
      if (!Array.isArray(body.user_ids) || body.user_ids.length === 0 || body.user_ids.length > 200) {
        return formError('user_ids', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 200 in length.');
      }
      const seconds = deleteSecondsOf(body);
      if (typeof seconds !== 'number') return seconds;
      const banned: string[] = [];
      const failed: string[] = [];
      for (const userId of body.user_ids.map(String)) {
        if (guild.bans.has(userId) || banUser(context, guild, userId, seconds) !== undefined) failed.push(userId);
        else banned.push(userId);
      }
      // Discord answers an error instead of a result in which nobody was banned.
      if (banned.length === 0) return apiError(400, ApiErrorCode.FailedToBanUsers, 'Failed to ban users');
      return ok({ banned_users: banned, failed_users: failed });
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Channels and messages
// ---------------------------------------------------------------------------------------------

const channelRoutes: RouteDefinition[] = [
  {
    method: 'GET',
    route: '/channels/:channel_id',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context);
      return isResult(entry) ? entry : ok(entry.channel);
    },
  },
  {
    method: 'GET',
    route: '/channels/:channel_id/messages',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context);
      if (isResult(entry)) return entry;
      // Without Read Message History, Discord answers an empty history.
      if (requirePermissions(context.engine, entry.guild, Permission.ReadMessageHistory, entry.channel)) return ok([]);
      const limit = Math.min(100, Math.max(1, Number(context.query.get('limit') ?? 50) || 50));
      let messages = context.engine.world.messages(entry.channel.id).reverse();
      const before = context.query.get('before');
      const after = context.query.get('after');
      for (const [name, value] of [
        ['before', before],
        ['after', after],
      ] as const) {
        if (value !== null && !/^\d{1,20}$/.test(value))
          return formError(name, 'NUMBER_TYPE_COERCE', `Value "${value}" is not snowflake.`);
      }
      if (before !== null) messages = messages.filter((message) => BigInt(message.id) < BigInt(before));
      if (after !== null) messages = messages.filter((message) => BigInt(message.id) > BigInt(after));
      return ok(messages.slice(0, limit));
    },
  },
  {
    method: 'POST',
    route: '/channels/:channel_id/messages',
    auth: true,
    handle: (context) => {
      const target = channelOf(context);
      if (isResult(target)) return target;
      const entry = channelFor(
        context,
        sendPermission(target.channel) | (context.uploads.length > 0 ? Permission.AttachFiles : 0n),
      );
      if (isResult(entry)) return entry;
      const { channel, guild } = entry;
      if (!isTextBased(channel))
        return apiError(400, ApiErrorCode.CannotSendInNonTextChannel, 'Cannot send messages in a non-text channel');
      const body = record(context.body);
      const invalid = validateMessageBody(body, true, [], context.uploads.length);
      if (invalid) return invalid;
      const { world } = context.engine;
      const nonce = typeof body.nonce === 'string' || typeof body.nonce === 'number' ? body.nonce : undefined;
      if (typeof nonce === 'string' && nonce.length > 25)
        return formError('nonce', 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      // enforce_nonce: a repeated send (same author and nonce, within minutes) answers the first message.
      const enforce = body.enforce_nonce === true && nonce !== undefined;
      if (enforce) {
        const earlier = world.messageForNonce(world.bot.id, nonce, context.now);
        if (earlier !== undefined) return ok(earlier);
      }
      let referenced: ApiMessage | null = null;
      const reference = record(body.message_reference);
      if (typeof reference.message_id === 'string') {
        referenced =
          world.getMessage(
            typeof reference.channel_id === 'string' ? reference.channel_id : channel.id,
            reference.message_id,
          ) ?? null;
        if (!referenced && reference.fail_if_not_exists !== false) {
          return formError('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
        }
      }
      const message = world.createMessage({
        channel,
        guild,
        author: world.bot,
        content: typeof body.content === 'string' ? body.content : '',
        embeds: Array.isArray(body.embeds) ? (body.embeds as ApiEmbed[]) : [],
        components: Array.isArray(body.components) ? body.components : [],
        attachments: attachmentsFor(context, channel.id, body),
        flags: typeof body.flags === 'number' ? body.flags : 0,
        tts: body.tts === true,
        referenced,
        timestamp: context.now,
        ...(nonce === undefined ? {} : { nonce }),
      });
      context.engine.publishMessage(message, guild, context.engine.echoEvents);
      if (enforce) world.rememberNonce(nonce, message, context.now);
      return ok(message);
    },
  },
  {
    method: 'POST',
    route: '/channels/:channel_id/messages/bulk-delete',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context, Permission.ManageMessages | Permission.ReadMessageHistory);
      if (isResult(entry)) return entry;
      const ids = record(context.body).messages;
      if (!Array.isArray(ids) || ids.length < 2 || ids.length > 100) {
        return apiError(
          400,
          ApiErrorCode.InvalidBulkDeleteCount,
          'You can only bulk delete messages between 2 and 100 at a time',
        );
      }
      const wanted = ids.map(String);
      if (wanted.some((id) => !isSnowflake(id) || context.now - snowflakeTimestamp(id) > TWO_WEEKS_MS)) {
        return apiError(
          400,
          ApiErrorCode.BulkDeleteTooOld,
          'You can only bulk delete messages that are under 14 days old.',
        );
      }
      const deleted = wanted.filter((id) => context.engine.world.deleteMessage(entry.channel.id, id) !== undefined);
      if (context.engine.echoEvents && entry.guild && deleted.length > 0) {
        context.engine.gateway.dispatchToGuild(entry.guild, 'MESSAGE_DELETE_BULK', {
          ids: deleted,
          channel_id: entry.channel.id,
          guild_id: entry.guild.id,
        });
      }
      if (entry.guild && deleted.length > 0)
        context.engine.audit(entry.guild, AuditLogEvent.MessageBulkDelete, entry.channel.id, context.reason, {
          options: { count: String(deleted.length) },
        });
      return noContent();
    },
  },
  {
    method: 'GET',
    route: '/channels/:channel_id/messages/:message_id',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context, Permission.ReadMessageHistory);
      if (isResult(entry)) return entry;
      const message = messageOf(context, entry.channel.id);
      return isResult(message) ? message : ok(message);
    },
  },
  {
    method: 'PATCH',
    route: '/channels/:channel_id/messages/:message_id',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context);
      if (isResult(entry)) return entry;
      const message = messageOf(context, entry.channel.id);
      if (isResult(message)) return message;
      if (message.author.id !== context.engine.world.bot.id)
        return apiError(
          403,
          ApiErrorCode.CannotEditOtherUsersMessage,
          'Cannot edit a message authored by another user',
        );
      const body = record(context.body);
      const invalid = validateMessageBody(body, false, [], context.uploads.length);
      if (invalid) return invalid;
      applyEdit(message, body, context.now);
      if (context.uploads.length > 0 || Array.isArray(body.attachments))
        message.attachments = attachmentsFor(context, message.channel_id, body, message.attachments);
      if (context.engine.echoEvents) context.engine.publishMessageUpdate(message, entry.guild);
      return ok(message);
    },
  },
  {
    method: 'DELETE',
    route: '/channels/:channel_id/messages/:message_id',
    auth: true,
    handle: (context) => {
      const entry = channelFor(context);
      if (isResult(entry)) return entry;
      const message = messageOf(context, entry.channel.id);
      if (isResult(message)) return message;
      if (message.author.id !== context.engine.world.bot.id) {
        const denied = requirePermissions(context.engine, entry.guild, Permission.ManageMessages, entry.channel);
        if (denied) return denied;
        if (entry.guild)
          context.engine.audit(entry.guild, AuditLogEvent.MessageDelete, message.author.id, context.reason, {
            options: { channel_id: entry.channel.id, count: '1' },
          });
      }
      if (context.engine.echoEvents) context.engine.publishMessageDelete(entry.channel.id, message.id, entry.guild);
      else context.engine.world.deleteMessage(entry.channel.id, message.id);
      return noContent();
    },
  },
  {
    method: 'POST',
    route: '/channels/:channel_id/typing',
    auth: true,
    handle: (context) => {
      const target = channelOf(context);
      if (isResult(target)) return target;
      const entry = channelFor(context, sendPermission(target.channel));
      return isResult(entry) ? entry : noContent();
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Interactions and their webhooks
// ---------------------------------------------------------------------------------------------

function interactionMessage(
  context: RouteContext,
  interaction: InteractionState,
  body: Record<string, unknown>,
  flags: number,
): ApiMessage | RouteResult {
  const { world } = context.engine;
  const entry = world.channels.get(interaction.channelId);
  if (!entry) return unknown('Channel');
  const data = record(interaction.payload.data);
  return world.createMessage({
    channel: entry.channel,
    guild: entry.guild,
    author: world.bot,
    content: typeof body.content === 'string' ? body.content : '',
    embeds: Array.isArray(body.embeds) ? (body.embeds as ApiEmbed[]) : [],
    components: Array.isArray(body.components) ? body.components : [],
    attachments: attachmentsFor(context, entry.channel.id, body),
    flags,
    tts: body.tts === true,
    type: 20,
    webhookId: world.applicationId,
    interactionMetadata: {
      id: interaction.id,
      type: interaction.type,
      ...(interaction.type === 2 ? { name: data.name } : {}),
      ...(interaction.message === null ? {} : { interacted_message_id: interaction.message.id }),
      user: interactionUser(world, interaction),
      authorizing_integration_owners: interaction.payload.authorizing_integration_owners,
    },
    timestamp: context.now,
  });
}

/**
 * The user who ran the interaction, as the interaction carried it: the member may have left (and
 * been forgotten by the world) before the bot answered, but Discord still names them.
 */
function interactionUser(world: RouteContext['engine']['world'], interaction: InteractionState): unknown {
  const payload = record(interaction.payload);
  const member = record(payload.member);
  return member.user ?? payload.user ?? world.users.get(interaction.userId);
}

/** The callback types Discord accepts for an interaction, by its type (6 and 7 only on a message's component). */
function callbackTypesFor(interaction: InteractionState): number[] {
  switch (interaction.type) {
    case 1:
      return [1];
    case 3:
      return [4, 5, 6, 7, 9];
    case 4:
      return [8];
    case 5:
      return interaction.message === null ? [4, 5] : [4, 5, 6, 7];
    default:
      return [4, 5, 9];
  }
}

function webhookInteraction(context: RouteContext): InteractionState | RouteResult {
  if (context.params.webhook_id !== context.engine.world.applicationId) return unknown('Webhook');
  const interaction = context.engine.interactionByToken(context.params.webhook_token as string, context.now);
  return interaction ?? unknown('Webhook');
}

function webhookMessage(interaction: InteractionState, messageId: string): ApiMessage | undefined {
  if (messageId === '@original') return interaction.original ?? undefined;
  return (
    interaction.followups.get(messageId) ?? (interaction.original?.id === messageId ? interaction.original : undefined)
  );
}

function publishUnlessEphemeral(
  context: RouteContext,
  message: ApiMessage,
  interaction: InteractionState,
  update: boolean,
): void {
  if (!context.engine.echoEvents || (message.flags & EPHEMERAL) !== 0) return;
  const guild = interaction.guildId === null ? null : (context.engine.world.guilds.get(interaction.guildId) ?? null);
  if (update) context.engine.publishMessageUpdate(message, guild);
  else context.engine.publishMessage(message, guild);
}

const interactionRoutes: RouteDefinition[] = [
  {
    method: 'POST',
    route: '/interactions/:interaction_id/:interaction_token/callback',
    auth: false,
    handle: (context) => {
      const { engine } = context;
      const interaction = engine.interactionByToken(context.params.interaction_token as string, context.now);
      if (
        !interaction ||
        interaction.id !== context.params.interaction_id ||
        context.now - interaction.createdAt >= engine.interactionTimeoutMs
      ) {
        return unknown('interaction');
      }
      if (interaction.acknowledged)
        return apiError(400, ApiErrorCode.InteractionAlreadyAcknowledged, 'Interaction has already been acknowledged.');
      const body = record(context.body);
      const type = body.type;
      const allowed = callbackTypesFor(interaction);
      if (typeof type !== 'number' || !allowed.includes(type))
        return formError('type', 'BASE_TYPE_CHOICES', `Value must be one of {${allowed.join(', ')}}.`);
      const data = record(body.data);
      let message: ApiMessage | null = null;
      if (type === 4 || type === 5) {
        if (type === 4) {
          const invalid = validateMessageBody(data, true, ['data'], context.uploads.length);
          if (invalid) return invalid;
        }
        const requested = typeof data.flags === 'number' ? data.flags : 0;
        const flags = type === 4 ? requested : (requested & EPHEMERAL) | LOADING;
        const created = interactionMessage(context, interaction, type === 4 ? data : {}, flags);
        if (isResult(created)) return created;
        message = created;
        interaction.original = message;
        if ((message.flags & EPHEMERAL) === 0) engine.world.storeMessage(message);
        publishUnlessEphemeral(context, message, interaction, false);
      } else if (type === 6 || type === 7) {
        // Both answer on the message the component is on: it becomes the response's @original.
        const target = interaction.message;
        if (target === null) return unknown('Message');
        if (type === 7) {
          const invalid = validateMessageBody(data, false, ['data']);
          if (invalid) return invalid;
          applyEdit(target, data, context.now);
          publishUnlessEphemeral(context, target, interaction, true);
          message = target;
        }
        interaction.original = target;
      } else if (type === 8) {
        const invalid = validateAutocomplete(data);
        if (invalid) return invalid;
      } else if (type === 9) {
        const invalid = validateModal(data);
        if (invalid) return invalid;
        interaction.modal = data;
      }
      interaction.callbackAt = context.now;
      interaction.record({ kind: 'callback', type, data: body.data ?? null, message, time: context.now });
      if (context.query.get('with_response') !== 'true') return noContent();
      const resource: Record<string, unknown> = { type };
      if (message) resource.message = message;
      return ok({
        interaction: {
          id: interaction.id,
          type: interaction.payload.type,
          activity_instance_id: null,
          response_message_id: message?.id ?? null,
          response_message_loading: type === 5,
          response_message_ephemeral: message ? (message.flags & EPHEMERAL) !== 0 : false,
        },
        resource,
      });
    },
  },
  {
    method: 'POST',
    route: '/webhooks/:webhook_id/:webhook_token',
    auth: false,
    handle: (context) => {
      if (context.params.webhook_id !== context.engine.world.applicationId) return executeWebhook(context);
      const interaction = webhookInteraction(context);
      if (isResult(interaction)) return interaction;
      if (!interaction.acknowledged) return unknown('Webhook');
      const body = record(context.body);
      const invalid = validateMessageBody(body, true, [], context.uploads.length);
      if (invalid) return invalid;
      const message = interactionMessage(context, interaction, body, typeof body.flags === 'number' ? body.flags : 0);
      if (isResult(message)) return message;
      interaction.followups.set(message.id, message);
      if ((message.flags & EPHEMERAL) === 0) context.engine.world.storeMessage(message);
      publishUnlessEphemeral(context, message, interaction, false);
      interaction.record({ kind: 'followup', type: null, data: context.body ?? null, message, time: context.now });
      return context.query.get('wait') === 'false' ? noContent() : ok(message);
    },
  },
  {
    method: 'GET',
    route: '/webhooks/:webhook_id/:webhook_token/messages/:message_id',
    auth: false,
    handle: (context) => {
      const interaction = webhookInteraction(context);
      if (isResult(interaction)) return interaction;
      const message = webhookMessage(interaction, context.params.message_id as string);
      if (!message) return unknown('Message');
      interaction.record({ kind: 'fetchOriginal', type: null, data: null, message, time: context.now });
      return ok(message);
    },
  },
  {
    method: 'PATCH',
    route: '/webhooks/:webhook_id/:webhook_token/messages/:message_id',
    auth: false,
    handle: (context) => {
      const interaction = webhookInteraction(context);
      if (isResult(interaction)) return interaction;
      const messageId = context.params.message_id as string;
      const message = webhookMessage(interaction, messageId);
      if (!message) return unknown('Message');
      const body = record(context.body);
      const invalid = validateMessageBody(body, false, [], context.uploads.length);
      if (invalid) return invalid;
      applyEdit(message, body, context.now);
      if (context.uploads.length > 0 || Array.isArray(body.attachments))
        message.attachments = attachmentsFor(context, message.channel_id, body, message.attachments);
      publishUnlessEphemeral(context, message, interaction, true);
      const original = message === interaction.original;
      interaction.record({
        kind: original ? 'editOriginal' : 'editFollowup',
        type: null,
        data: context.body ?? null,
        message,
        time: context.now,
      });
      return ok(message);
    },
  },
  {
    method: 'DELETE',
    route: '/webhooks/:webhook_id/:webhook_token/messages/:message_id',
    auth: false,
    handle: (context) => {
      const interaction = webhookInteraction(context);
      if (isResult(interaction)) return interaction;
      const message = webhookMessage(interaction, context.params.message_id as string);
      if (!message) return unknown('Message');
      const original = message === interaction.original;
      if (original) interaction.original = null;
      else interaction.followups.delete(message.id);
      const guild =
        interaction.guildId === null ? null : (context.engine.world.guilds.get(interaction.guildId) ?? null);
      if (context.engine.echoEvents && (message.flags & EPHEMERAL) === 0)
        context.engine.publishMessageDelete(message.channel_id, message.id, guild);
      else context.engine.world.deleteMessage(message.channel_id, message.id);
      interaction.record({
        kind: original ? 'deleteOriginal' : 'deleteFollowup',
        type: null,
        data: null,
        message,
        time: context.now,
      });
      return noContent();
    },
  },
];

/** Every route of the simulator; literal segments are listed before parameters that could shadow them. */
export const ROUTES: readonly RouteDefinition[] = [
  ...gatewayRoutes,
  ...userRoutes,
  ...commandRoutes('/applications/:application_id/commands'),
  ...commandRoutes('/applications/:application_id/guilds/:guild_id/commands'),
  ...guildRoutes,
  ...RESOURCE_ROUTES,
  ...channelRoutes,
  ...interactionRoutes,
];
