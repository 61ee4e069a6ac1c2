/** Anti-spam settings of a guild. */
export interface SpamConfig {
  /** This many messages by one member inside `windowMs` is spam. */
  readonly maxMessages: number;
  /** The sliding window, in milliseconds. */
  readonly windowMs: number;
  /** How long a spammer is timed out, in milliseconds. */
  readonly timeoutMs: number;
  /** A member who would be timed out for the `banAfterTimeouts`-th time is banned instead; 0 never bans. */
  readonly banAfterTimeouts: number;
}

/** What happens when someone joins a guild. */
export interface WelcomeConfig {
  readonly enabled: boolean;
  /** Where the welcome goes; `null`: the guild's system channel, else its first text channel. */
  readonly channelId: string | null;
  /** The text; `{user}` becomes a mention of the new member. */
  readonly message: string;
  /** A role given to every new member, or `null`. */
  readonly roleId: string | null;
}

/** A guild's moderation settings, stored in its key-value storage under {@link CONFIG_KEY}. */
export interface GuildConfig {
  /** Lower-case words (or phrases) whose messages are deleted. */
  readonly bannedWords: readonly string[];
  readonly spam: SpamConfig;
  readonly welcome: WelcomeConfig;
}

/** The key of a guild's configuration in its key-value storage. */
export const CONFIG_KEY = 'config';

/** The limits `/config` enforces (and stored configurations are clamped to). */
export const CONFIG_LIMITS = {
  bannedWords: 100,
  wordLength: 64,
  maxMessages: { min: 2, max: 100 },
  windowMs: { min: 1_000, max: 600_000 },
  timeoutMs: { min: 60_000, max: 28 * 24 * 60 * 60 * 1000 },
  banAfterTimeouts: { min: 0, max: 100 },
  welcomeLength: 1_000,
} as const;

/** What a guild starts with. */
export const DEFAULT_CONFIG: GuildConfig = Object.freeze({
  bannedWords: Object.freeze([]) as readonly string[],
  spam: Object.freeze({ maxMessages: 5, windowMs: 5_000, timeoutMs: 10 * 60_000, banAfterTimeouts: 3 }),
  welcome: Object.freeze({ enabled: true, channelId: null, message: 'Welcome to the server, {user}!', roleId: null }),
});

const SNOWFLAKE = /^[0-9]{1,20}$/;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function integer(value: unknown, limits: { min: number; max: number }, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value)
    ? Math.min(limits.max, Math.max(limits.min, value))
    : fallback;
}

/** Trims and lower-cases a banned word; `undefined` when it is empty or too long. */
export function normalizeWord(word: string): string | undefined {
  const normalized = word.trim().replace(/\s+/g, ' ').toLowerCase();
  return normalized.length === 0 || normalized.length > CONFIG_LIMITS.wordLength ? undefined : normalized;
}

/**
 * Reads a stored configuration, whatever version of the bot wrote it: unknown fields are dropped,
 * missing or invalid ones take their default, numbers are clamped to {@link CONFIG_LIMITS}.
 */
export function normalizeConfig(stored: unknown): GuildConfig {
  const raw = record(stored);
  const spam = record(raw.spam);
  const welcome = record(raw.welcome);
  const words = Array.isArray(raw.bannedWords) ? raw.bannedWords : [];
  const bannedWords = [
    ...new Set(words.flatMap((word) => (typeof word === 'string' ? (normalizeWord(word) ?? []) : []))),
  ].slice(0, CONFIG_LIMITS.bannedWords);
  const defaults = DEFAULT_CONFIG;
  return {
    bannedWords,
    spam: {
      maxMessages: integer(spam.maxMessages, CONFIG_LIMITS.maxMessages, defaults.spam.maxMessages),
      windowMs: integer(spam.windowMs, CONFIG_LIMITS.windowMs, defaults.spam.windowMs),
      timeoutMs: integer(spam.timeoutMs, CONFIG_LIMITS.timeoutMs, defaults.spam.timeoutMs),
      banAfterTimeouts: integer(spam.banAfterTimeouts, CONFIG_LIMITS.banAfterTimeouts, defaults.spam.banAfterTimeouts),
    },
    welcome: {
      enabled: typeof welcome.enabled === 'boolean' ? welcome.enabled : defaults.welcome.enabled,
      channelId: typeof welcome.channelId === 'string' && SNOWFLAKE.test(welcome.channelId) ? welcome.channelId : null,
      message:
        typeof welcome.message === 'string' &&
        welcome.message.trim().length > 0 &&
        welcome.message.length <= CONFIG_LIMITS.welcomeLength
          ? welcome.message
          : defaults.welcome.message,
      roleId: typeof welcome.roleId === 'string' && SNOWFLAKE.test(welcome.roleId) ? welcome.roleId : null,
    },
  };
}
