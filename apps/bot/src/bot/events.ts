import type {
  ChatInputCommandInteraction,
  CommandInteractionOption,
  Guild,
  GuildMember,
  Message,
  PartialGuildMember,
  PartialMessage,
} from 'discord.js';
import { ApplicationCommandOptionType, ChannelType, PermissionFlagsBits } from 'discord.js';
import type {
  CommandEvent,
  CommandOptionValue,
  MemberJoinEvent,
  MemberLeaveEvent,
  MessageDeleteEvent,
  MessageEvent,
} from '../protocol.js';

/**
 * Turns discord.js objects into the plain events of `protocol.ts`. Each function is synchronous,
 * so events reach a guild's worker in the order the gateway delivered them.
 */

/** A user's message in a guild, or `undefined` for what the workers never see (bots, webhooks, system messages, DMs). */
export function toMessageEvent(message: Message): MessageEvent | undefined {
  if (!message.inGuild() || message.author.bot || message.system || message.webhookId !== null) return undefined;
  return {
    type: 'message',
    guildId: message.guildId,
    channelId: message.channelId,
    messageId: message.id,
    authorId: message.author.id,
    authorIsModerator: message.member?.permissions.has(PermissionFlagsBits.ManageMessages) ?? false,
    content: message.content,
    timestamp: message.createdTimestamp,
  };
}

/** A deleted guild message (possibly one the cache never saw), or `undefined` outside guilds. */
export function toMessageDeleteEvent(message: Message | PartialMessage): MessageDeleteEvent | undefined {
  if (message.guildId === null) return undefined;
  return { type: 'messageDelete', guildId: message.guildId, channelId: message.channelId, messageId: message.id };
}

/** Where a welcome goes by default: the system channel, else the first text channel. */
export function defaultChannelId(guild: Guild): string | null {
  if (guild.systemChannelId !== null) return guild.systemChannelId;
  const text = guild.channels.cache
    .filter((channel) => channel.type === ChannelType.GuildText)
    .sort((a, b) => a.rawPosition - b.rawPosition);
  return text.first()?.id ?? null;
}

/** A member who joined, with where a welcome would go by default. */
export function toMemberJoinEvent(member: GuildMember): MemberJoinEvent {
  return {
    type: 'memberJoin',
    guildId: member.guild.id,
    userId: member.id,
    username: member.user.username,
    bot: member.user.bot,
    defaultChannelId: defaultChannelId(member.guild),
  };
}

/** A member who left or was removed (possibly one the cache never saw). */
export function toMemberLeaveEvent(member: GuildMember | PartialGuildMember): MemberLeaveEvent {
  return { type: 'memberLeave', guildId: member.guild.id, userId: member.id };
}

function collectOptions(options: readonly CommandInteractionOption[], into: Record<string, CommandOptionValue>): void {
  for (const option of options) {
    if (
      option.type === ApplicationCommandOptionType.Subcommand ||
      option.type === ApplicationCommandOptionType.SubcommandGroup
    ) {
      collectOptions(option.options ?? [], into);
    } else if (option.value !== undefined && option.value !== null) {
      into[option.name] = option.value;
    }
  }
}

/** A slash command run in a guild, or `undefined` outside guilds. Users, channels and roles become their ids. */
export function toCommandEvent(interaction: ChatInputCommandInteraction): CommandEvent | undefined {
  if (interaction.guildId === null) return undefined;
  const options: Record<string, CommandOptionValue> = {};
  collectOptions(interaction.options.data, options);
  return {
    type: 'command',
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    userId: interaction.user.id,
    command: interaction.commandName,
    subcommand: interaction.options.getSubcommand(false),
    options,
    canManageGuild: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false,
  };
}
