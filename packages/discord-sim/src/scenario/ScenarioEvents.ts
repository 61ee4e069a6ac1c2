import { InvalidSimOptionError, UnknownSimEntityError } from '../errors/errors.js';
import { applyReaction, parseEmoji } from '../rest/resourceRoutes.js';
import { InteractionState, InteractionType } from '../sim/InteractionState.js';
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

/** Options of `sim.emit.autocomplete()`. */
export interface AutocompleteOptions extends InteractionOptions {
  /** The name of the option the user is typing in (its value is sent as a string, as Discord does). */
  focused: string;
}

/** Options of `sim.emit.click()`. */
export interface ComponentInteractionOptions {
  /** The message the component is on (an object, ephemeral ones included, or `{ channel, id }`). */
  message: MessageRef;
  /** The component's `custom_id`. */
  customId: string;
  /** Who clicked. @default a random member of the guild that is not a bot */
  user?: UserRef;
  /** @default 'en-US' */
  locale?: string;
}

/** Options of `sim.emit.select()`. */
export interface SelectOptions extends ComponentInteractionOptions {
  /** The values picked: option values of a string select, user/role/channel ids of the others. */
  values: readonly string[];
}

/** Options of `sim.emit.reactionAdd()` and `reactionRemove()`. */
export interface ReactionOptions {
  /** The message reacted to. */
  message: MessageRef;
  /** A unicode emoji (`'👍'`) or a custom one as `name:id`. */
  emoji: string;
  /** Who reacts. @default a random member of the guild that is not a bot */
  user?: UserRef;
}

/** Options of `sim.emit.submitModal()`. */
export interface ModalSubmitOptions {
  /** Each input's `custom_id` and its value (a string for a text input, strings for a select). */
  fields: Readonly<Record<string, string | readonly string[]>>;
  /** Who submits. @default the user of the interaction that showed the modal */
  user?: UserRef;
  /** @default 'en-US' */
  locale?: string;
}

const SELECT_TYPES: ReadonlySet<number> = new Set([3, 5, 6, 7, 8]);

/** The component with `customId` anywhere in a message's components (rows, sections, containers, labels). */
export function findComponent(components: readonly unknown[], customId: string): Record<string, unknown> | undefined {
  for (const raw of components) {
    if (typeof raw !== 'object' || raw === null) continue;
    const component = raw as Record<string, unknown>;
    if (component.custom_id === customId) return component;
    for (const key of ['components', 'accessory', 'component'] as const) {
      const inner = component[key];
      const nested = Array.isArray(inner) ? inner : inner === undefined ? [] : [inner];
      const found = findComponent(nested, customId);
      if (found) return found;
    }
  }
  return undefined;
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
    const { guild, channel, user, data } = this.#commandData(options, undefined);
    return this.#send(InteractionType.ApplicationCommand, data, guild, channel, user, options.locale, null);
  }

  /**
   * A user types in an autocomplete option of a slash command; dispatches `INTERACTION_CREATE` of
   * type 4 with `focused` set on that option. The bot answers with `interaction.respond(choices)`
   * (callback type 8), which `waitForResponse()` shows.
   *
   * @example
   * ```ts
   * const typing = sim.emit.autocomplete({ command: 'color', options: { name: 're' }, focused: 'name' });
   * const { data } = await typing.waitForResponse(); // { choices: [{ name: 'red', value: 'red' }] }
   * ```
   */
  autocomplete(options: AutocompleteOptions): SimInteraction {
    this.#assertOpen();
    if (typeof options.focused !== 'string' || options.focused.length === 0) {
      throw new InvalidSimOptionError(
        `Expected \`focused\` to be the name of an option, got ${JSON.stringify(options.focused)}.`,
      );
    }
    const { guild, channel, user, data } = this.#commandData(options, options.focused);
    return this.#send(InteractionType.ApplicationCommandAutocomplete, data, guild, channel, user, options.locale, null);
  }

  /**
   * A user clicks a button of a message (the bot's, usually); dispatches `INTERACTION_CREATE` of
   * type 3. Throws `ERR_DISCORD_SIM_UNKNOWN_ENTITY` when the message has no enabled button with
   * that `custom_id` (link buttons send no interaction on Discord either).
   *
   * @example
   * ```ts
   * const click = sim.emit.click({ message: sent, customId: 'confirm' });
   * expect(await click.waitForResponse()).toMatchObject({ type: 7 }); // interaction.update()
   * ```
   */
  click(options: ComponentInteractionOptions): SimInteraction {
    this.#assertOpen();
    const { message, guild, channel } = this.#componentMessage(options.message);
    const component = findComponent(message.components, options.customId);
    if (component?.type !== 2 || component.style === 5 || component.disabled === true) {
      throw new UnknownSimEntityError(
        `Message ${message.id} has no enabled button with custom_id ${JSON.stringify(options.customId)}.`,
      );
    }
    const user = this.#actor(guild, options.user);
    const data = { custom_id: options.customId, component_type: 2 };
    return this.#send(InteractionType.MessageComponent, data, guild, channel, user, options.locale, message);
  }

  /**
   * A user picks values in a select menu of a message; dispatches `INTERACTION_CREATE` of type 3
   * with `values` (and `resolved` for user, role, mentionable and channel selects). The values must
   * be options of a string select, and as many as its `min_values`/`max_values` allow.
   *
   * @example
   * ```ts
   * const pick = sim.emit.select({ message: sent, customId: 'flavour', values: ['mint'] });
   * ```
   */
  select(options: SelectOptions): SimInteraction {
    this.#assertOpen();
    const { message, guild, channel } = this.#componentMessage(options.message);
    const component = findComponent(message.components, options.customId);
    if (component === undefined || !SELECT_TYPES.has(component.type as number) || component.disabled === true) {
      throw new UnknownSimEntityError(
        `Message ${message.id} has no enabled select menu with custom_id ${JSON.stringify(options.customId)}.`,
      );
    }
    const values = options.values;
    const resolved: Record<string, Record<string, unknown>> = {};
    this.#checkSelection(guild, component, values, resolved, `select menu ${options.customId}`);
    const user = this.#actor(guild, options.user);
    const data: Record<string, unknown> = {
      custom_id: options.customId,
      component_type: component.type,
      values: [...values],
    };
    if (Object.keys(resolved).length > 0) data.resolved = resolved;
    return this.#send(InteractionType.MessageComponent, data, guild, channel, user, options.locale, message);
  }

  /**
   * The user fills in and submits the modal the bot showed (callback type 9, `showModal()`) in
   * answer to `interaction`; dispatches `INTERACTION_CREATE` of type 5. `fields` maps each text
   * input's `custom_id` to its value (or a select's to its values); required inputs must be there
   * and lengths within the input's `min_length`/`max_length`.
   *
   * @example
   * ```ts
   * const click = sim.emit.click({ message: sent, customId: 'feedback' });
   * await click.waitForResponse(); // the bot called showModal()
   * const submit = sim.emit.submitModal(click, { fields: { text: 'Great bot' } });
   * ```
   */
  submitModal(interaction: SimInteraction, options: ModalSubmitOptions): SimInteraction {
    this.#assertOpen();
    const modal = interaction.modal;
    if (modal === null) {
      throw new InvalidSimOptionError(
        `Expected \`interaction\` to have been answered with a modal (callback type 9), but interaction ${interaction.id} was not.`,
      );
    }
    const fields = options.fields;
    if (typeof fields !== 'object' || fields === null)
      throw new InvalidSimOptionError(`Expected \`fields\` to be an object, got ${String(fields)}.`);
    const { world } = this.#engine;
    const { channel, guild: channelGuild } = resolveChannel(world, interaction.channelId, undefined);
    const guild = channelGuild ?? resolveGuild(world, interaction.guildId ?? undefined);
    const user = options.user === undefined ? resolveUser(world, interaction.userId) : this.#actor(guild, options.user);
    const known = new Set<string>();
    const resolved: Record<string, Record<string, unknown>> = {};
    const answer = (input: Record<string, unknown>): Record<string, unknown> => {
      const customId = String(input.custom_id);
      known.add(customId);
      const value = fields[customId];
      if (input.type === 4) {
        const text = value === undefined ? '' : value;
        if (typeof text !== 'string')
          throw new InvalidSimOptionError(`Expected field \`${customId}\` (a text input) to be a string.`);
        if (text === '' && input.required !== false)
          throw new InvalidSimOptionError(`Field \`${customId}\` is required by the modal; give it a value.`);
        const min = typeof input.min_length === 'number' ? input.min_length : 0;
        const max = typeof input.max_length === 'number' ? input.max_length : 4000;
        if (text !== '' && (text.length < min || text.length > max)) {
          throw new InvalidSimOptionError(
            `Expected field \`${customId}\` to be ${min} to ${max} characters long, got ${text.length}.`,
          );
        }
        return { type: 4, id: input.id, custom_id: customId, value: text };
      }
      const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
      this.#checkSelection(guild, input, values, resolved, `modal field ${customId}`);
      return { type: input.type, id: input.id, custom_id: customId, values };
    };
    const components = (Array.isArray(modal.components) ? modal.components : []).map((raw: unknown) => {
      const top = raw as Record<string, unknown>;
      if (top.type === 1) {
        const inner = Array.isArray(top.components) ? (top.components as Record<string, unknown>[]) : [];
        return { type: 1, id: top.id, components: inner.map(answer) };
      }
      if (top.type === 18 && typeof top.component === 'object' && top.component !== null) {
        return { type: 18, id: top.id, component: answer(top.component as Record<string, unknown>) };
      }
      return { type: top.type, id: top.id };
    });
    for (const name of Object.keys(fields)) {
      if (!known.has(name))
        throw new UnknownSimEntityError(`The modal has no input with custom_id ${JSON.stringify(name)}.`);
    }
    const data: Record<string, unknown> = { custom_id: modal.custom_id, components };
    if (Object.keys(resolved).length > 0) data.resolved = resolved;
    return this.#send(InteractionType.ModalSubmit, data, guild, channel, user, options.locale, interaction.message);
  }

  /** The guild, channel, user and `data` of a slash command (or its autocomplete, with `focused`). */
  #commandData(
    options: InteractionOptions,
    focused: string | undefined,
  ): { guild: GuildState; channel: ApiChannel; user: ApiUser; data: Record<string, unknown> } {
    if (typeof options.command !== 'string' || options.command.length === 0) {
      throw new InvalidSimOptionError(
        `Expected \`command\` to be a non-empty string, got ${JSON.stringify(options.command)}.`,
      );
    }
    const { world } = this.#engine;
    const { channel, guild: channelGuild } = resolveChannel(world, options.channel, options.guild);
    const guild = channelGuild ?? resolveGuild(world, options.guild);
    const user = this.#actor(guild, options.user);

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
    if (focused !== undefined) {
      const option = leaf.find((candidate) => candidate.name === focused);
      if (!option)
        throw new InvalidSimOptionError(`Expected \`focused\` to name one of the given options, got ${focused}.`);
      option.focused = true;
      option.value = String(option.value ?? '');
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const step = path[i] as { name: string; type: number };
      leaf = [{ name: step.name, type: step.type, options: leaf }];
    }
    const data: Record<string, unknown> = {
      id: registered?.id ?? world.ids.next(guild.createdTimestamp + 1000),
      name: options.command,
      type: 1,
    };
    if (leaf.length > 0) data.options = leaf;
    if (Object.keys(resolved).length > 0) data.resolved = resolved;
    if (registered?.guild_id !== undefined) data.guild_id = registered.guild_id;
    return { guild, channel, user, data };
  }

  /** The member acting (a random human by default); throws when the user is not in the guild. */
  #actor(guild: GuildState, ref: UserRef | undefined): ApiUser {
    const user = ref === undefined ? this.#randomHuman(guild) : resolveUser(this.#engine.world, ref);
    if (!guild.members.has(user.id))
      throw new UnknownSimEntityError(`User ${user.id} is not a member of guild ${guild.id}.`);
    return user;
  }

  /** The message a component interaction starts from: the object given (ephemeral ones too) or the stored one. */
  #componentMessage(ref: MessageRef): { message: ApiMessage; guild: GuildState; channel: ApiChannel } {
    const { world } = this.#engine;
    if (typeof ref !== 'object' || ref === null)
      throw new InvalidSimOptionError(`Expected \`message\` to be a message or { channel, id }, got ${String(ref)}.`);
    let message: ApiMessage;
    let guild: GuildState | null;
    if ('channel_id' in ref) {
      message = world.getMessage(ref.channel_id, ref.id) ?? ref;
      guild = resolveChannel(world, ref.channel_id, undefined).guild;
    } else {
      ({ message, guild } = this.#message(ref));
    }
    if (!guild) throw new UnknownSimEntityError(`Message ${message.id} is not in a guild channel.`);
    const { channel } = resolveChannel(world, message.channel_id, undefined);
    return { message, guild, channel };
  }

  /** Checks picked values against a select menu and fills `resolved` for entity selects. */
  #checkSelection(
    guild: GuildState,
    component: Record<string, unknown>,
    values: readonly unknown[],
    resolved: Record<string, Record<string, unknown>>,
    what: string,
  ): void {
    if (!Array.isArray(values) || values.some((value) => typeof value !== 'string'))
      throw new InvalidSimOptionError(`Expected the values of ${what} to be an array of strings.`);
    const min = typeof component.min_values === 'number' ? component.min_values : 1;
    const max = typeof component.max_values === 'number' ? component.max_values : 1;
    // A select in a modal may be optional (`required: false`): then it can be left empty.
    const required = component.required !== false;
    if ((values.length > 0 || required) && (values.length < min || values.length > max)) {
      throw new InvalidSimOptionError(
        `Expected ${min === max ? min : `${min} to ${max}`} value(s) for ${what}, got ${values.length}.`,
      );
    }
    for (const value of values as string[]) {
      switch (component.type) {
        case 3: {
          const choices = Array.isArray(component.options) ? (component.options as Record<string, unknown>[]) : [];
          if (!choices.some((choice) => choice.value === value))
            throw new UnknownSimEntityError(`${what} has no option with value ${JSON.stringify(value)}.`);
          break;
        }
        case 5:
        case 6:
        case 7:
        case 8: {
          const option: ApiInteractionOption = {
            name: what,
            type: component.type === 5 ? 6 : component.type === 6 ? 8 : component.type === 7 ? 9 : 7,
            value,
          };
          this.#resolve(guild, option, resolved);
          break;
        }
        default:
          break;
      }
    }
  }

  /** Builds, remembers and dispatches an interaction of any type. */
  #send(
    type: number,
    data: Record<string, unknown>,
    guild: GuildState,
    channel: ApiChannel,
    user: ApiUser,
    locale: string | undefined,
    message: ApiMessage | null,
  ): InteractionState {
    const { world } = this.#engine;
    const member = guild.members.get(user.id) as ApiGuildMember;
    const id = world.ids.next();
    const counter = ++this.#interactionCounter;
    const token = `${Buffer.from(`interaction:${id}:${counter}`).toString('base64url')}${'x'.repeat(120)}`.slice(
      0,
      160,
    );
    const botMember = guild.members.get(world.bot.id);
    const permissions = world.memberPermissions(guild, member, channel);
    const payload: Record<string, unknown> = {
      id,
      application_id: world.applicationId,
      type,
      data,
      guild_id: guild.id,
      guild: { id: guild.id, locale: 'en-US', features: [] },
      channel_id: channel.id,
      channel: { ...channel, permissions },
      member: { ...member, permissions },
      token,
      version: 1,
      app_permissions: botMember ? world.memberPermissions(guild, botMember, channel) : '0',
      locale: locale ?? 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      entitlement_sku_ids: [],
      authorizing_integration_owners: { '0': guild.id },
      context: 0,
      attachment_size_limit: 10_485_760,
    };
    if (message !== null) payload.message = message;
    const interaction = new InteractionState(id, token, payload, guild.id, channel.id, user.id, message);
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
   * A member reacts to a message; updates its `reactions` and dispatches `MESSAGE_REACTION_ADD`.
   * `emoji` is a unicode emoji or `name:id` of a custom emoji of a guild (others throw
   * `ERR_DISCORD_SIM_UNKNOWN_ENTITY`, as Discord answers 10014).
   *
   * @example
   * ```ts
   * sim.emit.reactionAdd({ message: sent, emoji: '👍' });
   * ```
   */
  reactionAdd(options: ReactionOptions): void {
    this.#react(options, true);
  }

  /** A member removes their reaction; dispatches `MESSAGE_REACTION_REMOVE` (nothing when they had not reacted). */
  reactionRemove(options: ReactionOptions & { user: UserRef }): void {
    this.#react(options, false);
  }

  #react(options: ReactionOptions, add: boolean): void {
    this.#assertOpen();
    const { world } = this.#engine;
    const { message, guild } = this.#message(options.message);
    const parsed = parseEmoji(world, options.emoji);
    if (parsed === null)
      throw new UnknownSimEntityError(`Unknown emoji ${JSON.stringify(options.emoji)} (Discord answers 10014).`);
    const user =
      options.user === undefined
        ? guild
          ? this.#randomHuman(guild)
          : resolveUser(world, message.author)
        : resolveUser(world, options.user);
    this.#lastDelivered = applyReaction(this.#engine, message, guild, parsed.emoji, parsed.key, user, add) ?? 0;
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
