/** The kinds of guild channel the simulator creates by name, or a raw Discord channel type number. */
export type ChannelKind = 'text' | 'voice' | 'category' | 'announcement' | 'forum';

/** A channel to create in a guild. */
export interface ChannelSpec {
  /** Snowflake of the channel. @default generated */
  id?: string;
  /** Channel name, e.g. `general`. */
  name: string;
  /** @default 'text' */
  type?: ChannelKind | number;
  /** @default null */
  topic?: string | null;
  /** Name or id of the category this channel sits in. @default none */
  parent?: string;
  /** @default false */
  nsfw?: boolean;
}

/** A role to create in a guild (the `@everyone` role is always created). */
export interface RoleSpec {
  /** Snowflake of the role. @default generated */
  id?: string;
  name: string;
  /** Permission bits as a decimal string or bigint. @default '0' */
  permissions?: string | bigint;
  /** @default 0 */
  color?: number;
  /** @default false */
  hoist?: boolean;
  /** @default false */
  mentionable?: boolean;
}

/** A user to create. */
export interface UserSpec {
  /** Snowflake of the user. @default generated, with a timestamp between 2015 and 2024 */
  id?: string;
  /** @default generated (`quiet_otter_12` style) */
  username?: string;
  /** @default null */
  globalName?: string | null;
  /** @default false */
  bot?: boolean;
}

/** A member to add to a guild: a user plus its guild-specific state. */
export interface MemberSpec extends UserSpec {
  /** Names or ids of the guild roles the member has. @default [] */
  roles?: readonly string[];
  /** @default null */
  nick?: string | null;
  /** When the member joined. @default a time after the guild's creation */
  joinedAt?: Date | number | string;
}

/** A guild to create with `sim.guild()` or the `guilds` option. */
export interface GuildSpec {
  /** Snowflake of the guild; its timestamp decides its shard. @default generated, with a random timestamp so guilds spread over shards */
  id?: string;
  /** @default `Guild <n>` */
  name?: string;
  /** Channel names or specs, or how many text channels to generate. @default ['general', 'moderation-log', 'off-topic'] */
  channels?: number | readonly (string | ChannelSpec)[];
  /** Role names or specs (besides `@everyone`), or how many to generate. @default ['Moderator', 'Member'] */
  roles?: number | readonly (string | RoleSpec)[];
  /** Members (besides the bot, which is always a member), or how many to generate. @default 8 */
  members?: number | readonly MemberSpec[];
  /** Custom emojis: names, or `{ id?, name, animated? }`. Reactions with other custom emojis get 10014. @default [] */
  emojis?: readonly (string | { id?: string; name: string; animated?: boolean })[];
  /** Verification level 0 (none) to 4 (very high). @default 1 */
  verificationLevel?: number;
  /** Id of the owner; must be one of the members. @default the first generated member */
  ownerId?: string;
  /** Permissions of the bot's managed role in this guild (decimal string or bigint). @default the simulator's `botPermissions` */
  botPermissions?: string | bigint;
  /**
   * Where the bot's role sits among the guild's roles: 1 is just above `@everyone`, and roles from
   * that position up move one higher. The bot can only act on members and roles below it.
   * @default the top (above every role of `roles`)
   */
  botRolePosition?: number;
}
