import type { SimEngine } from '../sim/SimEngine.js';
import type { GuildState } from '../world/GuildState.js';
import { highestRolePosition, Permission } from '../world/permissions.js';
import type { ApiChannel, ApiGuildMember, ApiRole } from '../world/types.js';
import type { RouteResult } from './responses.js';
import { apiError, ApiErrorCode, missingPermissions } from './responses.js';

/** 403 50001: the bot cannot see the channel (or the resource) at all. */
export function missingAccess(): RouteResult {
  return apiError(403, ApiErrorCode.MissingAccess, 'Missing Access');
}

/** The bot's member in `guild` (it is always one). */
export function botMember(engine: SimEngine, guild: GuildState): ApiGuildMember | undefined {
  return guild.members.get(engine.world.bot.id);
}

/** The bot's permissions in `guild`, or in `channel` with its overwrites. */
export function botPermissions(engine: SimEngine, guild: GuildState, channel?: ApiChannel): bigint {
  const member = botMember(engine, guild);
  return member ? engine.world.permissionBits(guild, member, channel) : 0n;
}

/**
 * `undefined` when the bot has every bit of `needed` (in `channel` when given), else Discord's
 * answer: 50001 when it cannot even view the channel, 50013 otherwise.
 */
export function requirePermissions(
  engine: SimEngine,
  guild: GuildState | null,
  needed: bigint,
  channel?: ApiChannel,
): RouteResult | undefined {
  if (guild === null) return undefined;
  const bits = botPermissions(engine, guild, channel);
  if (channel !== undefined && (bits & Permission.ViewChannel) === 0n) return missingAccess();
  return (bits & needed) === needed ? undefined : missingPermissions();
}

/** Whether the bot is above `target` in the role hierarchy (the owner is above everyone, nobody above the owner). */
export function outranks(engine: SimEngine, guild: GuildState, target: ApiGuildMember): boolean {
  const bot = botMember(engine, guild);
  if (!bot || target.user.id === guild.ownerId) return false;
  if (bot.user.id === guild.ownerId) return true;
  return highestRolePosition(guild, bot) > highestRolePosition(guild, target);
}

/** Whether the bot may give, take or edit `role`: below its highest role (unless it owns the guild), and not managed. */
export function canManageRole(engine: SimEngine, guild: GuildState, role: ApiRole): boolean {
  const bot = botMember(engine, guild);
  if (!bot) return false;
  if (role.managed && role.tags?.bot_id !== undefined) return false;
  if (bot.user.id === guild.ownerId) return true;
  return role.position < highestRolePosition(guild, bot);
}

/**
 * A moderation action on `target` (kick, ban, timeout, nickname): the bot needs `needed` and must
 * outrank the target; the owner can never be acted on.
 */
export function requireModeration(
  engine: SimEngine,
  guild: GuildState,
  target: ApiGuildMember | undefined,
  needed: bigint,
): RouteResult | undefined {
  const denied = requirePermissions(engine, guild, needed);
  if (denied) return denied;
  if (target === undefined) return undefined;
  if (target.user.id === engine.world.bot.id) return missingPermissions();
  return outranks(engine, guild, target) ? undefined : missingPermissions();
}
