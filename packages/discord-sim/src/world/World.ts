import { InvalidSimOptionError, UnknownSimEntityError } from '../errors/errors.js';
import { isSnowflake, SnowflakeGenerator } from '../snowflake/Snowflake.js';
import { Prng } from '../util/Prng.js';

/** How long Discord remembers an enforced nonce ("the past few minutes"). */
const NONCE_WINDOW_MS = 5 * 60_000;
import { GuildState } from './GuildState.js';
import { basePermissions, channelPermissions, EVERYONE_PERMISSIONS, MODERATOR_PERMISSIONS } from './permissions.js';
import type { ChannelKind, ChannelSpec, GuildSpec, MemberSpec, RoleSpec, UserSpec } from './specs.js';
import type {
  ApiApplicationCommand,
  ApiAttachment,
  ApiInvite,
  ApiReaction,
  ApiReactionEmoji,
  ApiThreadMember,
  ApiWebhook,
  ApiChannel,
  ApiEmbed,
  ApiGuildMember,
  ApiMessage,
  ApiRole,
  ApiUser,
} from './types.js';

const HISTORY_START = Date.UTC(2016, 0, 1);
const HISTORY_END = Date.UTC(2024, 5, 1);
const DEFAULT_CHANNELS = ['general', 'moderation-log', 'off-topic'];
const DEFAULT_ROLES = ['Moderator', 'Member'];
const ADJECTIVES = [
  'quiet',
  'brave',
  'lucky',
  'sleepy',
  'clever',
  'fuzzy',
  'rapid',
  'gentle',
  'bold',
  'sunny',
  'misty',
  'witty',
];
const NOUNS = [
  'otter',
  'falcon',
  'panda',
  'comet',
  'maple',
  'pixel',
  'badger',
  'lynx',
  'heron',
  'cactus',
  'walrus',
  'quokka',
];
/** Channel types of threads (announcement, public, private). */
export const THREAD_TYPES: ReadonlySet<number> = new Set([10, 11, 12]);
const CHANNEL_TYPES: Record<ChannelKind, number> = { text: 0, voice: 2, category: 4, announcement: 5, forum: 15 };
const USER_MENTION = /<@!?(\d{17,20})>/g;
const ROLE_MENTION = /<@&(\d{17,20})>/g;

/** Options of {@link World}. */
export interface WorldOptions {
  seed: number;
  botUsername: string;
  applicationId: string | undefined;
  messageHistory: number;
  /** Permissions of the bot's role in guilds whose spec does not say. */
  botPermissions: bigint;
}

/** What {@link World.createMessage} needs to build a message. */
export interface MessageParams {
  channel: ApiChannel;
  guild: GuildState | null;
  author: ApiUser;
  member?: ApiGuildMember | null;
  content?: string;
  embeds?: ApiEmbed[];
  components?: unknown[];
  attachments?: ApiAttachment[];
  type?: number;
  flags?: number;
  tts?: boolean;
  nonce?: string | number;
  referenced?: ApiMessage | null;
  webhookId?: string;
  interactionMetadata?: Record<string, unknown>;
  timestamp?: number;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

function toPermissionString(value: string | bigint | undefined, fallback: bigint): string {
  if (value === undefined) return fallback.toString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value))
    throw new InvalidSimOptionError(
      `Expected \`permissions\` to be a bigint or a decimal string, got ${String(value)}.`,
    );
  return BigInt(value).toString();
}

/** The member object without its user, as it appears in `MESSAGE_CREATE`. */
export function partialMember(member: ApiGuildMember): Omit<ApiGuildMember, 'user'> {
  return {
    nick: member.nick,
    avatar: member.avatar,
    banner: member.banner,
    roles: member.roles,
    joined_at: member.joined_at,
    premium_since: member.premium_since,
    deaf: member.deaf,
    mute: member.mute,
    flags: member.flags,
    pending: member.pending,
    communication_disabled_until: member.communication_disabled_until,
  };
}

/**
 * The simulated Discord: users, guilds with their channels, roles, members and bans, recent
 * messages of every channel, and registered commands. Generation is deterministic for a seed.
 */
export class World {
  readonly ids = new SnowflakeGenerator(1, 0);
  readonly prng: Prng;
  readonly bot: ApiUser;
  readonly applicationId: string;
  readonly guilds = new Map<string, GuildState>();
  readonly guildList: GuildState[] = [];
  readonly users = new Map<string, ApiUser>();
  readonly channels = new Map<string, { channel: ApiChannel; guild: GuildState | null }>();
  readonly globalCommands = new Map<string, ApiApplicationCommand>();
  /** DM channels by recipient user id. */
  readonly dmChannels = new Map<string, ApiChannel>();
  /** Channel webhooks by id. */
  readonly webhooks = new Map<string, ApiWebhook>();
  /** Invites by code. */
  readonly invites = new Map<string, ApiInvite>();
  /** Members of each thread, by thread id then user id. */
  readonly threadMembers = new Map<string, Map<string, ApiThreadMember>>();
  /** Who reacted with what: message id → emoji key (`name` or `name:id`) → user ids. */
  readonly reactions = new Map<string, Map<string, { emoji: ApiReactionEmoji; users: Set<string> }>>();
  /** Uploaded files the simulator serves under `/attachments/{channel}/{id}/{filename}`, by attachment id. */
  readonly attachments = new Map<string, { filename: string; contentType: string; data: Buffer }>();
  #attachmentBytes = 0;
  readonly #messages = new Map<string, Map<string, ApiMessage>>();
  /** Messages sent with `enforce_nonce`, by `<author>:<nonce>`, oldest first. */
  readonly #nonces = new Map<string, { channelId: string; id: string; at: number }>();
  readonly #messageHistory: number;
  readonly #botPermissions: bigint;
  #userCounter = 0;
  #guildCounter = 0;

  constructor(options: WorldOptions) {
    this.prng = new Prng(options.seed);
    this.#messageHistory = options.messageHistory;
    this.#botPermissions = options.botPermissions;
    const botId = options.applicationId ?? this.ids.next(this.#historicTime());
    this.applicationId = botId;
    this.bot = this.createUser({ id: botId, username: options.botUsername, bot: true });
  }

  #historicTime(after = HISTORY_START): number {
    return after + this.prng.int(Math.max(1, HISTORY_END - after));
  }

  #id(spec: string | undefined, what: string, timestamp: number): string {
    if (spec === undefined) return this.ids.next(timestamp);
    if (!isSnowflake(spec))
      throw new InvalidSimOptionError(
        `Expected \`${what}\` to be a snowflake (a string of 17 to 20 digits), got ${JSON.stringify(spec)}.`,
      );
    return spec;
  }

  /** Creates a user, or returns the existing one when `spec.id` is already known. */
  createUser(spec: UserSpec = {}): ApiUser {
    if (spec.id !== undefined) {
      const existing = this.users.get(spec.id);
      if (existing) return existing;
    }
    const id = this.#id(spec.id, 'id', this.#historicTime());
    const n = ++this.#userCounter;
    const user: ApiUser = {
      id,
      username: spec.username ?? `${this.prng.pick(ADJECTIVES)}_${this.prng.pick(NOUNS)}_${n}`,
      discriminator: '0',
      global_name: spec.globalName ?? null,
      avatar: null,
      public_flags: 0,
      flags: 0,
      banner: null,
      accent_color: null,
      avatar_decoration_data: null,
    };
    if (spec.bot === true) {
      user.bot = true;
      user.discriminator = '0000';
    }
    this.users.set(id, user);
    return user;
  }

  /** Creates a guild with its roles, channels and members (the bot always among them). */
  createGuild(spec: GuildSpec = {}): GuildState {
    const index = ++this.#guildCounter;
    const id = this.#id(spec.id, 'id', this.#historicTime());
    if (this.guilds.has(id))
      throw new InvalidSimOptionError(`Expected \`id\` to be a new guild id, got ${id}, which already exists.`);
    const verificationLevel = spec.verificationLevel ?? 1;
    if (!Number.isInteger(verificationLevel) || verificationLevel < 0 || verificationLevel > 4) {
      throw new InvalidSimOptionError(
        `Expected \`verificationLevel\` to be an integer from 0 to 4, got ${String(verificationLevel)}.`,
      );
    }
    const guild = new GuildState(id, spec.name ?? `Guild ${index}`, verificationLevel);
    const created = guild.createdTimestamp;
    const later = (): number => this.#historicTime(created + 1000);

    guild.roles.push(this.#role({ id, name: '@everyone', permissions: EVERYONE_PERMISSIONS }, 0, created));
    const roleSpecs: (string | RoleSpec)[] =
      typeof spec.roles === 'number'
        ? Array.from({ length: spec.roles }, (_, i) => `Role ${i + 1}`)
        : [...(spec.roles ?? DEFAULT_ROLES)];
    for (const [i, roleSpec] of roleSpecs.entries()) {
      const resolved: RoleSpec = typeof roleSpec === 'string' ? { name: roleSpec } : roleSpec;
      const permissions = resolved.permissions ?? (resolved.name === 'Moderator' ? MODERATOR_PERMISSIONS : 0n);
      guild.roles.push(this.#role({ ...resolved, permissions }, i + 1, later()));
    }
    const botRole = this.#role(
      { name: this.bot.username, permissions: spec.botPermissions ?? this.#botPermissions },
      guild.roles.length,
      later(),
    );
    botRole.managed = true;
    botRole.tags = { bot_id: this.bot.id };
    if (spec.botRolePosition === undefined) {
      guild.roles.push(botRole);
    } else {
      const position = spec.botRolePosition;
      if (!Number.isInteger(position) || position < 1 || position > guild.roles.length) {
        throw new InvalidSimOptionError(
          `Expected \`botRolePosition\` to be an integer from 1 to ${guild.roles.length}, got ${String(position)}.`,
        );
      }
      guild.roles.splice(position, 0, botRole);
      for (const [index, role] of guild.roles.entries()) role.position = index;
    }

    const channelSpecs: (string | ChannelSpec)[] =
      typeof spec.channels === 'number'
        ? Array.from({ length: spec.channels }, (_, i) => (i === 0 ? 'general' : `channel-${i + 1}`))
        : [...(spec.channels ?? DEFAULT_CHANNELS)];
    for (const channelSpec of channelSpecs) {
      this.#addChannel(guild, typeof channelSpec === 'string' ? { name: channelSpec } : channelSpec, later());
    }

    guild.addMember(this.#member(guild, this.bot, { roles: [botRole.id] }, created + 1000));
    const memberSpecs: MemberSpec[] =
      typeof spec.members === 'number'
        ? Array.from({ length: spec.members }, () => ({}))
        : [...(spec.members ?? Array.from({ length: 8 }, () => ({})))];
    for (const memberSpec of memberSpecs) this.addMember(guild, memberSpec);

    if (spec.ownerId !== undefined) {
      if (!guild.members.has(spec.ownerId))
        throw new InvalidSimOptionError(
          `Expected \`ownerId\` to be the id of one of the guild's members, got ${spec.ownerId}.`,
        );
      guild.ownerId = spec.ownerId;
    } else {
      guild.ownerId = guild.humanIds[0] ?? this.bot.id;
    }

    for (const emoji of spec.emojis ?? []) {
      const resolved = typeof emoji === 'string' ? { name: emoji } : emoji;
      if (typeof resolved.name !== 'string' || !/^\w{2,32}$/.test(resolved.name))
        throw new InvalidSimOptionError(
          `Expected \`emojis[].name\` to be 2 to 32 letters, digits or underscores, got ${JSON.stringify(resolved.name)}.`,
        );
      guild.emojis.push({
        id: this.#id(resolved.id, 'emojis[].id', later()),
        name: resolved.name,
        roles: [],
        require_colons: true,
        managed: false,
        animated: resolved.animated ?? false,
        available: true,
      });
    }

    this.guilds.set(id, guild);
    this.guildList.push(guild);
    return guild;
  }

  #role(spec: RoleSpec, position: number, timestamp: number): ApiRole {
    return {
      id: this.#id(spec.id, 'roles[].id', timestamp),
      name: spec.name,
      color: spec.color ?? 0,
      colors: { primary_color: spec.color ?? 0, secondary_color: null, tertiary_color: null },
      hoist: spec.hoist ?? false,
      icon: null,
      unicode_emoji: null,
      position,
      permissions: toPermissionString(spec.permissions, 0n),
      managed: false,
      mentionable: spec.mentionable ?? false,
      flags: 0,
    };
  }

  #addChannel(guild: GuildState, spec: ChannelSpec, timestamp: number): ApiChannel {
    const type = typeof spec.type === 'number' ? spec.type : CHANNEL_TYPES[spec.type ?? 'text'];
    if (type === undefined)
      throw new InvalidSimOptionError(
        `Expected \`channels[].type\` to be one of ${Object.keys(CHANNEL_TYPES).join(', ')} or a number, got ${String(spec.type)}.`,
      );
    const parent = spec.parent === undefined ? null : guild.channel(spec.parent).id;
    const channel: ApiChannel = {
      id: this.#id(spec.id, 'channels[].id', timestamp),
      type,
      guild_id: guild.id,
      name: spec.name,
      position: guild.channels.length,
      permission_overwrites: [],
      parent_id: parent,
      flags: 0,
    };
    if (type === 0 || type === 5 || type === 15) {
      channel.topic = spec.topic ?? null;
      channel.nsfw = spec.nsfw ?? false;
      channel.last_message_id = null;
      channel.rate_limit_per_user = 0;
    } else if (type === 2) {
      channel.bitrate = 64_000;
      channel.user_limit = 0;
      channel.rtc_region = null;
      channel.nsfw = false;
      channel.last_message_id = null;
      channel.rate_limit_per_user = 0;
    }
    guild.addChannel(channel);
    this.channels.set(channel.id, { channel, guild });
    return channel;
  }

  #member(guild: GuildState, user: ApiUser, spec: MemberSpec, joinedAt: number): ApiGuildMember {
    const roles = (spec.roles ?? []).map((role) => guild.role(role).id);
    return {
      user,
      nick: spec.nick ?? null,
      avatar: null,
      banner: null,
      roles,
      joined_at: isoTime(joinedAt),
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
    };
  }

  /** Adds a member (creating its user if needed) to `guild` and returns it. */
  addMember(guild: GuildState, spec: MemberSpec = {}, joinedAt?: number): ApiGuildMember {
    const user = this.createUser(spec);
    const existing = guild.members.get(user.id);
    if (existing) return existing;
    let joined: number;
    if (spec.joinedAt !== undefined) joined = new Date(spec.joinedAt).getTime();
    else joined = joinedAt ?? this.#historicTime(guild.createdTimestamp + 1000);
    const member = this.#member(guild, user, spec, joined);
    guild.addMember(member);
    return member;
  }

  /** The guild with this id; throws `ERR_DISCORD_SIM_UNKNOWN_ENTITY` if there is none. */
  guild(id: string): GuildState {
    const guild = this.guilds.get(id);
    if (!guild) throw new UnknownSimEntityError(`There is no guild with id ${id}.`);
    return guild;
  }

  /** The DM channel with `user`, created on first use (`POST /users/@me/channels`). */
  dmChannel(user: ApiUser): ApiChannel {
    let channel = this.dmChannels.get(user.id);
    if (!channel) {
      channel = { id: this.ids.next(), type: 1, last_message_id: null, flags: 0, recipients: [user] };
      this.dmChannels.set(user.id, channel);
      this.channels.set(channel.id, { channel, guild: null });
    }
    return channel;
  }

  /** Builds a message (not stored; see {@link storeMessage}). */
  createMessage(params: MessageParams): ApiMessage {
    const timestamp = params.timestamp ?? Date.now();
    const content = params.content ?? '';
    const message: ApiMessage = {
      id: this.ids.next(timestamp),
      type: params.type ?? (params.referenced ? 19 : 0),
      channel_id: params.channel.id,
      author: params.author,
      content,
      timestamp: isoTime(timestamp),
      edited_timestamp: null,
      tts: params.tts ?? false,
      mention_everyone: content.includes('@everyone') || content.includes('@here'),
      mentions: [],
      mention_roles: [],
      attachments: params.attachments ?? [],
      embeds: params.embeds ?? [],
      components: params.components ?? [],
      pinned: false,
      flags: params.flags ?? 0,
    };
    if (params.guild) {
      message.guild_id = params.guild.id;
      const member = params.member ?? params.guild.members.get(params.author.id);
      if (member && params.webhookId === undefined) message.member = partialMember(member);
    }
    if (content.includes('<@')) this.#fillMentions(message, content);
    if (params.nonce !== undefined) message.nonce = params.nonce;
    if (params.webhookId !== undefined) {
      message.webhook_id = params.webhookId;
      message.application_id = this.applicationId;
    }
    if (params.interactionMetadata !== undefined) message.interaction_metadata = params.interactionMetadata;
    if (params.referenced) {
      message.message_reference = {
        type: 0,
        message_id: params.referenced.id,
        channel_id: params.referenced.channel_id,
      };
      if (params.referenced.guild_id !== undefined) message.message_reference.guild_id = params.referenced.guild_id;
      message.referenced_message = params.referenced;
    }
    return message;
  }

  #fillMentions(message: ApiMessage, content: string): void {
    for (const match of content.matchAll(USER_MENTION)) {
      const user = this.users.get(match[1] as string);
      if (user && !message.mentions.some((mentioned) => mentioned.id === user.id)) message.mentions.push(user);
    }
    for (const match of content.matchAll(ROLE_MENTION)) {
      if (!message.mention_roles.includes(match[1] as string)) message.mention_roles.push(match[1] as string);
    }
  }

  /** Keeps `message` in its channel's history (the oldest is dropped past `messageHistory`). */
  storeMessage(message: ApiMessage): void {
    let history = this.#messages.get(message.channel_id);
    if (!history) {
      history = new Map();
      this.#messages.set(message.channel_id, history);
    }
    history.set(message.id, message);
    if (history.size > this.#messageHistory) {
      const oldest = history.keys().next().value as string;
      history.delete(oldest);
      this.reactions.delete(oldest);
    }
    const entry = this.channels.get(message.channel_id);
    if (entry) entry.channel.last_message_id = message.id;
  }

  /** Keeps an uploaded file to serve; the oldest are dropped past 64 MiB. */
  storeAttachment(id: string, file: { filename: string; contentType: string; data: Buffer }): void {
    this.attachments.set(id, file);
    this.#attachmentBytes += file.data.length;
    for (const [oldId, old] of this.attachments) {
      if (this.#attachmentBytes <= 64 * 1024 * 1024 || oldId === id) break;
      this.attachments.delete(oldId);
      this.#attachmentBytes -= old.data.length;
    }
  }

  /** Refreshes `message.reactions` from who reacted (and whether the bot did). */
  syncReactions(message: ApiMessage): void {
    const byEmoji = this.reactions.get(message.id);
    const reactions: ApiReaction[] = [];
    for (const { emoji, users } of byEmoji?.values() ?? []) {
      if (users.size === 0) continue;
      reactions.push({
        count: users.size,
        count_details: { burst: 0, normal: users.size },
        me: users.has(this.bot.id),
        me_burst: false,
        emoji,
        burst_colors: [],
      });
    }
    if (reactions.length > 0) message.reactions = reactions;
    else delete message.reactions;
  }

  getMessage(channelId: string, messageId: string): ApiMessage | undefined {
    return this.#messages.get(channelId)?.get(messageId);
  }

  /** Remembers that `message` was created with `enforce_nonce` and `nonce` by its author. */
  rememberNonce(nonce: string | number, message: ApiMessage, at: number): void {
    for (const [key, entry] of this.#nonces) {
      if (at - entry.at < NONCE_WINDOW_MS) break;
      this.#nonces.delete(key);
    }
    this.#nonces.set(`${message.author.id}:${String(nonce)}`, { channelId: message.channel_id, id: message.id, at });
  }

  /**
   * The message `authorId` created with `enforce_nonce` and this `nonce` in the last few minutes,
   * still there: Discord answers a repeated send with it instead of creating another.
   */
  messageForNonce(authorId: string, nonce: string | number, now: number): ApiMessage | undefined {
    const entry = this.#nonces.get(`${authorId}:${String(nonce)}`);
    if (entry === undefined || now - entry.at >= NONCE_WINDOW_MS) return undefined;
    return this.getMessage(entry.channelId, entry.id);
  }

  deleteMessage(channelId: string, messageId: string): ApiMessage | undefined {
    const history = this.#messages.get(channelId);
    const message = history?.get(messageId);
    if (message) history?.delete(messageId);
    this.reactions.delete(messageId);
    return message;
  }

  /** The kept messages of a channel, oldest first. */
  messages(channelId: string): ApiMessage[] {
    return [...(this.#messages.get(channelId)?.values() ?? [])];
  }

  /** The permissions of `member` in `guild` (in `channel`, with its overwrites), as the decimal string Discord sends. */
  memberPermissions(guild: GuildState, member: ApiGuildMember, channel?: ApiChannel): string {
    return this.permissionBits(guild, member, channel).toString();
  }

  /** The permissions of `member` in `guild`, and in `channel` when given, computed as Discord computes them. */
  permissionBits(guild: GuildState, member: ApiGuildMember, channel?: ApiChannel): bigint {
    const base = basePermissions(guild, member);
    if (channel === undefined || channel.guild_id !== guild.id) return base;
    // A thread takes the permissions of its parent channel.
    const source =
      THREAD_TYPES.has(channel.type) && channel.parent_id
        ? (this.channels.get(channel.parent_id)?.channel ?? channel)
        : channel;
    return channelPermissions(guild, member, source, base);
  }
}
