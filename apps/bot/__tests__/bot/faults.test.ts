import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiscordSim, RecordedRequest, SimGuild } from '@switchyard/discord-sim';
import { startDiscordSim } from '@switchyard/discord-sim';
import type { Message } from 'discord.js';
import { Events } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDatabase, BotOptions } from '../../src/index.js';
import { Bot, openDatabase, parseRunConfig, scrubSecrets } from '../../src/index.js';
import { disposeDatabase, testDatabase, TOPOLOGIES } from '../helpers/database.js';
import { callbackOf, freshGuild, humans, nextEvent } from '../helpers/discord.js';
import { LEVEL, LogRecords } from '../helpers/logs.js';
import { StoppableDatabase } from '../helpers/StoppableDatabase.js';

const MEMBER_ROUTE = '/guilds/:guild_id/members/:user_id';
const MESSAGE_ROUTE = '/channels/:channel_id/messages/:message_id';
const BULK_ROUTE = '/channels/:channel_id/messages/bulk-delete';
const WAIT = { timeoutMs: 20_000 };
const WORD = 'forbidden';
const CRASHING_WORKER = new URL('../fixtures/crashing-worker.js', import.meta.url);
/** A worker in this thread cannot crash without the test runner. */
const ISOLATED = TOPOLOGIES.filter((topology) => topology !== 'local');

let sim: DiscordSim;

beforeAll(async () => {
  sim = await startDiscordSim({ guilds: [{ name: 'Home', members: 4 }] });
});

afterAll(async () => {
  await sim?.close();
});

/** Bans WORD and lifts the anti-spam limit, so that each test message is one deletion and nothing else. */
async function configure(guild: SimGuild): Promise<void> {
  const word = callbackOf(
    sim.emit.interaction({
      command: 'config',
      subcommand: 'add-word',
      options: { word: WORD },
      guild: guild.id,
      user: guild.ownerId,
    }),
  );
  const spam = callbackOf(
    sim.emit.interaction({
      command: 'config',
      subcommand: 'spam',
      options: { max_messages: 100, window_seconds: 1 },
      guild: guild.id,
      user: guild.ownerId,
    }),
  );
  await Promise.all([word, spam]);
}

/** Members of `guild` post `count` messages with the banned word; resolves with their ids. */
function post(guild: SimGuild, count: number, label: string): string[] {
  const members = humans(guild);
  return Array.from(
    { length: count },
    (_, i) =>
      sim.emit.messageCreate({
        guild: guild.id,
        author: members[i % members.length]!.user.id,
        content: `${label} ${i}: ${WORD} stuff`,
      }).id,
  );
}

/** The message ids a successful request deleted: one DELETE, or a bulk-delete's list. */
function deletedBy(r: RecordedRequest): readonly string[] {
  if (r.status >= 300) return [];
  if (r.method === 'DELETE' && r.route === MESSAGE_ROUTE) return [r.params.message_id!];
  if (r.method === 'POST' && r.route === BULK_ROUTE) return (r.body as { messages: string[] }).messages;
  return [];
}

function deletions(ids: readonly string[]): Promise<unknown> {
  return Promise.all(ids.map((id) => sim.waitForRequest((r) => deletedBy(r).includes(id), WAIT)));
}

function deletionsOf(ids: readonly string[]): Map<string, number> {
  const wanted = new Set(ids);
  const counts = new Map<string, number>();
  for (const r of sim.requests) {
    for (const id of deletedBy(r)) if (wanted.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

async function auditedMessageIds(bot: Bot, guildId: string): Promise<string[]> {
  const rows = await bot.moderationLog.list({ guildId });
  return rows.map((row) => (row.details as { messageId: string }).messageId);
}

describe.each(TOPOLOGIES)('Bot with %s workers when the database stops mid-traffic', (topology) => {
  let server: StoppableDatabase;
  let database: BotDatabase;

  beforeAll(async () => {
    server = await StoppableDatabase.start();
    database = await openDatabase({ url: server.url, schema: server.schema, maxConnections: 2 });
  });

  afterAll(async () => {
    await server?.start();
    await disposeDatabase(database);
    await server?.close();
  });

  function start(logs: LogRecords, options: Partial<BotOptions> = {}): Promise<Bot> {
    return Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 2,
      topology,
      logger: logs.logger,
      audit: { retryMinMs: 20, retryMaxMs: 200 },
      ...options,
    });
  }

  it('writes the audit row of every action carried out during the outage once it is back', async () => {
    const logs = new LogRecords();
    const bot = await start(logs);
    try {
      const guild = await freshGuild(sim, bot.client);
      await configure(guild);

      const before = post(guild, 20, 'before');
      await deletions(before);
      await bot.idle();

      await server.stop();
      const retrying = logs.next(/^audit: could not write \d+ rows \(attempt 1\)/, LEVEL.warn);
      const during = post(guild, 20, 'during');
      // Discord is reachable: the messages are deleted while the database is down.
      await deletions(during);
      const retry = await retrying;
      expect(retry).toMatchObject({ attempt: 1, rows: expect.any(Number), err: { type: 'DatabaseError' } });
      expect(bot.stats().auditPending).toBeGreaterThan(0);

      await server.start();
      const after = post(guild, 20, 'after');
      await deletions(after);
      await bot.idle();

      const all = [...before, ...during, ...after];
      expect([...deletionsOf(all).entries()].sort()).toEqual(all.map((id) => [id, 1]).sort());
      expect((await auditedMessageIds(bot, guild.id)).sort()).toEqual([...all].sort());
      expect(bot.stats()).toMatchObject({ auditPending: 0, auditUnwritten: 0, errors: 0, failedActions: 0 });
      expect(bot.stats().auditRetries).toBeGreaterThan(0);
      expect(bot.stats().auditWritten).toBe(all.length);
    } finally {
      await server.start();
      await bot.close();
    }
  });

  it('reports the rows it could not write when it stops while the database is down', async () => {
    const logs = new LogRecords();
    const bot = await start(logs, { shutdownTimeoutMs: 1000 });
    let guild: SimGuild | undefined;
    try {
      guild = await freshGuild(sim, bot.client);
      await configure(guild);
      await bot.idle();
      await server.stop();
      const retrying = logs.next(/^audit: could not write/);
      const during = post(guild, 5, 'stopping');
      await deletions(during);
      await retrying;
    } finally {
      await bot.close();
      await server.start();
    }
    expect(bot.stats()).toMatchObject({ auditUnwritten: 5, auditWritten: 0 });
    expect(logs.matching(/^audit: \d+ rows could not be written/)).toEqual([
      expect.objectContaining({
        level: LEVEL.error,
        msg: 'audit: 5 rows could not be written (database unavailable); they follow',
        unwritten: 5,
      }),
    ]);
    const unwritten = logs.matching(/^audit: unwritten row$/).map((record) => {
      expect(record.level).toBe(LEVEL.error);
      return record.entry as { action: string; guildId: string };
    });
    expect(unwritten).toHaveLength(5);
    expect(unwritten.every((row) => row.action === 'deleteMessage' && row.guildId === guild!.id)).toBe(true);
  });
});

describe.each(ISOLATED)('Bot with %s workers when a worker crashes mid-traffic', (topology) => {
  let database: BotDatabase;
  let dir: string;

  beforeAll(async () => {
    database = await testDatabase();
    dir = await mkdtemp(join(tmpdir(), 'switchyard-bot-crash-'));
  });

  afterAll(async () => {
    await disposeDatabase(database);
    await rm(dir, { recursive: true, force: true });
  });

  it('dispatches the events that were in flight again once, and carries each out exactly once', async () => {
    const logs = new LogRecords();
    const bot = await Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 2,
      topology,
      workerFilename: CRASHING_WORKER,
      logger: logs.logger,
    });
    try {
      const guild = await freshGuild(sim, bot.client);
      await configure(guild);
      const crashed = logs.next(/^worker \d+ crashed: /, LEVEL.warn);
      const [author] = humans(guild);
      // The crashing message has the banned word too: once dispatched again, it is deleted like the others.
      const crash = sim.emit.messageCreate({
        guild: guild.id,
        author: author!.user.id,
        content: `crash ${join(dir, 'crashed')} ${WORD}`,
      }).id;
      const traffic = post(guild, 40, 'traffic');
      await crashed;
      const all = [crash, ...traffic];
      await deletions(all);
      await bot.idle();

      expect([...deletionsOf(all).entries()].sort()).toEqual(all.map((id) => [id, 1]).sort());
      expect((await auditedMessageIds(bot, guild.id)).sort()).toEqual([...all].sort());
      const stats = bot.stats();
      expect(stats).toMatchObject({ crashes: 1, errors: 0, failedActions: 0 });
      // The crashing message was in flight; so were the messages queued behind it.
      expect(stats.redispatched).toBeGreaterThanOrEqual(1);
      expect(stats.redispatched).toBeLessThanOrEqual(all.length);
    } finally {
      await bot.close();
    }
  });

  it('counts a strike once when the worker crashed after recording it, and still carries the timeout out', async () => {
    const logs = new LogRecords();
    const bot = await Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 2,
      topology,
      workerFilename: CRASHING_WORKER,
      logger: logs.logger,
    });
    try {
      const guild = await freshGuild(sim, bot.client);
      await callbackOf(
        sim.emit.interaction({
          command: 'config',
          subcommand: 'spam',
          options: { max_messages: 3, window_seconds: 60 },
          guild: guild.id,
          user: guild.ownerId,
        }),
      );
      const [member] = humans(guild);
      const say = (content: string): string =>
        sim.emit.messageCreate({ guild: guild.id, author: member!.user.id, content }).id;
      const timeoutsOf = (): RecordedRequest[] =>
        sim.requests.filter(
          (r) => r.method === 'PATCH' && r.route === MEMBER_ROUTE && r.params.user_id === member!.user.id,
        );
      const crashed = logs.next(/^worker \d+ crashed: /, LEVEL.warn);
      // The third message makes a flood: its worker records the strike, then dies before answering.
      say('one');
      say('two');
      say(`crash-after ${join(dir, 'struck')} three`);
      await crashed;
      await sim.waitForRequest(() => timeoutsOf().length === 1, WAIT);
      await bot.idle();
      // The next flood is the second strike, not the third.
      say('four');
      say('five');
      say('six');
      await sim.waitForRequest(() => timeoutsOf().length === 2, WAIT);
      await bot.idle();

      expect(timeoutsOf().map((r) => [r.status, r.reason])).toEqual([
        [200, 'Spam: 3 messages in 1 min (strike 1 of 3)'],
        [200, 'Spam: 3 messages in 1 min (strike 2 of 3)'],
      ]);
      expect(await bot.store.get({ kind: 'guild', id: guild.id }, `strikes:${member!.user.id}`)).toMatchObject({
        count: 2,
      });
      const rows = await bot.moderationLog.list({ guildId: guild.id });
      expect(rows.map((row) => [row.action, row.userId, row.reason])).toEqual([
        ['timeout', member!.user.id, 'Spam: 3 messages in 1 min (strike 1 of 3)'],
        ['timeout', member!.user.id, 'Spam: 3 messages in 1 min (strike 2 of 3)'],
      ]);
      const stats = bot.stats();
      expect(stats).toMatchObject({ crashes: 1, errors: 0, failedActions: 0 });
      expect(stats.redispatched).toBeGreaterThanOrEqual(1);
    } finally {
      await bot.close();
    }
  });
});

describe.each(ISOLATED)('Bot with %s workers', (topology) => {
  let database: BotDatabase;

  beforeAll(async () => {
    database = await testDatabase();
  });

  afterAll(async () => {
    await disposeDatabase(database);
  });

  it("keeps the token and the database credentials out of the workers' environment", async () => {
    const secrets = { DISCORD_TOKEN: sim.token, DATABASE_URL: 'postgres://bot:s3cret-password@db.example:5432/bot' };
    const saved = { DISCORD_TOKEN: process.env.DISCORD_TOKEN, DATABASE_URL: process.env.DATABASE_URL };
    // As main.ts runs: the secrets come from the environment, which is scrubbed once they are read.
    Object.assign(process.env, secrets);
    const config = parseRunConfig([], process.env);
    scrubSecrets(process.env);
    let bot: Bot | undefined;
    try {
      expect(config).toMatchObject({ token: sim.token, databaseUrl: secrets.DATABASE_URL });
      bot = await Bot.start({
        token: config.token!,
        api: sim.apiBase,
        database,
        workers: 1,
        topology,
        workerFilename: CRASHING_WORKER,
        registerCommands: false,
      });
      const guild = await freshGuild(sim, bot.client);
      const asked = sim.emit.messageCreate({ guild: guild.id, content: `env? ${sim.token} s3cret-password` });
      const answer = await sim.waitForRequest(
        (r) =>
          r.method === 'POST' &&
          r.route === '/channels/:channel_id/messages' &&
          r.params.channel_id === asked.channel_id &&
          String((r.body as { content?: unknown }).content).startsWith('secrets in the environment'),
        WAIT,
      );
      expect((answer.body as { content: string }).content).toBe('secrets in the environment: 0 of 2');
    } finally {
      await bot?.close();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe.each(TOPOLOGIES)('Bot with %s workers when a handler never answers', (topology) => {
  let database: BotDatabase;

  beforeAll(async () => {
    database = await testDatabase();
  });

  afterAll(async () => {
    await disposeDatabase(database);
  });

  it('gives the dispatch up after dispatchTimeoutMs, and close() kills the workers after shutdownTimeoutMs', async () => {
    const logs = new LogRecords();
    const bot = await Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 1,
      topology,
      workerFilename: CRASHING_WORKER,
      logger: logs.logger,
      dispatchTimeoutMs: 1000,
      shutdownTimeoutMs: 1000,
      registerCommands: false,
    });
    let closed = false;
    try {
      const guild = await freshGuild(sim, bot.client);
      const failed = logs.next(/^error: /);
      sim.emit.messageCreate({ guild: guild.id, content: 'hang on' });
      await failed;
      expect(logs.matching(/^error: /)).toEqual([
        expect.objectContaining({
          level: LEVEL.error,
          msg: expect.stringMatching(/^error: HandlerTimeoutError: /),
          err: expect.objectContaining({ type: 'HandlerTimeoutError', code: 'ERR_HANDLER_TIMEOUT' }),
        }),
      ]);
      expect(bot.stats()).toMatchObject({ errors: 1, redispatched: 0 });
      await bot.close();
      closed = true;
      expect(logs.matching(/^shutdown: /)).toEqual([
        expect.objectContaining({
          level: LEVEL.warn,
          msg: 'shutdown: the workers did not close within 1000 ms; killing them',
          timeoutMs: 1000,
        }),
      ]);
    } finally {
      if (!closed) await bot.close();
    }
  });
});

describe.each(TOPOLOGIES)('Bot with %s workers answering a command behind a slow event', (topology) => {
  let database: BotDatabase;

  beforeAll(async () => {
    database = await testDatabase();
  });

  afterAll(async () => {
    await disposeDatabase(database);
  });

  it('acknowledges the command deferAfterMs after its creation, then edits the answer in', async () => {
    const logs = new LogRecords();
    const bot = await Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 1,
      topology,
      workerFilename: CRASHING_WORKER,
      logger: logs.logger,
    });
    try {
      const guild = await freshGuild(sim, bot.client);
      const received = nextEvent<[Message]>(bot.client, Events.MessageCreate, (m) => m.content.startsWith('slow'));
      // The guild's worker takes 2.5 s over this message: the command, queued behind it, is
      // decided after Discord's limit would have passed without the deferral at 1 s.
      sim.emit.messageCreate({ guild: guild.id, content: 'slow 2500 taking my time' });
      await received;
      const interaction = sim.emit.interaction({ command: 'stats', guild: guild.id, user: guild.ownerId });
      const callback = await callbackOf(interaction);
      expect(callback).toMatchObject({ kind: 'callback', type: 5 });
      const edited = await interaction.waitForResponse({ kind: 'editOriginal', timeoutMs: 20_000 });
      expect(edited.message?.content).toMatch(/^Moderation stats since /);
      await bot.idle();
      expect(logs.matching(/^interaction deferred$/)).toEqual([
        expect.objectContaining({ level: LEVEL.debug, interactionId: interaction.id, answer: 'deferred' }),
      ]);
      expect(await bot.metrics.registry.getSingleMetricAsString('switchyard_bot_interactions_total')).toMatch(
        /^switchyard_bot_interactions_total\{answer="deferred"\} 1$/m,
      );
      expect(bot.stats().errors).toBe(0);
    } finally {
      await bot.close();
    }
  });
});

describe.each(TOPOLOGIES)('Bot with %s workers stopping past its deadline', (topology) => {
  let database: BotDatabase;

  beforeAll(async () => {
    database = await testDatabase();
  });

  afterAll(async () => {
    await disposeDatabase(database);
  });

  it('abandons the actions decided after the deadline, counts them and says so', async () => {
    const logs = new LogRecords();
    const bot = await Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 1,
      topology,
      workerFilename: CRASHING_WORKER,
      logger: logs.logger,
      shutdownTimeoutMs: 500,
    });
    let closed = false;
    try {
      const guild = await freshGuild(sim, bot.client);
      await configure(guild);
      await bot.idle();
      const received = nextEvent<[Message]>(bot.client, Events.MessageCreate, (m) => m.content.startsWith('slow'));
      // A member without moderation rights (the guild's owner would be exempt from the filter).
      const [author] = humans(guild);
      const late = sim.emit.messageCreate({
        guild: guild.id,
        author: author!.user.id,
        content: `slow 1500 ${WORD}`,
      }).id;
      // The bot's own listener came first: the message is dispatched once this resolves.
      await received;
      await bot.close();
      closed = true;
      expect(bot.stats().abandoned).toBe(1);
      expect(logs.matching(/^shutdown: \d+ actions abandoned$/)).toEqual([
        expect.objectContaining({ level: LEVEL.warn, msg: 'shutdown: 1 actions abandoned', abandoned: 1 }),
      ]);
      expect(deletionsOf([late]).size).toBe(0);
      expect(await auditedMessageIds(bot, guild.id)).toEqual([]);
    } finally {
      if (!closed) await bot.close();
    }
  });
});

describe.each(TOPOLOGIES)('Bot with %s workers after a new gateway session', (topology) => {
  let database: BotDatabase;

  beforeAll(async () => {
    database = await testDatabase();
  });

  afterAll(async () => {
    await disposeDatabase(database);
  });

  it('says events may have been missed, looks up the watched channels and moderates what it missed', async () => {
    const logs = new LogRecords();
    const bot = await Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 2,
      topology,
      logger: logs.logger,
    });
    try {
      const guild = await freshGuild(sim, bot.client);
      await configure(guild);
      const seen = post(guild, 3, 'seen');
      await deletions(seen);
      await bot.idle();

      const told = sim.gateway.invalidateSession({ resumable: false });
      expect(told).toBe(1);
      // Posted while the bot has no session: the gateway never delivers them.
      const missed = post(guild, 18, 'missed');
      const lookedUp = logs.next(/^gateway: \d+ missed messages found/);
      await deletions(missed);
      await lookedUp;
      await bot.idle();

      expect(logs.matching(/^gateway: /)).toEqual([
        expect.objectContaining({
          level: LEVEL.warn,
          msg: expect.stringMatching(/^gateway: shard 0 started a new session; events may have been missed/),
          shardId: 0,
          channels: 1,
        }),
        expect.objectContaining({
          level: LEVEL.info,
          msg: 'gateway: 18 missed messages found in 1 watched channels and dispatched',
          found: 18,
          channels: 1,
        }),
      ]);
      expect([...deletionsOf(missed).entries()].sort()).toEqual(missed.map((id) => [id, 1]).sort());
      expect(bot.stats()).toMatchObject({ reidentified: 1, recovered: 18, errors: 0 });
      expect((await auditedMessageIds(bot, guild.id)).sort()).toEqual([...seen, ...missed].sort());
    } finally {
      await bot.close();
    }
  });
});

describe('Bot when its embedded PGlite thread dies mid-traffic', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-bot-pglite-death-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Posts `count` messages and kills the database's thread once the first of them is deleted. */
  async function postAndKill(database: BotDatabase, guild: SimGuild, count: number): Promise<string[]> {
    const ids = post(guild, count, 'traffic');
    await sim.waitForRequest((r) => deletedBy(r).some((id) => ids.includes(id)), WAIT);
    await database.pglite!.terminate();
    return ids;
  }

  /** How many of `ids` Discord deleted, each at most once. */
  function deletedCount(ids: readonly string[]): number {
    const counts = [...deletionsOf(ids).values()];
    expect(counts.every((n) => n === 1)).toBe(true);
    return counts.length;
  }

  it('in memory: says the database is lost, is not ready, and reports every audit row it could not write', async () => {
    // Whatever DATABASE_URL says: this is about the embedded database.
    const database = await openDatabase({});
    const logs = new LogRecords();
    const bot = await Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 2,
      logger: logs.logger,
      shutdownTimeoutMs: 2000,
      audit: { retryMinMs: 20, retryMaxMs: 200 },
    });
    let ids: string[] = [];
    let after: string[] = [];
    try {
      const guild = await freshGuild(sim, bot.client);
      await configure(guild);
      const before = post(guild, 10, 'before');
      await deletions(before);
      await bot.idle();
      expect(bot.stats().auditWritten).toBe(10);
      const lost = logs.next(/^database: .* is lost: /, LEVEL.error);
      ids = [...before, ...(await postAndKill(database, guild, 20))];
      expect(await lost).toMatchObject({ err: { code: 'ERR_DATABASE_LOST' } });
      expect(bot.health()).toMatchObject({ ready: false, database: false, gateway: true, workers: true });
      // The workers keep moderating (their configuration is loaded); the audit rows wait.
      after = post(guild, 10, 'after');
      await deletions(after);
    } finally {
      await bot.close();
      await database.close();
    }
    // Every action carried out has its audit row written (before the death) or reported (after).
    const deleted = deletedCount([...ids, ...after]);
    const { auditWritten, auditUnwritten } = bot.stats();
    expect(deleted).toBe(40);
    expect(auditWritten).toBeGreaterThanOrEqual(10);
    expect(auditUnwritten).toBeGreaterThanOrEqual(after.length);
    expect(auditWritten + auditUnwritten).toBe(deleted);
    expect(logs.matching(/^audit: \d+ rows could not be written/)).toEqual([
      expect.objectContaining({ level: LEVEL.error, unwritten: auditUnwritten }),
    ]);
    expect(logs.matching(/^audit: unwritten row$/)).toHaveLength(auditUnwritten);
  });

  it('with a data directory: starts a new thread and writes the audit row of every action exactly once', async () => {
    const database = await openDatabase({ dataDir: join(dir, 'data'), restartMinMs: 20, restartMaxMs: 200 });
    const logs = new LogRecords();
    const bot = await Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 2,
      logger: logs.logger,
      audit: { retryMinMs: 20, retryMaxMs: 200 },
    });
    try {
      const guild = await freshGuild(sim, bot.client);
      await configure(guild);
      await bot.idle();
      const ended = logs.next(/^database: the thread of .* ended or could not start \(attempt 1\)/, LEVEL.warn);
      const back = logs.next(/^database: the thread of .* is back \(restart 1\)/, LEVEL.info);
      const ids = await postAndKill(database, guild, 30);
      await ended;
      await back;
      ids.push(...post(guild, 10, 'after'));
      await deletions(ids.slice(-10));
      await bot.idle();
      expect(bot.health()).toMatchObject({ ready: true, database: true });
      // Events whose key-value reads met the restart failed (counted as errors); what was carried
      // out is in the audit table exactly once.
      const deleted = deletedCount(ids);
      const audited = await auditedMessageIds(bot, guild.id);
      expect(audited).toHaveLength(deleted);
      expect(new Set(audited)).toEqual(new Set([...deletionsOf(ids).keys()]));
      expect(bot.stats()).toMatchObject({ auditWritten: deleted, auditPending: 0, auditUnwritten: 0 });
    } finally {
      await bot.close();
      await database.close();
    }
  });
});
