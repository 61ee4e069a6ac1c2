import type { TenantKv } from '@switchyard/core';
import type {
  BotAction,
  BotActionType,
  BotEvent,
  CommandEvent,
  CommandReply,
  Decision,
  MemberJoinEvent,
  MessageEvent,
} from '../protocol.js';
import { BannedWords } from './BannedWords.js';
import type { GuildConfig, SpamConfig, WelcomeConfig } from './GuildConfig.js';
import { CONFIG_KEY, CONFIG_LIMITS, normalizeConfig, normalizeWord } from './GuildConfig.js';
import { SpamDetector } from './SpamDetector.js';

/** What a guild's worker counted since it took the guild on (they are not persisted). */
export interface GuildStats {
  /** When the counting started (Unix ms). */
  readonly since: number;
  /** Messages by users (not bots) seen. */
  messages: number;
  /** Message deletions seen (by anyone, the bot's included). */
  deletedMessages: number;
  joins: number;
  leaves: number;
  commands: number;
  /** Actions decided, by kind. */
  readonly actions: Record<BotActionType, number>;
}

/** The prefix of the keys that count a member's anti-spam timeouts: `strikes:<user id>` holds a {@link StrikeRecord}. */
export const STRIKES_PREFIX = 'strikes:';

/**
 * A member's strikes: how many count now (back to 0 after a ban), and which messages gave the
 * last ones, with the strike each gave. A message's strike is counted once, also when its worker
 * crashed after recording it and the message is dispatched again.
 */
export interface StrikeRecord {
  readonly count: number;
  readonly recent: ReadonlyArray<readonly [messageId: string, strike: number]>;
}

/** How many of a member's strike-giving messages a {@link StrikeRecord} remembers. */
export const REMEMBERED_STRIKES = 20;

/** A stored record; a bare number is a count stored before records existed. */
function toStrikeRecord(stored: unknown): StrikeRecord {
  if (typeof stored === 'number') return { count: stored, recent: [] };
  if (stored !== null && typeof stored === 'object' && typeof (stored as StrikeRecord).count === 'number') {
    const { count, recent } = stored as StrikeRecord;
    return { count, recent: Array.isArray(recent) ? recent : [] };
  }
  return { count: 0, recent: [] };
}

/** How many message ids a moderator remembers, to decide about each message once. */
export const REMEMBERED_MESSAGES = 1000;

const NOTHING: Decision = Object.freeze({ actions: Object.freeze([]) });
const ACTION_LABELS: Record<BotActionType, string> = {
  timeout: 'timeouts',
  ban: 'bans',
  deleteMessage: 'messages deleted',
  addRole: 'roles given',
  sendMessage: 'messages sent',
};

function reply(content: string, ephemeral = true): Decision {
  return { actions: [], reply: { content, ephemeral } };
}

function seconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

/**
 * One guild's moderation state in a worker: its configuration (loaded from and saved to the
 * guild's key-value storage), anti-spam windows, banned-word filter and counters. It decides;
 * the main thread acts.
 */
export class GuildModerator {
  readonly #kv: TenantKv;
  readonly #spam = new SpamDetector();
  readonly #stats: GuildStats;
  /** Recent message ids (insertion order): a message dispatched twice is decided about once. */
  readonly #seen = new Set<string>();
  #config: GuildConfig;
  #words: BannedWords;

  private constructor(kv: TenantKv, config: GuildConfig, now: number) {
    this.#kv = kv;
    this.#config = config;
    this.#words = new BannedWords(config.bannedWords);
    this.#stats = {
      since: now,
      messages: 0,
      deletedMessages: 0,
      joins: 0,
      leaves: 0,
      commands: 0,
      actions: { timeout: 0, ban: 0, deleteMessage: 0, addRole: 0, sendMessage: 0 },
    };
  }

  /** Loads the guild's configuration from its storage (defaults when it has none). */
  static async load(kv: TenantKv, now = Date.now()): Promise<GuildModerator> {
    return new GuildModerator(kv, normalizeConfig(await kv.get(CONFIG_KEY)), now);
  }

  get config(): GuildConfig {
    return this.#config;
  }

  /** A copy of the counters. */
  get stats(): GuildStats {
    return { ...this.#stats, actions: { ...this.#stats.actions } };
  }

  /** Decides what to do about one event. */
  async handle(event: BotEvent): Promise<Decision> {
    let decision: Decision;
    switch (event.type) {
      case 'message':
        decision = await this.#message(event);
        break;
      case 'messageDelete':
        this.#stats.deletedMessages++;
        decision = NOTHING;
        break;
      case 'memberJoin':
        decision = this.#join(event);
        break;
      case 'memberLeave':
        this.#stats.leaves++;
        this.#spam.forget(event.userId);
        decision = NOTHING;
        break;
      case 'command':
        this.#stats.commands++;
        decision = await this.#command(event);
        break;
      default:
        throw new TypeError(`Unknown event type ${JSON.stringify((event as { type?: unknown }).type)}.`);
    }
    for (const action of decision.actions) this.#stats.actions[action.type]++;
    return decision;
  }

  async #message(event: MessageEvent): Promise<Decision> {
    // Idempotent per message id: the main thread dispatches an event again when its worker
    // crashed with it in flight, and looks messages up after a new gateway session.
    if (this.#seen.has(event.messageId)) return NOTHING;
    this.#seen.add(event.messageId);
    if (this.#seen.size > REMEMBERED_MESSAGES) this.#seen.delete(this.#seen.values().next().value!);
    this.#stats.messages++;
    if (event.authorIsModerator) return NOTHING;
    const actions: BotAction[] = [];
    const word = this.#words.find(event.content);
    if (word !== undefined) {
      actions.push({
        type: 'deleteMessage',
        channelId: event.channelId,
        messageId: event.messageId,
        userId: event.authorId,
        reason: `Banned word "${word}"`,
      });
    }
    const { spam } = this.#config;
    if (this.#spam.hit(event.authorId, event.timestamp, spam)) {
      actions.push(await this.#punish(event.authorId, event.messageId, spam));
    } else if (event.redelivered === true) {
      // A crashed worker may have counted a strike for this message, then died before its
      // decision came back: the punishment it decided is decided again (its window of messages
      // died with it), and counted once.
      const strike = (await this.#strikes(event.authorId)).recent.find(([id]) => id === event.messageId)?.[1];
      if (strike !== undefined) actions.push(this.#punishment(event.authorId, strike, spam));
    }
    return actions.length === 0 ? NOTHING : { actions };
  }

  async #strikes(userId: string): Promise<StrikeRecord> {
    return toStrikeRecord(await this.#kv.get(`${STRIKES_PREFIX}${userId}`));
  }

  /**
   * A strike for `messageId`: a timeout, or a ban once the member collected `banAfterTimeouts`
   * strikes. Idempotent per message id: a message whose strike is already recorded gets the same
   * punishment again, and the count does not move.
   */
  async #punish(userId: string, messageId: string, spam: SpamConfig): Promise<BotAction> {
    const record = await this.#strikes(userId);
    const recorded = record.recent.find(([id]) => id === messageId)?.[1];
    if (recorded !== undefined) return this.#punishment(userId, recorded, spam);
    const strike = record.count + 1;
    const banned = spam.banAfterTimeouts > 0 && strike >= spam.banAfterTimeouts;
    const next: StrikeRecord = {
      count: banned ? 0 : strike,
      recent: [...record.recent, [messageId, strike] as const].slice(-REMEMBERED_STRIKES),
    };
    await this.#kv.set(`${STRIKES_PREFIX}${userId}`, next);
    if (banned) this.#spam.forget(userId);
    return this.#punishment(userId, strike, spam);
  }

  #punishment(userId: string, strike: number, spam: SpamConfig): BotAction {
    const what = `Spam: ${spam.maxMessages} messages in ${seconds(spam.windowMs)}`;
    if (spam.banAfterTimeouts > 0 && strike >= spam.banAfterTimeouts) {
      return {
        type: 'ban',
        userId,
        reason: `${what} (strike ${strike} of ${spam.banAfterTimeouts})`,
        deleteMessageSeconds: 3600,
      };
    }
    const of = spam.banAfterTimeouts > 0 ? ` of ${spam.banAfterTimeouts}` : '';
    return { type: 'timeout', userId, durationMs: spam.timeoutMs, reason: `${what} (strike ${strike}${of})` };
  }

  #join(event: MemberJoinEvent): Decision {
    this.#stats.joins++;
    const { welcome } = this.#config;
    if (event.bot || !welcome.enabled) return NOTHING;
    const actions: BotAction[] = [];
    const channelId = welcome.channelId ?? event.defaultChannelId;
    if (channelId !== null) {
      const content = welcome.message.replaceAll('{user}', `<@${event.userId}>`);
      actions.push({ type: 'sendMessage', channelId, content, mentionUserIds: [event.userId] });
    }
    if (welcome.roleId !== null)
      actions.push({ type: 'addRole', userId: event.userId, roleId: welcome.roleId, reason: 'Welcome role' });
    return actions.length === 0 ? NOTHING : { actions };
  }

  async #command(event: CommandEvent): Promise<Decision> {
    switch (event.command) {
      case 'stats':
        return { actions: [], reply: await this.#statsReply() };
      case 'config':
        if (!event.canManageGuild)
          return reply('You need the Manage Server permission to change the moderation settings.');
        return this.#configure(event);
      default:
        return reply(`Unknown command /${event.command}.`);
    }
  }

  async #statsReply(): Promise<CommandReply> {
    const s = this.#stats;
    const strikes = (await this.#kv.list(STRIKES_PREFIX)).filter(([, stored]) => toStrikeRecord(stored).count > 0);
    const total = Object.values(s.actions).reduce((sum, n) => sum + n, 0);
    const byKind = (Object.keys(ACTION_LABELS) as BotActionType[])
      .map((kind) => `${ACTION_LABELS[kind]}: ${s.actions[kind]}`)
      .join(', ');
    const lines = [
      `Moderation stats since <t:${Math.floor(s.since / 1000)}:R>`,
      `messages seen: ${s.messages}`,
      `messages deleted: ${s.deletedMessages}`,
      `members joined: ${s.joins}, left: ${s.leaves}`,
      `commands: ${s.commands}`,
      `actions taken: ${total} (${byKind})`,
      `members with strikes: ${strikes.length}`,
    ];
    return { content: lines.join('\n'), ephemeral: false };
  }

  async #save(config: GuildConfig): Promise<void> {
    await this.#kv.set(CONFIG_KEY, config);
    this.#config = config;
    this.#words = new BannedWords(config.bannedWords);
  }

  async #configure(event: CommandEvent): Promise<Decision> {
    const config = this.#config;
    const { options } = event;
    switch (event.subcommand) {
      case 'show':
        return reply(this.#describe(config));
      case 'add-word': {
        const word = typeof options.word === 'string' ? normalizeWord(options.word) : undefined;
        if (word === undefined) return reply(`A banned word must have 1 to ${CONFIG_LIMITS.wordLength} characters.`);
        if (config.bannedWords.includes(word)) return reply(`"${word}" is already banned.`);
        if (config.bannedWords.length >= CONFIG_LIMITS.bannedWords)
          return reply(`A server can ban at most ${CONFIG_LIMITS.bannedWords} words.`);
        await this.#save({ ...config, bannedWords: [...config.bannedWords, word] });
        return reply(`Banned "${word}" (${this.#config.bannedWords.length} banned words).`);
      }
      case 'remove-word': {
        const word = typeof options.word === 'string' ? normalizeWord(options.word) : undefined;
        if (word === undefined || !config.bannedWords.includes(word))
          return reply(`"${String(options.word)}" is not banned.`);
        await this.#save({ ...config, bannedWords: config.bannedWords.filter((banned) => banned !== word) });
        return reply(`Unbanned "${word}" (${this.#config.bannedWords.length} banned words).`);
      }
      case 'spam':
        return this.#configureSpam(event);
      case 'welcome':
        return this.#configureWelcome(event);
      default:
        return reply(`Unknown subcommand ${JSON.stringify(event.subcommand)} of /config.`);
    }
  }

  async #configureSpam(event: CommandEvent): Promise<Decision> {
    const { options } = event;
    const fields: Array<[option: string, key: keyof SpamConfig, scale: number, limits: { min: number; max: number }]> =
      [
        ['max_messages', 'maxMessages', 1, CONFIG_LIMITS.maxMessages],
        ['window_seconds', 'windowMs', 1000, CONFIG_LIMITS.windowMs],
        ['timeout_minutes', 'timeoutMs', 60_000, CONFIG_LIMITS.timeoutMs],
        ['ban_after', 'banAfterTimeouts', 1, CONFIG_LIMITS.banAfterTimeouts],
      ];
    const spam: Record<keyof SpamConfig, number> = { ...this.#config.spam };
    let changed = 0;
    for (const [option, key, scale, limits] of fields) {
      const value = options[option];
      if (value === undefined) continue;
      const scaled = typeof value === 'number' && Number.isInteger(value) ? value * scale : Number.NaN;
      if (!(scaled >= limits.min && scaled <= limits.max)) {
        return reply(
          `\`${option}\` must be an integer from ${limits.min / scale} to ${limits.max / scale}, got ${String(value)}.`,
        );
      }
      spam[key] = scaled;
      changed++;
    }
    if (changed === 0)
      return reply(`Anti-spam: ${this.#describeSpam(this.#config.spam)}. Give at least one option to change it.`);
    await this.#save({ ...this.#config, spam });
    return reply(`Anti-spam: ${this.#describeSpam(spam)}.`);
  }

  async #configureWelcome(event: CommandEvent): Promise<Decision> {
    const { options } = event;
    const welcome: { -readonly [K in keyof WelcomeConfig]: WelcomeConfig[K] } = { ...this.#config.welcome };
    if (typeof options.enabled === 'boolean') welcome.enabled = options.enabled;
    if (typeof options.channel === 'string') welcome.channelId = options.channel;
    if (typeof options.role === 'string') welcome.roleId = options.role;
    if (options.message !== undefined) {
      if (
        typeof options.message !== 'string' ||
        options.message.trim().length === 0 ||
        options.message.length > CONFIG_LIMITS.welcomeLength
      ) {
        return reply(`The welcome message must have 1 to ${CONFIG_LIMITS.welcomeLength} characters.`);
      }
      welcome.message = options.message;
    }
    await this.#save({ ...this.#config, welcome });
    return reply(`Welcome: ${this.#describeWelcome(welcome)}.`);
  }

  #describeSpam(spam: SpamConfig): string {
    const ban = spam.banAfterTimeouts > 0 ? `, ban at strike ${spam.banAfterTimeouts}` : ', never ban';
    return `${spam.maxMessages} messages in ${seconds(spam.windowMs)} -> timeout ${seconds(spam.timeoutMs)}${ban}`;
  }

  #describeWelcome(welcome: WelcomeConfig): string {
    if (!welcome.enabled) return 'off';
    const where = welcome.channelId === null ? 'the system channel' : `<#${welcome.channelId}>`;
    const role = welcome.roleId === null ? '' : `, role <@&${welcome.roleId}>`;
    return `"${welcome.message}" in ${where}${role}`;
  }

  #describe(config: GuildConfig): string {
    const words = config.bannedWords.length === 0 ? 'none' : config.bannedWords.map((word) => `"${word}"`).join(', ');
    return [
      `Banned words: ${words}`,
      `Anti-spam: ${this.#describeSpam(config.spam)}`,
      `Welcome: ${this.#describeWelcome(config.welcome)}`,
    ].join('\n');
  }
}
