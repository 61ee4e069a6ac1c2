import { UnknownSimEntityError } from '../errors/errors.js';
import { DISCORD_EPOCH } from '../snowflake/Snowflake.js';
import type {
  ApiApplicationCommand,
  ApiAuditLogEntry,
  ApiBan,
  ApiChannel,
  ApiEmoji,
  ApiGuild,
  ApiGuildMember,
  ApiRole,
} from './types.js';

/** Audit log entries kept per guild (the oldest are dropped). */
const MAX_AUDIT_LOG_ENTRIES = 1000;

/**
 * A guild of the simulated world, as tests see it. The arrays and maps are live views of the
 * simulator's state: a ban, timeout or role change the bot makes over REST shows up here.
 */
export interface SimGuild {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  /** 0 (none) to 4 (very high); `PATCH /guilds/{id}` changes it. */
  readonly verificationLevel: number;
  /** Every channel of the guild, categories included. */
  readonly channels: readonly ApiChannel[];
  /** The text channels (type 0 and 5), in position order. */
  readonly textChannels: readonly ApiChannel[];
  /** Roles, `@everyone` (whose id is the guild id) first. */
  readonly roles: readonly ApiRole[];
  /** Members by user id, the bot included. */
  readonly members: ReadonlyMap<string, ApiGuildMember>;
  /** Bans by user id. */
  readonly bans: ReadonlyMap<string, ApiBan>;
  /** Guild commands registered by the bot, by command id. */
  readonly commands: ReadonlyMap<string, ApiApplicationCommand>;
  /** Threads (active and archived), in creation order. */
  readonly threads: readonly ApiChannel[];
  /** Custom emojis (the `emojis` of the spec). */
  readonly emojis: readonly ApiEmoji[];
  /** The audit log, oldest first: what the bot did (kicks, bans, role and channel changes, ...). */
  readonly auditLog: readonly ApiAuditLogEntry[];
  /** The shard that receives this guild's events when the bot runs `shardCount` shards. */
  shardId(shardCount: number): number;
  /** The channel with this name or id; throws `ERR_DISCORD_SIM_UNKNOWN_ENTITY` if there is none. */
  channel(nameOrId: string): ApiChannel;
  /** The role with this name or id; throws `ERR_DISCORD_SIM_UNKNOWN_ENTITY` if there is none. */
  role(nameOrId: string): ApiRole;
  /** The member with this user id or username; throws `ERR_DISCORD_SIM_UNKNOWN_ENTITY` if there is none. */
  member(idOrUsername: string): ApiGuildMember;
}

/** The simulator's own record of a guild; {@link SimGuild} is its public face. */
export class GuildState implements SimGuild {
  readonly id: string;
  name: string;
  ownerId = '';
  verificationLevel: number;
  readonly channels: ApiChannel[] = [];
  readonly roles: ApiRole[] = [];
  readonly members = new Map<string, ApiGuildMember>();
  readonly bans = new Map<string, ApiBan>();
  readonly commands = new Map<string, ApiApplicationCommand>();
  readonly threads: ApiChannel[] = [];
  readonly emojis: ApiEmoji[] = [];
  readonly auditLog: ApiAuditLogEntry[] = [];
  /** `id >> 22`, kept as a number so routing an event to its shard is one modulo. */
  readonly shardKey: number;
  /** User ids of members that are not bots, for picking authors quickly. */
  readonly humanIds: string[] = [];
  readonly #humanIndex = new Map<string, number>();
  #textChannels: ApiChannel[] | null = null;

  constructor(id: string, name: string, verificationLevel: number) {
    this.id = id;
    this.name = name;
    this.verificationLevel = verificationLevel;
    this.shardKey = Number(BigInt(id) >> 22n);
  }

  /** When the guild was created (from its snowflake), Unix milliseconds. */
  get createdTimestamp(): number {
    return this.shardKey + DISCORD_EPOCH;
  }

  get textChannels(): readonly ApiChannel[] {
    this.#textChannels ??= this.channels.filter((channel) => channel.type === 0 || channel.type === 5);
    return this.#textChannels;
  }

  shardId(shardCount: number): number {
    return this.shardKey % shardCount;
  }

  channel(nameOrId: string): ApiChannel {
    const channel = this.channels.find((candidate) => candidate.id === nameOrId || candidate.name === nameOrId);
    if (!channel) throw new UnknownSimEntityError(`Guild ${this.id} has no channel named or with id "${nameOrId}".`);
    return channel;
  }

  role(nameOrId: string): ApiRole {
    const role = this.roles.find((candidate) => candidate.id === nameOrId || candidate.name === nameOrId);
    if (!role) throw new UnknownSimEntityError(`Guild ${this.id} has no role named or with id "${nameOrId}".`);
    return role;
  }

  member(idOrUsername: string): ApiGuildMember {
    const member =
      this.members.get(idOrUsername) ??
      [...this.members.values()].find((candidate) => candidate.user.username === idOrUsername);
    if (!member)
      throw new UnknownSimEntityError(`Guild ${this.id} has no member with id or username "${idOrUsername}".`);
    return member;
  }

  addChannel(channel: ApiChannel): void {
    this.channels.push(channel);
    this.#textChannels = null;
  }

  removeChannel(channelId: string): void {
    const index = this.channels.findIndex((channel) => channel.id === channelId);
    if (index >= 0) this.channels.splice(index, 1);
    const thread = this.threads.findIndex((channel) => channel.id === channelId);
    if (thread >= 0) this.threads.splice(thread, 1);
    this.#textChannels = null;
  }

  /** Keeps an audit log entry (the oldest past 1000 are dropped). */
  addAuditLogEntry(entry: ApiAuditLogEntry): void {
    this.auditLog.push(entry);
    if (this.auditLog.length > MAX_AUDIT_LOG_ENTRIES) this.auditLog.shift();
  }

  addMember(member: ApiGuildMember): void {
    this.members.set(member.user.id, member);
    if (member.user.bot !== true && !this.#humanIndex.has(member.user.id)) {
      this.#humanIndex.set(member.user.id, this.humanIds.length);
      this.humanIds.push(member.user.id);
    }
  }

  removeMember(userId: string): ApiGuildMember | undefined {
    const member = this.members.get(userId);
    if (!member) return undefined;
    this.members.delete(userId);
    const index = this.#humanIndex.get(userId);
    if (index !== undefined) {
      // Swap-remove keeps picking a random human O(1).
      const last = this.humanIds.pop() as string;
      if (last !== userId) {
        this.humanIds[index] = last;
        this.#humanIndex.set(last, index);
      }
      this.#humanIndex.delete(userId);
    }
    return member;
  }

  /** The guild object of `GET /guilds/{id}` and the base of `GUILD_CREATE`. */
  toApiGuild(): ApiGuild {
    const system = this.textChannels[0]?.id ?? null;
    return {
      id: this.id,
      name: this.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: this.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      widget_enabled: false,
      widget_channel_id: null,
      verification_level: this.verificationLevel,
      default_message_notifications: 1,
      explicit_content_filter: 2,
      roles: this.roles,
      emojis: this.emojis,
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: system,
      system_channel_flags: 0,
      rules_channel_id: null,
      max_presences: null,
      max_members: 500_000,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      preferred_locale: 'en-US',
      public_updates_channel_id: null,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      nsfw_level: 0,
      stickers: [],
      premium_progress_bar_enabled: false,
      safety_alerts_channel_id: null,
      incidents_data: null,
    };
  }
}
