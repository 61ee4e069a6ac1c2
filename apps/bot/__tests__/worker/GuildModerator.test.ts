import type { TenantId } from '@switchyard/core';
import { MemoryKvStore, tenantKv } from '@switchyard/core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BotEvent, CommandEvent, CommandOptionValue, MessageEvent } from '../../src/index.js';
import { CONFIG_KEY, DEFAULT_CONFIG, GuildModerator, STRIKES_PREFIX } from '../../src/index.js';

const tenant: TenantId = { kind: 'guild', id: '81384788765712384' };
const guildId = tenant.id;
let store: MemoryKvStore;
let moderator: GuildModerator;
let nextMessage = 0;

function message(
  authorId: string,
  content = 'hello',
  timestamp = 1_000_000,
  extra: Partial<MessageEvent> = {},
): MessageEvent {
  return {
    type: 'message',
    guildId,
    channelId: '200',
    messageId: String(++nextMessage),
    authorId,
    authorIsModerator: false,
    content,
    timestamp,
    ...extra,
  };
}

function command(
  command: string,
  subcommand: string | null = null,
  options: Record<string, CommandOptionValue> = {},
  canManageGuild = true,
): CommandEvent {
  return { type: 'command', guildId, channelId: '200', userId: '900', command, subcommand, options, canManageGuild };
}

async function replyTo(event: BotEvent): Promise<string> {
  const decision = await moderator.handle(event);
  return decision.reply?.content ?? '';
}

beforeEach(async () => {
  store = new MemoryKvStore();
  moderator = await GuildModerator.load(tenantKv(store, tenant), 1_000);
});

describe('GuildModerator', () => {
  it('starts from the defaults, or from the configuration stored for the guild', async () => {
    expect(moderator.config).toEqual(DEFAULT_CONFIG);
    await store.set(tenant, CONFIG_KEY, { bannedWords: ['spoiler'], spam: { maxMessages: 2 } });
    const loaded = await GuildModerator.load(tenantKv(store, tenant));
    expect(loaded.config.bannedWords).toEqual(['spoiler']);
    expect(loaded.config.spam).toEqual({ ...DEFAULT_CONFIG.spam, maxMessages: 2 });
  });

  it('decides about a message once: the same message id again is ignored and not counted', async () => {
    await moderator.handle(command('config', 'add-word', { word: 'spoiler' }));
    const event = message('10', 'a spoiler');
    expect((await moderator.handle(event)).actions).toHaveLength(1);
    expect(await moderator.handle(event)).toEqual({ actions: [] });
    expect(moderator.stats.messages).toBe(1);
    expect(moderator.stats.actions.deleteMessage).toBe(1);
  });

  it('times out a member who sends maxMessages messages inside the window, counting a strike', async () => {
    const { maxMessages, windowMs, timeoutMs } = DEFAULT_CONFIG.spam;
    for (let i = 0; i < maxMessages - 1; i++)
      expect(await moderator.handle(message('42', 'hi', 1_000 + i))).toEqual({ actions: [] });
    const last = message('42', 'hi', 1_000 + windowMs - 1);
    const decision = await moderator.handle(last);
    expect(decision.actions).toEqual([
      { type: 'timeout', userId: '42', durationMs: timeoutMs, reason: 'Spam: 5 messages in 5 s (strike 1 of 3)' },
    ]);
    // The strike, and the message that gave it.
    expect(await store.get(tenant, `${STRIKES_PREFIX}42`)).toEqual({ count: 1, recent: [[last.messageId, 1]] });
  });

  it('does not time out a member whose messages are spread wider than the window', async () => {
    const { maxMessages, windowMs } = DEFAULT_CONFIG.spam;
    for (let i = 0; i < maxMessages * 3; i++)
      expect((await moderator.handle(message('42', 'hi', i * (windowMs / (maxMessages - 1))))).actions).toEqual([]);
  });

  it('bans at the banAfterTimeouts-th strike and clears the strikes', async () => {
    const { maxMessages, banAfterTimeouts } = DEFAULT_CONFIG.spam;
    const kinds: string[] = [];
    let time = 0;
    for (let burst = 0; burst < banAfterTimeouts; burst++) {
      for (let i = 0; i < maxMessages; i++)
        kinds.push(
          ...(await moderator.handle(message('42', 'flood', (time += 10)))).actions.map((action) => action.type),
        );
      time += 60_000;
    }
    expect(kinds).toEqual(['timeout', 'timeout', 'ban']);
    expect(await store.get(tenant, `${STRIKES_PREFIX}42`)).toMatchObject({ count: 0 });
    expect(await replyTo(command('stats'))).toContain('members with strikes: 0');
  });

  it('counts the strike of a message once, when a new moderator gets the messages of a crashed one again', async () => {
    const { maxMessages } = DEFAULT_CONFIG.spam;
    const flood = Array.from({ length: maxMessages }, (_, i) => message('42', 'flood', 2_000 + i));
    // The crashed worker's moderator recorded the strike, then died before its decision came back.
    const crashed = await GuildModerator.load(tenantKv(store, tenant), 1_000);
    const decided: string[] = [];
    for (const event of flood)
      decided.push(
        ...(await crashed.handle(event)).actions.map((action) => ('reason' in action ? action.reason : action.type)),
      );
    expect(decided).toEqual(['Spam: 5 messages in 5 s (strike 1 of 3)']);
    // Every message of the flood dispatched again: the same punishment, the count unchanged.
    const again: string[] = [];
    for (const event of flood)
      again.push(
        ...(await moderator.handle({ ...event, redelivered: true })).actions.map((action) =>
          'reason' in action ? action.reason : action.type,
        ),
      );
    expect(again).toEqual(['Spam: 5 messages in 5 s (strike 1 of 3)']);
    expect(await store.get(tenant, `${STRIKES_PREFIX}42`)).toEqual({
      count: 1,
      recent: [[flood.at(-1)!.messageId, 1]],
    });
  });

  it('decides the recorded punishment again for a redelivered message alone (the window died with its worker)', async () => {
    const { maxMessages } = DEFAULT_CONFIG.spam;
    const flood = Array.from({ length: maxMessages }, (_, i) => message('42', 'flood', 2_000 + i));
    const crashed = await GuildModerator.load(tenantKv(store, tenant), 1_000);
    for (const event of flood) await crashed.handle(event);
    expect(await moderator.handle({ ...flood.at(-1)!, redelivered: true })).toEqual({
      actions: [
        { type: 'timeout', userId: '42', durationMs: 600_000, reason: 'Spam: 5 messages in 5 s (strike 1 of 3)' },
      ],
    });
    // Not redelivered, or never struck: nothing.
    expect((await moderator.handle({ ...flood[0]!, messageId: 'other', redelivered: true })).actions).toEqual([]);
    expect(await store.get(tenant, `${STRIKES_PREFIX}42`)).toMatchObject({ count: 1 });
  });

  it('reads a strike count stored as a bare number by earlier versions', async () => {
    await store.set(tenant, `${STRIKES_PREFIX}42`, 1);
    const { maxMessages } = DEFAULT_CONFIG.spam;
    const kinds: string[] = [];
    for (let i = 0; i < maxMessages; i++)
      kinds.push(
        ...(await moderator.handle(message('42', 'flood', 5_000 + i))).actions.map((action) =>
          'reason' in action ? action.reason : action.type,
        ),
      );
    expect(kinds).toEqual(['Spam: 5 messages in 5 s (strike 2 of 3)']);
  });

  it('never bans when banAfterTimeouts is 0', async () => {
    await moderator.handle(command('config', 'spam', { max_messages: 2, ban_after: 0 }));
    const kinds: string[] = [];
    for (let i = 0; i < 10; i++)
      kinds.push(...(await moderator.handle(message('42', 'flood', i))).actions.map((action) => action.type));
    expect(kinds).toEqual(['timeout', 'timeout', 'timeout', 'timeout', 'timeout']);
    expect(await store.get(tenant, `${STRIKES_PREFIX}42`)).toMatchObject({ count: 5 });
  });

  it('deletes messages with a banned word, and leaves moderators alone', async () => {
    await moderator.handle(command('config', 'add-word', { word: 'Spoiler' }));
    const event = message('42', 'huge SPOILER ahead');
    expect((await moderator.handle(event)).actions).toEqual([
      {
        type: 'deleteMessage',
        channelId: '200',
        messageId: event.messageId,
        userId: '42',
        reason: 'Banned word "spoiler"',
      },
    ]);
    expect(
      (await moderator.handle(message('43', 'huge spoiler ahead', 0, { authorIsModerator: true }))).actions,
    ).toEqual([]);
    expect((await moderator.handle(message('44', 'nothing to see'))).actions).toEqual([]);
  });

  it('welcomes a new member in the default channel, and gives the welcome role when configured', async () => {
    const join = {
      type: 'memberJoin',
      guildId,
      userId: '77',
      username: 'newbie',
      bot: false,
      defaultChannelId: '300',
    } as const;
    expect((await moderator.handle(join)).actions).toEqual([
      { type: 'sendMessage', channelId: '300', content: 'Welcome to the server, <@77>!', mentionUserIds: ['77'] },
    ]);
    await moderator.handle(
      command('config', 'welcome', { channel: '301', message: 'Hi {user}, read the rules, {user}.', role: '555' }),
    );
    expect((await moderator.handle(join)).actions).toEqual([
      { type: 'sendMessage', channelId: '301', content: 'Hi <@77>, read the rules, <@77>.', mentionUserIds: ['77'] },
      { type: 'addRole', userId: '77', roleId: '555', reason: 'Welcome role' },
    ]);
    expect((await moderator.handle({ ...join, bot: true })).actions).toEqual([]);
    await moderator.handle(command('config', 'welcome', { enabled: false }));
    expect((await moderator.handle(join)).actions).toEqual([]);
  });

  it('sends no welcome when the guild has no channel for it', async () => {
    expect(
      (
        await moderator.handle({
          type: 'memberJoin',
          guildId,
          userId: '77',
          username: 'n',
          bot: false,
          defaultChannelId: null,
        })
      ).actions,
    ).toEqual([]);
  });

  it('counts exactly what it saw and decided, and answers /stats with it', async () => {
    await moderator.handle(command('config', 'add-word', { word: 'spoiler' }));
    for (let i = 0; i < 7; i++) await moderator.handle(message(String(100 + i), i === 3 ? 'spoiler!' : 'hi', i));
    for (let i = 0; i < 5; i++) await moderator.handle(message('42', 'flood', 100 + i));
    await moderator.handle({ type: 'messageDelete', guildId, channelId: '200', messageId: '1' });
    await moderator.handle({
      type: 'memberJoin',
      guildId,
      userId: '77',
      username: 'n',
      bot: false,
      defaultChannelId: '300',
    });
    await moderator.handle({ type: 'memberLeave', guildId, userId: '78' });
    const stats = await replyTo(command('stats', null, {}, false));
    expect(stats.split('\n')).toEqual([
      'Moderation stats since <t:1:R>',
      'messages seen: 12',
      'messages deleted: 1',
      'members joined: 1, left: 1',
      'commands: 2',
      'actions taken: 3 (timeouts: 1, bans: 0, messages deleted: 1, roles given: 0, messages sent: 1)',
      'members with strikes: 1',
    ]);
    expect(moderator.stats).toMatchObject({
      messages: 12,
      deletedMessages: 1,
      joins: 1,
      leaves: 1,
      commands: 2,
      actions: { timeout: 1, deleteMessage: 1, sendMessage: 1, ban: 0, addRole: 0 },
    });
  });

  describe('/config', () => {
    it('refuses members without Manage Server, and changes nothing', async () => {
      const reply = await moderator.handle(command('config', 'add-word', { word: 'spoiler' }, false));
      expect(reply).toEqual({
        actions: [],
        reply: { content: 'You need the Manage Server permission to change the moderation settings.', ephemeral: true },
      });
      expect(await store.get(tenant, CONFIG_KEY)).toBeUndefined();
    });

    it('adds and removes banned words, persisting each change', async () => {
      expect(await replyTo(command('config', 'add-word', { word: 'Spoiler' }))).toBe(
        'Banned "spoiler" (1 banned words).',
      );
      expect(await replyTo(command('config', 'add-word', { word: 'spoiler ' }))).toBe('"spoiler" is already banned.');
      expect(await replyTo(command('config', 'add-word', { word: 'free  nitro' }))).toBe(
        'Banned "free nitro" (2 banned words).',
      );
      expect(await store.get(tenant, CONFIG_KEY)).toMatchObject({ bannedWords: ['spoiler', 'free nitro'] });
      expect(await replyTo(command('config', 'remove-word', { word: 'SPOILER' }))).toBe(
        'Unbanned "spoiler" (1 banned words).',
      );
      expect(await replyTo(command('config', 'remove-word', { word: 'spoiler' }))).toBe('"spoiler" is not banned.');
      expect(await store.get(tenant, CONFIG_KEY)).toMatchObject({ bannedWords: ['free nitro'] });
      expect(await replyTo(command('config', 'add-word', { word: '   ' }))).toBe(
        'A banned word must have 1 to 64 characters.',
      );
    });

    it('refuses more than 100 banned words', async () => {
      await store.set(tenant, CONFIG_KEY, { bannedWords: Array.from({ length: 100 }, (_, i) => `w${i}`) });
      moderator = await GuildModerator.load(tenantKv(store, tenant));
      expect(await replyTo(command('config', 'add-word', { word: 'one more' }))).toBe(
        'A server can ban at most 100 words.',
      );
    });

    it('changes the anti-spam limits within their ranges', async () => {
      expect(
        await replyTo(
          command('config', 'spam', { max_messages: 3, window_seconds: 10, timeout_minutes: 30, ban_after: 2 }),
        ),
      ).toBe('Anti-spam: 3 messages in 10 s -> timeout 30 min, ban at strike 2.');
      expect(moderator.config.spam).toEqual({
        maxMessages: 3,
        windowMs: 10_000,
        timeoutMs: 1_800_000,
        banAfterTimeouts: 2,
      });
      expect(await store.get(tenant, CONFIG_KEY)).toMatchObject({ spam: { maxMessages: 3, windowMs: 10_000 } });
      expect(await replyTo(command('config', 'spam', { max_messages: 1 }))).toBe(
        '`max_messages` must be an integer from 2 to 100, got 1.',
      );
      expect(await replyTo(command('config', 'spam', { window_seconds: 1.5 }))).toBe(
        '`window_seconds` must be an integer from 1 to 600, got 1.5.',
      );
      expect(await replyTo(command('config', 'spam', {}))).toBe(
        'Anti-spam: 3 messages in 10 s -> timeout 30 min, ban at strike 2. Give at least one option to change it.',
      );
      expect(moderator.config.spam.maxMessages).toBe(3);
    });

    it('refuses an empty welcome message', async () => {
      expect(await replyTo(command('config', 'welcome', { message: '  ' }))).toBe(
        'The welcome message must have 1 to 1000 characters.',
      );
      expect(await store.get(tenant, CONFIG_KEY)).toBeUndefined();
    });

    it('shows the settings', async () => {
      await moderator.handle(command('config', 'add-word', { word: 'spoiler' }));
      await moderator.handle(command('config', 'welcome', { channel: '301', role: '555' }));
      expect(await replyTo(command('config', 'show'))).toBe(
        [
          'Banned words: "spoiler"',
          'Anti-spam: 5 messages in 5 s -> timeout 10 min, ban at strike 3',
          'Welcome: "Welcome to the server, {user}!" in <#301>, role <@&555>',
        ].join('\n'),
      );
    });

    it('answers unknown commands and subcommands without acting', async () => {
      expect(await moderator.handle(command('config', 'launch'))).toEqual({
        actions: [],
        reply: { content: 'Unknown subcommand "launch" of /config.', ephemeral: true },
      });
      expect(await replyTo(command('ping'))).toBe('Unknown command /ping.');
    });
  });

  it('rejects an event of unknown type', async () => {
    await expect(moderator.handle({ type: 'typing' } as unknown as BotEvent)).rejects.toThrow(TypeError);
  });
});
