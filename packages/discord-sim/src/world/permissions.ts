import type { GuildState } from './GuildState.js';
import type { ApiChannel, ApiGuildMember } from './types.js';

/** Permission bits the simulator uses (a subset of Discord's). */
export const Permission = {
  CreateInstantInvite: 1n << 0n,
  KickMembers: 1n << 1n,
  BanMembers: 1n << 2n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewAuditLog: 1n << 7n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  Connect: 1n << 20n,
  Speak: 1n << 21n,
  MuteMembers: 1n << 22n,
  DeafenMembers: 1n << 23n,
  ChangeNickname: 1n << 26n,
  ManageNicknames: 1n << 27n,
  ManageRoles: 1n << 28n,
  ManageWebhooks: 1n << 29n,
  ManageGuildExpressions: 1n << 30n,
  UseApplicationCommands: 1n << 31n,
  ManageEvents: 1n << 33n,
  ManageThreads: 1n << 34n,
  CreatePublicThreads: 1n << 35n,
  CreatePrivateThreads: 1n << 36n,
  UseExternalStickers: 1n << 37n,
  SendMessagesInThreads: 1n << 38n,
  ModerateMembers: 1n << 40n,
  PinMessages: 1n << 51n,
} as const;

/** Every permission bit Discord currently defines, what an administrator has. */
export const ALL_PERMISSIONS = (1n << 53n) - 1n;

/**
 * The bot's role when a scenario does not say otherwise: what the invite of a moderation bot asks
 * for (read and send in channels and threads, embeds, files, reactions, pins, manage messages,
 * threads, channels, roles, nicknames and webhooks, kick, ban, timeout, audit log, invites). Not
 * Administrator and not Manage Server: a bot that needs those must say so in its scenario.
 */
export const DEFAULT_BOT_PERMISSIONS =
  Permission.CreateInstantInvite |
  Permission.KickMembers |
  Permission.BanMembers |
  Permission.ManageChannels |
  Permission.AddReactions |
  Permission.ViewAuditLog |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.ManageMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.UseExternalEmojis |
  Permission.ChangeNickname |
  Permission.ManageNicknames |
  Permission.ManageRoles |
  Permission.ManageWebhooks |
  Permission.UseApplicationCommands |
  Permission.ManageThreads |
  Permission.CreatePublicThreads |
  Permission.CreatePrivateThreads |
  Permission.SendMessagesInThreads |
  Permission.ModerateMembers |
  Permission.PinMessages;

/** What `@everyone` may do in a generated guild. */
export const EVERYONE_PERMISSIONS =
  Permission.CreateInstantInvite |
  Permission.AddReactions |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.UseExternalEmojis |
  Permission.Connect |
  Permission.Speak |
  Permission.ChangeNickname |
  Permission.UseApplicationCommands;

/** What a generated `Moderator` role may do on top of `@everyone`. */
export const MODERATOR_PERMISSIONS =
  Permission.KickMembers |
  Permission.BanMembers |
  Permission.ViewAuditLog |
  Permission.ManageMessages |
  Permission.ManageNicknames |
  Permission.ManageRoles |
  Permission.ModerateMembers;

/**
 * A member's guild-wide permissions, as Discord computes them: the owner has all, else the union of
 * `@everyone` and the member's roles, and Administrator means all.
 */
export function basePermissions(guild: GuildState, member: ApiGuildMember): bigint {
  if (guild.ownerId === member.user.id) return ALL_PERMISSIONS;
  let bits = BigInt(guild.roles.find((role) => role.id === guild.id)?.permissions ?? '0');
  for (const roleId of member.roles) {
    const role = guild.roles.find((candidate) => candidate.id === roleId);
    if (role) bits |= BigInt(role.permissions);
  }
  return (bits & Permission.Administrator) === 0n ? bits : ALL_PERMISSIONS;
}

/**
 * A member's permissions in a channel: the base permissions with the channel's overwrites applied
 * in Discord's order (`@everyone`, then the member's roles together, then the member), and without
 * View Channel nothing else.
 */
export function channelPermissions(
  guild: GuildState,
  member: ApiGuildMember,
  channel: ApiChannel,
  base = basePermissions(guild, member),
): bigint {
  if ((base & Permission.Administrator) !== 0n) return ALL_PERMISSIONS;
  const overwrites = channel.permission_overwrites ?? [];
  let bits = base;
  const everyone = overwrites.find((overwrite) => overwrite.id === guild.id);
  if (everyone) bits = (bits & ~BigInt(everyone.deny)) | BigInt(everyone.allow);
  let allow = 0n;
  let deny = 0n;
  for (const overwrite of overwrites) {
    if (overwrite.type === 0 && overwrite.id !== guild.id && member.roles.includes(overwrite.id)) {
      allow |= BigInt(overwrite.allow);
      deny |= BigInt(overwrite.deny);
    }
  }
  bits = (bits & ~deny) | allow;
  const own = overwrites.find((overwrite) => overwrite.type === 1 && overwrite.id === member.user.id);
  if (own) bits = (bits & ~BigInt(own.deny)) | BigInt(own.allow);
  if ((bits & Permission.ViewChannel) === 0n) return 0n;
  // A member in timeout keeps only View Channel and Read Message History (Discord's rule).
  if (member.communication_disabled_until !== null && Date.parse(member.communication_disabled_until) > Date.now())
    bits &= Permission.ViewChannel | Permission.ReadMessageHistory;
  return bits;
}

/** The position of a member's highest role (0 for `@everyone` only). */
export function highestRolePosition(guild: GuildState, member: ApiGuildMember): number {
  let highest = 0;
  for (const roleId of member.roles) {
    const role = guild.roles.find((candidate) => candidate.id === roleId);
    if (role && role.position > highest) highest = role.position;
  }
  return highest;
}
