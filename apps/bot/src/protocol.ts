/**
 * What crosses between the main thread and the worker threads: plain, structured-cloneable
 * objects. The main thread turns discord.js objects into {@link BotEvent}s; workers answer with a
 * {@link Decision} that the main thread carries out through Discord's REST API. Workers never see
 * the token, the database or a discord.js object.
 */

/** A user posted a message in a guild channel (bots' messages are never dispatched). */
export interface MessageEvent {
  readonly type: 'message';
  readonly guildId: string;
  readonly channelId: string;
  readonly messageId: string;
  readonly authorId: string;
  /** Whether the author may manage messages: moderators are exempt from the filters. */
  readonly authorIsModerator: boolean;
  readonly content: string;
  /** When the message was created (Unix ms, from its snowflake): the clock anti-spam windows use. */
  readonly timestamp: number;
  /**
   * Set when the message is dispatched again because the worker handling it crashed: that worker
   * may have recorded a strike for it before dying, which the new one must not count twice, and
   * whose punishment it must still decide (the crash lost the decision).
   */
  readonly redelivered?: boolean;
}

/** A message was deleted (by anyone). */
export interface MessageDeleteEvent {
  readonly type: 'messageDelete';
  readonly guildId: string;
  readonly channelId: string;
  readonly messageId: string;
}

/** A user joined a guild. */
export interface MemberJoinEvent {
  readonly type: 'memberJoin';
  readonly guildId: string;
  readonly userId: string;
  readonly username: string;
  readonly bot: boolean;
  /** Where a welcome goes when the guild configured no channel: the system channel, else the first text channel. */
  readonly defaultChannelId: string | null;
}

/** A member left or was removed from a guild. */
export interface MemberLeaveEvent {
  readonly type: 'memberLeave';
  readonly guildId: string;
  readonly userId: string;
}

/** A slash command option value as the worker sees it (users, channels and roles as their ids). */
export type CommandOptionValue = string | number | boolean;

/** A member ran one of the bot's slash commands. */
export interface CommandEvent {
  readonly type: 'command';
  readonly guildId: string;
  readonly channelId: string;
  readonly userId: string;
  /** `stats` or `config`. */
  readonly command: string;
  /** The subcommand, if the command has them. */
  readonly subcommand: string | null;
  readonly options: Readonly<Record<string, CommandOptionValue>>;
  /** Whether the member has Manage Server (required to change the configuration). */
  readonly canManageGuild: boolean;
}

/** Every event the main thread dispatches to a guild's worker. */
export type BotEvent = MessageEvent | MessageDeleteEvent | MemberJoinEvent | MemberLeaveEvent | CommandEvent;

/** Time a member out: `PATCH /guilds/:guild/members/:user` with `communication_disabled_until`. */
export interface TimeoutAction {
  readonly type: 'timeout';
  readonly userId: string;
  readonly durationMs: number;
  readonly reason: string;
}

/** Ban a member: `PUT /guilds/:guild/bans/:user`. */
export interface BanAction {
  readonly type: 'ban';
  readonly userId: string;
  readonly reason: string;
  /** Delete the user's messages of this many last seconds (0 to 604800). */
  readonly deleteMessageSeconds: number;
}

/** Delete a message: `DELETE /channels/:channel/messages/:message`. */
export interface DeleteMessageAction {
  readonly type: 'deleteMessage';
  readonly channelId: string;
  readonly messageId: string;
  /** The message's author. */
  readonly userId: string;
  readonly reason: string;
}

/** Post a message: `POST /channels/:channel/messages`. Only the listed users may be pinged. */
export interface SendMessageAction {
  readonly type: 'sendMessage';
  readonly channelId: string;
  readonly content: string;
  readonly mentionUserIds: readonly string[];
}

/** Give a member a role: `PUT /guilds/:guild/members/:user/roles/:role`. */
export interface AddRoleAction {
  readonly type: 'addRole';
  readonly userId: string;
  readonly roleId: string;
  readonly reason: string;
}

/** What a worker asks the main thread to do. */
export type BotAction = TimeoutAction | BanAction | DeleteMessageAction | SendMessageAction | AddRoleAction;

/** The kinds of {@link BotAction}. */
export type BotActionType = BotAction['type'];

/** The answer to a slash command, sent as the interaction's reply. */
export interface CommandReply {
  readonly content: string;
  /** Only the member who ran the command sees it. */
  readonly ephemeral: boolean;
}

/** A worker's answer to one event. */
export interface Decision {
  /** Carried out by the main thread, in order. */
  readonly actions: readonly BotAction[];
  /** Set for commands: what to answer. */
  readonly reply?: CommandReply;
}

/** The actions that are moderation, and so written to the `moderation_actions` audit table. */
export const AUDITED_ACTIONS: ReadonlySet<BotActionType> = new Set(['timeout', 'ban', 'deleteMessage', 'addRole']);
