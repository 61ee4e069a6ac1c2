/** Gateway opcodes (API v10). */
export const GatewayOp = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
  RequestSoundboardSounds: 31,
} as const;

/** Gateway close codes the simulator uses, with Discord's meaning. */
export const GatewayCloseCode = {
  UnknownError: 4000,
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidSeq: 4007,
  RateLimited: 4008,
  SessionTimedOut: 4009,
  InvalidShard: 4010,
  ShardingRequired: 4011,
  InvalidApiVersion: 4012,
  InvalidIntents: 4013,
  DisallowedIntents: 4014,
} as const;

/** Gateway intents (bit values). */
export const GatewayIntent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildModeration: 1 << 2,
  GuildExpressions: 1 << 3,
  GuildIntegrations: 1 << 4,
  GuildWebhooks: 1 << 5,
  GuildInvites: 1 << 6,
  GuildVoiceStates: 1 << 7,
  GuildPresences: 1 << 8,
  GuildMessages: 1 << 9,
  GuildMessageReactions: 1 << 10,
  GuildMessageTyping: 1 << 11,
  DirectMessages: 1 << 12,
  DirectMessageReactions: 1 << 13,
  DirectMessageTyping: 1 << 14,
  MessageContent: 1 << 15,
  GuildScheduledEvents: 1 << 16,
  AutoModerationConfiguration: 1 << 20,
  AutoModerationExecution: 1 << 21,
  GuildMessagePolls: 1 << 24,
  DirectMessagePolls: 1 << 25,
} as const;

/** Every intent bit Discord defines; IDENTIFY with any other bit closes with 4013. */
export const ALL_INTENTS = Object.values(GatewayIntent).reduce((all, bit) => all | bit, 0);

/** The intents an application must be approved for; without approval IDENTIFY closes with 4014. */
export const PRIVILEGED_INTENTS = GatewayIntent.GuildMembers | GatewayIntent.GuildPresences | GatewayIntent.MessageContent;

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
  TYPING_START: GatewayIntent.GuildMessageTyping,
};

/** The intent a direct-message dispatch needs. */
export const DM_EVENT_INTENTS: Readonly<Record<string, number>> = {
  MESSAGE_CREATE: GatewayIntent.DirectMessages,
  MESSAGE_UPDATE: GatewayIntent.DirectMessages,
  MESSAGE_DELETE: GatewayIntent.DirectMessages,
  TYPING_START: GatewayIntent.DirectMessageTyping,
};

/** How often a client may send, as Discord enforces it: 120 payloads per 60 seconds. */
export const CLIENT_SEND_LIMIT = 120;
export const CLIENT_SEND_WINDOW_MS = 60_000;
