import { GatewayIntent } from './protocol.js';

/** The intent a guild dispatch needs; events not listed here are always sent. */
export const GUILD_EVENT_INTENTS: Readonly<Record<string, number>> = {
  GUILD_CREATE: GatewayIntent.Guilds,
  GUILD_UPDATE: GatewayIntent.Guilds,
  GUILD_DELETE: GatewayIntent.Guilds,
  GUILD_ROLE_CREATE: GatewayIntent.Guilds,
  GUILD_ROLE_UPDATE: GatewayIntent.Guilds,
  GUILD_ROLE_DELETE: GatewayIntent.Guilds,
  CHANNEL_CREATE: GatewayIntent.Guilds,
  CHANNEL_UPDATE: GatewayIntent.Guilds,
  CHANNEL_DELETE: GatewayIntent.Guilds,
  THREAD_CREATE: GatewayIntent.Guilds,
  THREAD_UPDATE: GatewayIntent.Guilds,
  THREAD_DELETE: GatewayIntent.Guilds,
  THREAD_LIST_SYNC: GatewayIntent.Guilds,
  THREAD_MEMBER_UPDATE: GatewayIntent.Guilds,
  THREAD_MEMBERS_UPDATE: GatewayIntent.Guilds,
  CHANNEL_PINS_UPDATE: GatewayIntent.Guilds,
  GUILD_EMOJIS_UPDATE: GatewayIntent.GuildExpressions,
  WEBHOOKS_UPDATE: GatewayIntent.GuildWebhooks,
  INVITE_CREATE: GatewayIntent.GuildInvites,
  INVITE_DELETE: GatewayIntent.GuildInvites,
  GUILD_MEMBER_ADD: GatewayIntent.GuildMembers,
  GUILD_MEMBER_UPDATE: GatewayIntent.GuildMembers,
  GUILD_MEMBER_REMOVE: GatewayIntent.GuildMembers,
  GUILD_BAN_ADD: GatewayIntent.GuildModeration,
  GUILD_BAN_REMOVE: GatewayIntent.GuildModeration,
  GUILD_AUDIT_LOG_ENTRY_CREATE: GatewayIntent.GuildModeration,
  PRESENCE_UPDATE: GatewayIntent.GuildPresences,
  MESSAGE_CREATE: GatewayIntent.GuildMessages,
  MESSAGE_UPDATE: GatewayIntent.GuildMessages,
  MESSAGE_DELETE: GatewayIntent.GuildMessages,
  MESSAGE_DELETE_BULK: GatewayIntent.GuildMessages,
  MESSAGE_REACTION_ADD: GatewayIntent.GuildMessageReactions,
  MESSAGE_REACTION_REMOVE: GatewayIntent.GuildMessageReactions,
  MESSAGE_REACTION_REMOVE_ALL: GatewayIntent.GuildMessageReactions,
  MESSAGE_REACTION_REMOVE_EMOJI: GatewayIntent.GuildMessageReactions,
  TYPING_START: GatewayIntent.GuildMessageTyping,
};

/** The intent a direct-message dispatch needs. */
export const DM_EVENT_INTENTS: Readonly<Record<string, number>> = {
  MESSAGE_CREATE: GatewayIntent.DirectMessages,
  MESSAGE_UPDATE: GatewayIntent.DirectMessages,
  MESSAGE_DELETE: GatewayIntent.DirectMessages,
  TYPING_START: GatewayIntent.DirectMessageTyping,
  MESSAGE_REACTION_ADD: GatewayIntent.DirectMessageReactions,
  MESSAGE_REACTION_REMOVE: GatewayIntent.DirectMessageReactions,
  MESSAGE_REACTION_REMOVE_ALL: GatewayIntent.DirectMessageReactions,
  MESSAGE_REACTION_REMOVE_EMOJI: GatewayIntent.DirectMessageReactions,
  CHANNEL_PINS_UPDATE: GatewayIntent.DirectMessages,
};

/** How often a client may send, as Discord enforces it: 120 payloads per 60 seconds. */
export const CLIENT_SEND_LIMIT = 120;
export const CLIENT_SEND_WINDOW_MS = 60_000;
