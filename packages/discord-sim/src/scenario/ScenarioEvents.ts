import { InvalidSimOptionError, UnknownSimEntityError } from '../errors/errors.js';
import { InteractionState } from '../sim/InteractionState.js';
import type { SimInteraction } from '../sim/InteractionState.js';
import type { SimEngine } from '../sim/SimEngine.js';
import type { GuildState } from '../world/GuildState.js';
import type { MemberSpec } from '../world/specs.js';
import type {
  ApiApplicationCommand,
  ApiChannel,
  ApiCommandOptionDefinition,
  ApiEmbed,
  ApiGuildMember,
  ApiInteractionOption,
  ApiMessage,
  ApiUser,
} from '../world/types.js';
import { partialMember } from '../world/World.js';
import type { ChannelRef, GuildRef, UserRef } from './resolve.js';
import { resolveChannel, resolveGuild, resolveUser, userIdOf } from './resolve.js';

/** Options of `sim.emit.messageCreate()`. */
export interface MessageCreateOptions {
  /** @default the channel's guild, or the first guild */
  guild?: GuildRef;
  /** @default the first text channel of the guild */
  channel?: ChannelRef;
  /** @default a random member of the guild that is not a bot */
  author?: UserRef;
  /** @default 'hello' */
  content?: string;
  /** @default [] */
  embeds?: ApiEmbed[];
  /** A message (or its id, in the same channel) this one replies to. @default none */
  replyTo?: ApiMessage | string;
}

/** Names a message: the object, or its channel and id. */
export type MessageRef = ApiMessage | { channel: ChannelRef; id: string };

/** Options of `sim.emit.memberAdd()`. */
export interface MemberAddOptions extends MemberSpec {
  /** @default the first guild */
  guild?: GuildRef;
  /** An existing user to add (instead of creating one from the spec fields). @default a new user */
  user?: UserRef;
}

/** Options of `sim.emit.memberUpdate()`. */
export interface MemberUpdateOptions {
  /** @default the first guild */
  guild?: GuildRef;
  user: UserRef;
  /** @default unchanged */
  nick?: string | null;
  /** Role names or ids, replacing the member's roles. @default unchanged */
  roles?: readonly string[];
}

/** A slash command option type, by name or by Discord's number. */
export type OptionTypeName =
  | 'subcommand'
  | 'subcommandGroup'
  | 'string'
  | 'integer'
  | 'boolean'
  | 'user'
  | 'channel'
  | 'role'
  | 'mentionable'
  | 'number'
  | 'attachment';

/** An option value with its type spelled out (needed for users, channels and roles of unregistered commands). */
export interface TypedOptionValue {
  type: OptionTypeName | number;
  value: string | number | boolean;
}

/**
 * The options of a slash command: `{ name: value }` (types come from the registered command, else
 * are inferred from the values), or Discord's own option array.
 */
export type InteractionOptionsInput =
  Readonly<Record<string, string | number | boolean | TypedOptionValue>> | readonly ApiInteractionOption[];

/** Options of `sim.emit.interaction()`. */
export interface InteractionOptions {
  /** The command name. */
  command: string;
  /** @default {} */
  options?: InteractionOptionsInput;
  /** Invokes this subcommand of the command. @default none */
  subcommand?: string;
  /** The group of `subcommand`. @default none */
  subcommandGroup?: string;
  /** @default the channel's guild, or the first guild */
  guild?: GuildRef;
  /** @default the first text channel of the guild */
  channel?: ChannelRef;
  /** Who ran the command. @default a random member of the guild that is not a bot */
  user?: UserRef;
  /** @default 'en-US' */
  locale?: string;
}

const OPTION_TYPES: Record<OptionTypeName, number> = {
  subcommand: 1,
  subcommandGroup: 2,
  string: 3,
  integer: 4,
  boolean: 5,
  user: 6,
  channel: 7,
  role: 8,
  mentionable: 9,
  number: 10,
  attachment: 11,
};

/**
 * `sim.emit`: makes things happen in the simulated Discord, each followed by the dispatch the bot
 * would receive (to the sessions of the guild's shard, filtered by their intents).
 */
export class ScenarioEvents {
  readonly #engine: SimEngine;
  readonly #assertOpen: () => void;
  #interactionCounter = 0;
  #lastDelivered = 0;

  constructor(engine: SimEngine, assertOpen: () => void) {
    this.#engine = engine;
    this.#assertOpen = assertOpen;
  }

  /** How many gateway sessions received the dispatch of the last `emit` call (0 when no bot is connected to that shard). */
  get lastDelivered(): number {
    return this.#lastDelivered;
  }

  #randomHuman(guild: GuildState): ApiUser {
    const { world } = this.#engine;
    const id = guild.humanIds.length === 0 ? undefined : world.prng.pick(guild.humanIds);
    if (id === undefined)
      throw new UnknownSimEntityError(
        `Guild ${guild.id} has no member that is not a bot; pass \`author\`/\`user\` explicitly.`,
      );
    return world.users.get(id) as ApiUser;
  }

  /** A user posts a message; dispatches `MESSAGE_CREATE` (content stripped for sessions without MESSAGE_CONTENT). */
  messageCreate(options: MessageCreateOptions = {}): ApiMessage {
    this.#assertOpen();
    const { world } = this.#engine;
    const { channel, guild } = resolveChannel(world, options.channel, options.guild);
    const author =
      options.author === undefined
        ? this.#randomHuman(guild ?? resolveGuild(world, options.guild))
        : resolveUser(world, options.author);
    let referenced: ApiMessage | null = null;
    if (options.replyTo !== undefined) {
      referenced =
        typeof options.replyTo === 'string' ? (world.getMessage(channel.id, options.replyTo) ?? null) : options.replyTo;
      if (!referenced)
        throw new UnknownSimEntityError(`Channel ${channel.id} has no message ${String(options.replyTo)} to reply to.`);
    }
    const message = world.createMessage({
      channel,
      guild,
      author,
      content: options.content ?? 'hello',
      embeds: options.embeds ?? [],
      referenced,
    });
    this.#lastDelivered = this.#engine.publishMessage(message, guild);
    return message;
  }

  #message(ref: MessageRef): { message: ApiMessage; guild: GuildState | null } {
    const { world } = this.#engine;
    const channelRef = 'channel_id' in ref ? ref.channel_id : ref.channel;
    const { channel, guild } = resolveChannel(world, channelRef, undefined);
    const message = world.getMessage(channel.id, ref.id);
    if (!message)
      throw new UnknownSimEntityError(
        `Channel ${channel.id} has no message ${ref.id} (it may have been deleted or dropped from the history).`,
      );
    return { message, guild };
  }

  /** A user edits a message; dispatches `MESSAGE_UPDATE`. */
  messageUpdate(ref: MessageRef, update: { content?: string; embeds?: ApiEmbed[] }): ApiMessage {
    this.#assertOpen();
    const { message, guild } = this.#message(ref);
    if (update.content !== undefined) message.content = update.content;
    if (update.embeds !== undefined) message.embeds = update.embeds;
    message.edited_timestamp = new Date().toISOString().replace('Z', '+00:00');
    this.#lastDelivered = this.#engine.publishMessageUpdate(message, guild);
    return message;
  }

  /** A message is deleted (by its author or a moderator); dispatches `MESSAGE_DELETE`. */
  messageDelete(ref: MessageRef): void {
    this.#assertOpen();
    const { message, guild } = this.#message(ref);
    this.#lastDelivered = this.#engine.publishMessageDelete(message.channel_id, message.id, guild);
  }

  /** A user joins a guild; dispatches `GUILD_MEMBER_ADD`. Returns the member. */
  memberAdd(options: MemberAddOptions = {}): ApiGuildMember {
    this.#assertOpen();
    const { world } = this.#engine;
    const guild = resolveGuild(world, options.guild);
    const { guild: _guild, user, ...spec } = options;
    const memberSpec: MemberSpec = user === undefined ? spec : { ...spec, id: resolveUser(world, user).id };
    if (memberSpec.id !== undefined && guild.members.has(memberSpec.id))
      throw new InvalidSimOptionError(`User ${memberSpec.id} is already a member of guild ${guild.id}.`);
    const member = world.addMember(guild, memberSpec, Date.now());
    this.#lastDelivered = this.#engine.publishMemberAdd(guild, member);
    return member;
  }

  /** A member changes (nickname, roles); dispatches `GUILD_MEMBER_UPDATE`. */
  memberUpdate(options: MemberUpdateOptions): ApiGuildMember {
    this.#assertOpen();
    const guild = resolveGuild(this.#engine.world, options.guild);
    const member = guild.member(userIdOf(options.user));
    if (options.nick !== undefined) member.nick = options.nick;
    if (options.roles !== undefined) member.roles = options.roles.map((role) => guild.role(role).id);
    this.#lastDelivered = this.#engine.publishMemberUpdate(guild, member);
    return member;
  }

  /** A member leaves a guild; dispatches `GUILD_MEMBER_REMOVE`. */
  memberRemove(options: { guild?: GuildRef; user: UserRef }): void {
    this.#assertOpen();
    const guild = resolveGuild(this.#engine.world, options.guild);
    const member = guild.removeMember(userIdOf(options.user));
    if (!member) throw new UnknownSimEntityError(`Guild ${guild.id} has no member ${userIdOf(options.user)}.`);
    this.#lastDelivered = this.#engine.publishMemberRemove(guild, member.user);
  }

  /**
   * A user runs a slash command; dispatches `INTERACTION_CREATE`. Answer it from the bot with
   * `interaction.reply()` / `deferReply()`; see what it answered with `waitForResponse()`.
   *
   * @example
   * ```ts
   * const interaction = sim.emit.interaction({ command: 'timeout', options: { user: member.user.id, minutes: 10 } });
   * const callback = await interaction.waitForResponse();
   * ```
   */
  interaction(options: InteractionOptions): SimInteraction {
    this.#assertOpen();
    if (typeof options.command !== 'string' || options.command.length === 0) {
      throw new InvalidSimOptionError(
        `Expected \`command\` to be a non-empty string, got ${JSON.stringify(options.command)}.`,
      );
    }
    const { world } = this.#engine;
    const { channel, guild: channelGuild } = resolveChannel(world, options.channel, options.guild);
    const guild = channelGuild ?? resolveGuild(world, options.guild);
    const user = options.user === undefined ? this.#randomHuman(guild) : resolveUser(world, options.user);
    const member = guild.members.get(user.id);
    if (!member) throw new UnknownSimEntityError(`User ${user.id} is not a member of guild ${guild.id}.`);

    const registered = this.#findCommand(guild, options.command);
    let definitions = registered?.options;
    const path: { name: string; type: number }[] = [];
    if (options.subcommandGroup !== undefined) {
      path.push({ name: options.subcommandGroup, type: 2 });
      definitions = definitions?.find((option) => option.name === options.subcommandGroup)?.options;
    }
    if (options.subcommand !== undefined) {
      path.push({ name: options.subcommand, type: 1 });
      definitions = definitions?.find((option) => option.name === options.subcommand)?.options;
    }
    const resolved: Record<string, Record<string, unknown>> = {};
    let leaf = this.#options(guild, options.options ?? {}, definitions, resolved);
    for (let i = path.length - 1; i >= 0; i--) {
      const step = path[i] as { name: string; type: number };
      leaf = [{ name: step.name, type: step.type, options: leaf }];
    }

    const id = world.ids.next();
    const counter = ++this.#interactionCounter;
    const token = `${Buffer.from(`interaction:${id}:${counter}`).toString('base64url')}${'x'.repeat(120)}`.slice(
      0,
      160,
    );
    const data: Record<string, unknown> = {
      id: registered?.id ?? world.ids.next(guild.createdTimestamp + 1000),
      name: options.command,
      type: 1,
    };
    if (leaf.length > 0) data.options = leaf;
    if (Object.keys(resolved).length > 0) data.resolved = resolved;
    if (registered?.guild_id !== undefined) data.guild_id = registered.guild_id;
    const botMember = guild.members.get(world.bot.id);
    const payload: Record<string, unknown> = {
      id,
      application_id: world.applicationId,
      type: 2,
      data,
      guild_id: guild.id,
      guild: { id: guild.id, locale: 'en-US', features: [] },
      channel_id: channel.id,
      channel: { ...channel, permissions: world.memberPermissions(guild, member) },
      member: { ...member, permissions: world.memberPermissions(guild, member) },
      token,
      version: 1,
      app_permissions: botMember ? world.memberPermissions(guild, botMember) : '0',
      locale: options.locale ?? 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      entitlement_sku_ids: [],
      authorizing_integration_owners: { '0': guild.id },
      context: 0,
      attachment_size_limit: 10_485_760,
    };
    const interaction = new InteractionState(id, token, payload, guild.id, channel.id, user.id);
    this.#engine.addInteraction(interaction);
    this.#lastDelivered = this.#engine.gateway.dispatchToGuild(guild, 'INTERACTION_CREATE', payload);
    return interaction;
  }

  #findCommand(guild: GuildState, name: string): ApiApplicationCommand | undefined {
    for (const command of guild.commands.values()) if (command.name === name && command.type === 1) return command;
    for (const command of this.#engine.world.globalCommands.values())
      if (command.name === name && command.type === 1) return command;
    return undefined;
  }

  #options(
    guild: GuildState,
    input: InteractionOptionsInput,
    definitions: readonly ApiCommandOptionDefinition[] | undefined,
    resolved: Record<string, Record<string, unknown>>,
  ): ApiInteractionOption[] {
    const options: ApiInteractionOption[] = Array.isArray(input)
      ? (input as ApiInteractionOption[]).map((option) => ({ ...option }))
      : Object.entries(input as Record<string, string | number | boolean | TypedOptionValue>).map(([name, raw]) => {
          if (typeof raw === 'object') {
            const type = typeof raw.type === 'number' ? raw.type : OPTION_TYPES[raw.type];
            if (type === undefined)
              throw new InvalidSimOptionError(
                `Expected the type of option \`${name}\` to be one of ${Object.keys(OPTION_TYPES).join(', ')} or a number, got ${String(raw.type)}.`,
              );
            return { name, type, value: raw.value };
          }
          const defined = definitions?.find((definition) => definition.name === name)?.type;
          const inferred =
            typeof raw === 'boolean' ? 5 : typeof raw === 'number' ? (Number.isInteger(raw) ? 4 : 10) : 3;
          return { name, type: defined ?? inferred, value: raw };
        });
    for (const option of options) this.#resolve(guild, option, resolved);
    return options;
  }

  /** Fills `resolved` for user, channel, role and mentionable options, as Discord does. */
  #resolve(guild: GuildState, option: ApiInteractionOption, resolved: Record<string, Record<string, unknown>>): void {
    const { world } = this.#engine;
    const id = String(option.value);
    const addUser = (): boolean => {
      const user = world.users.get(id);
      if (!user) return false;
      (resolved.users ??= {})[id] = user;
      const member = guild.members.get(id);
      if (member)
        (resolved.members ??= {})[id] = {
          ...partialMember(member),
          permissions: world.memberPermissions(guild, member),
        };
      return true;
    };
    const addRole = (): boolean => {
      const role = guild.roles.find((candidate) => candidate.id === id);
      if (!role) return false;
      (resolved.roles ??= {})[id] = role;
      return true;
    };
    switch (option.type) {
      case 6:
        if (!addUser())
          throw new UnknownSimEntityError(
            `Option \`${option.name}\` names user ${id}, which the simulator does not know.`,
          );
        break;
      case 7: {
        const channel: ApiChannel | undefined = world.channels.get(id)?.channel;
        if (!channel)
          throw new UnknownSimEntityError(
            `Option \`${option.name}\` names channel ${id}, which the simulator does not know.`,
          );
        (resolved.channels ??= {})[id] = {
          id: channel.id,
          name: channel.name,
          type: channel.type,
          parent_id: channel.parent_id ?? null,
          permissions: '2251799813685247',
          flags: 0,
        };
        break;
      }
      case 8:
        if (!addRole())
          throw new UnknownSimEntityError(
            `Option \`${option.name}\` names role ${id}, which guild ${guild.id} does not have.`,
          );
        break;
      case 9:
        if (!addUser() && !addRole())
          throw new UnknownSimEntityError(
            `Option \`${option.name}\` names ${id}, which is neither a known user nor a role of guild ${guild.id}.`,
          );
        break;
      default:
        break;
    }
  }

  /**
   * Sends any dispatch, routed to the shard of `guild` (or to shard 0 without one). For events the
   * simulator has no helper for (reactions, presence, threads, ...). Returns how many sessions got it.
   */
  dispatch(event: string, data: unknown, options: { guild?: GuildRef } = {}): number {
    this.#assertOpen();
    if (typeof event !== 'string' || !/^[A-Z_]+$/.test(event))
      throw new InvalidSimOptionError(
        `Expected \`event\` to be an event name like MESSAGE_REACTION_ADD, got ${JSON.stringify(event)}.`,
      );
    this.#lastDelivered =
      options.guild === undefined
        ? this.#engine.gateway.dispatchDirect(event, data)
        : this.#engine.gateway.dispatchToGuild(resolveGuild(this.#engine.world, options.guild), event, data);
    return this.#lastDelivered;
  }
}
