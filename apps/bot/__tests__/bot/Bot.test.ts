import { PassThrough } from 'node:stream';
import type { RecordedRequest, SimGuild } from '@switchyard/discord-sim';
import { DEFAULT_BOT_PERMISSIONS, Permission, startDiscordSim } from '@switchyard/discord-sim';
import type { DiscordSim } from '@switchyard/discord-sim';
import { tenantKv } from '@switchyard/core';
import { listTemplates } from '@switchyard/sandbox';
import { createStatusBoard } from '@switchyard/status';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BanAction, BotDatabase, BotOptions, ModerationEntry } from '../../src/index.js';
import {
  ActionRunner,
  AuditOutbox,
  nonceFor,
  Bot,
  CONFIG_KEY,
  DEFAULT_CONFIG,
  ModerationLog,
  SIMULATED_BANNED_WORDS,
  SIMULATED_TEMPLATE,
  Simulation,
  startMetricsServer,
} from '../../src/index.js';
import { disposeDatabase, testDatabase, TOPOLOGIES } from '../helpers/database.js';
import { callbackOf, freshGuild, humans, nextEvent } from '../helpers/discord.js';
import { LEVEL, LogRecords } from '../helpers/logs.js';

const MEMBER_ROUTE = '/guilds/:guild_id/members/:user_id';
const MESSAGE_ROUTE = '/channels/:channel_id/messages/:message_id';
const BULK_ROUTE = '/channels/:channel_id/messages/bulk-delete';
const POST_ROUTE = '/channels/:channel_id/messages';
const BAN_ROUTE = '/guilds/:guild_id/bans/:user_id';
const BULK_BAN_ROUTE = '/guilds/:guild_id/bulk-ban';
const WAIT = { timeoutMs: 10_000 };

describe.each(TOPOLOGIES)('with %s workers', (topology) => {
  let database: BotDatabase;
  let sim: DiscordSim;
  let bot: Bot;
  const logs = new LogRecords();

  function start(options: Partial<BotOptions> = {}): Promise<Bot> {
    return Bot.start({
      token: sim.token,
      api: sim.apiBase,
      database,
      workers: 2,
      topology,
      logger: logs.logger,
      ...options,
    });
  }

  function requestsOf(guildId: string, method: string, route: string): RecordedRequest[] {
    return sim.requests.filter(
      (request) => request.method === method && request.route === route && request.params.guild_id === guildId,
    );
  }

  beforeAll(async () => {
    database = await testDatabase();
    sim = await startDiscordSim({ guilds: [{ name: 'Home', members: 4 }] });
    bot = await start();
  });

  afterAll(async () => {
    await bot?.close();
    await sim?.close();
    await disposeDatabase(database);
  });

  describe('Bot', () => {
    it('registers /stats, /config and /template when it starts', () => {
      const put = sim.requests.find(
        (request) => request.method === 'PUT' && request.route === '/applications/:application_id/commands',
      );
      expect((put?.body as Array<{ name: string }>).map((command) => command.name)).toEqual([
        'stats',
        'config',
        'template',
      ]);
    });

    it('times out a spammer through REST and writes the audit row', async () => {
      const guild = await freshGuild(sim, bot.client);
      const [spammer, bystander] = humans(guild);
      const { maxMessages, timeoutMs } = DEFAULT_CONFIG.spam;
      for (let i = 0; i < maxMessages - 1; i++)
        sim.emit.messageCreate({ guild: guild.id, author: spammer!.user.id, content: `buy now ${i}` });
      sim.emit.messageCreate({ guild: guild.id, author: bystander!.user.id, content: 'hello' });
      const before = Date.now();
      sim.emit.messageCreate({ guild: guild.id, author: spammer!.user.id, content: 'buy now!!!' });
      const request = await sim.waitForRequest(
        (r) => r.method === 'PATCH' && r.route === MEMBER_ROUTE && r.params.guild_id === guild.id,
        WAIT,
      );
      await bot.idle();

      expect(request).toMatchObject({
        status: 200,
        params: { user_id: spammer!.user.id },
        reason: 'Spam: 5 messages in 5 s (strike 1 of 3)',
      });
      const until = Date.parse((request.body as { communication_disabled_until: string }).communication_disabled_until);
      expect(until).toBeGreaterThanOrEqual(before + timeoutMs);
      expect(until).toBeLessThanOrEqual(Date.now() + timeoutMs);
      expect(guild.members.get(spammer!.user.id)!.communication_disabled_until).not.toBeNull();
      expect(requestsOf(guild.id, 'PATCH', MEMBER_ROUTE)).toHaveLength(1);

      const rows = await bot.moderationLog.list({ guildId: guild.id });
      expect(rows).toEqual([
        {
          id: expect.any(Number),
          guildId: guild.id,
          userId: spammer!.user.id,
          action: 'timeout',
          reason: 'Spam: 5 messages in 5 s (strike 1 of 3)',
          details: { durationMs: timeoutMs },
          ok: true,
          error: null,
          createdAt: expect.any(Date),
          actionKey: expect.stringMatching(/^[\w-]+:\d+$/),
        },
      ]);
      expect(await bot.store.get({ kind: 'guild', id: guild.id }, `strikes:${spammer!.user.id}`)).toMatchObject({
        count: 1,
      });
      expect(logs.all.filter((record) => record.guildId === guild.id)).toEqual([
        expect.objectContaining({
          level: LEVEL.info,
          msg: `${guild.name}: timed out @${spammer!.user.username} for 10 min (Spam: 5 messages in 5 s (strike 1 of 3))`,
          guildId: guild.id,
          action: 'timeout',
          userId: spammer!.user.id,
        }),
      ]);
    });

    it('bans a member at the configured strike, and the audit table has every action in order', async () => {
      const guild = await freshGuild(sim, bot.client);
      const [spammer] = humans(guild);
      const configured = await callbackOf(
        sim.emit.interaction({
          command: 'config',
          subcommand: 'spam',
          options: { max_messages: 3, ban_after: 2 },
          guild: guild.id,
          user: guild.ownerId,
        }),
      );
      expect(configured.data).toMatchObject({
        content: 'Anti-spam: 3 messages in 5 s -> timeout 10 min, ban at strike 2.',
        flags: 64,
      });
      for (let i = 0; i < 6; i++)
        sim.emit.messageCreate({ guild: guild.id, author: spammer!.user.id, content: `flood ${i}` });
      const ban = await sim.waitForRequest(
        (r) => r.method === 'PUT' && r.route === '/guilds/:guild_id/bans/:user_id' && r.params.guild_id === guild.id,
        WAIT,
      );
      await bot.idle();

      expect(ban).toMatchObject({
        status: 204,
        params: { user_id: spammer!.user.id },
        body: { delete_message_seconds: 3600 },
        reason: 'Spam: 3 messages in 5 s (strike 2 of 2)',
      });
      expect(guild.bans.has(spammer!.user.id)).toBe(true);
      const rows = await bot.moderationLog.list({ guildId: guild.id });
      expect(rows.map((row) => [row.action, row.userId, row.ok])).toEqual([
        ['timeout', spammer!.user.id, true],
        ['ban', spammer!.user.id, true],
      ]);
      expect(await bot.store.list({ kind: 'guild', id: guild.id }, 'strikes:')).toEqual([
        [`strikes:${spammer!.user.id}`, expect.objectContaining({ count: 0 })],
      ]);
    });

    it('counts what it receives, dispatches and carries out in its Prometheus metrics, and reports itself healthy', async () => {
      const guild = await freshGuild(sim, bot.client);
      await callbackOf(
        sim.emit.interaction({
          command: 'config',
          subcommand: 'add-word',
          options: { word: 'metric' },
          guild: guild.id,
          user: guild.ownerId,
        }),
      );
      await bot.idle();
      const value = async (name: string, labels: Record<string, string>): Promise<number> => {
        const metric = (await bot.metrics.registry.getSingleMetric(name)!.get()) as {
          values: Array<{ value: number; labels: Record<string, unknown>; metricName?: string }>;
        };
        return metric.values
          .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
          .reduce((sum, v) => sum + v.value, 0);
      };
      const read = () =>
        Promise.all([
          value('switchyard_bot_events_received_total', { type: 'message' }),
          value('switchyard_bot_events_dispatched_total', { type: 'message' }),
          value('switchyard_bot_actions_total', { kind: 'deleteMessage', outcome: 'ok' }),
          value('switchyard_bot_rest_responses_total', {
            method: 'DELETE',
            route: '/channels/:id/messages/:id',
            status: '204',
          }),
          value('switchyard_bot_audit_rows_written_total', {}),
        ]);
      const before = await read();
      const [member] = humans(guild);
      sim.emit.messageCreate({ guild: guild.id, author: member!.user.id, content: 'a metric word' });
      sim.emit.messageCreate({ guild: guild.id, author: member!.user.id, content: 'nothing to see' });
      await sim.waitForRequest(
        (r) => r.method === 'DELETE' && r.route === MESSAGE_ROUTE && r.params.channel_id === guild.textChannels[0]!.id,
        WAIT,
      );
      await bot.idle();
      const after = await read();
      expect(after.map((n, i) => n - before[i]!)).toEqual([2, 2, 1, 1, 1]);
      const text = await bot.metrics.registry.metrics();
      expect(text).toMatch(/^switchyard_bot_dispatch_duration_seconds_count\{type="message"\} \d+$/m);
      expect(text).toMatch(/^switchyard_bot_audit_outbox_depth 0$/m);
      expect(text).toMatch(/^switchyard_bot_ready 1$/m);
      expect(bot.health()).toEqual({ ready: true, gateway: true, workers: true, database: true });
    });

    it("serves the pool's per-worker metrics (@switchyard/metrics) on /metrics, counted from its real workers", async () => {
      // A Discord and a bot of their own: nothing but the events sent here reaches these workers.
      const quiet = await startDiscordSim({ guilds: [{ name: 'Quiet', members: 4 }] });
      const own = await Bot.start({
        token: quiet.token,
        api: quiet.apiBase,
        database,
        workers: 2,
        topology,
        registerCommands: false,
      });
      const server = await startMetricsServer({
        port: 0,
        host: '127.0.0.1',
        registry: own.metrics.registry,
        health: () => own.health(),
      });
      try {
        const guild = quiet.guilds[0]!;
        const [member] = humans(guild);
        // Three messages, under the spam threshold: three events, no action.
        for (let i = 0; i < 3; i++)
          quiet.emit.messageCreate({ guild: guild.id, author: member!.user.id, content: `hello ${i}` });
        while (own.stats().events.message < 3) await nextEvent(own.client, 'messageCreate');
        await own.idle();

        const response = await fetch(`${server.url}/metrics`);
        expect(response.status).toBe(200);
        const text = await response.text();
        const series = (name: string): Map<string, number> => {
          const found = new Map<string, number>();
          const line = new RegExp(`^${name}\\{pool="bot",worker="(\\d+)"\\} (\\S+)$`, 'gm');
          for (const [, worker, value] of text.matchAll(line)) found.set(worker!, Number(value));
          return found;
        };
        const total = (name: string): number => [...series(name).values()].reduce((sum, n) => sum + n, 0);
        // The gauges have a series per worker of the pool; the guild is one worker's tenant.
        for (const name of ['switchyard_worker_tenants', 'switchyard_worker_queued'])
          expect([...series(name).keys()].sort(), name).toEqual(['0', '1']);
        const tenants = series('switchyard_worker_tenants');
        const busy = [...tenants].find(([, n]) => n === 1)?.[0];
        expect([...tenants.values()].sort()).toEqual([0, 1]);
        expect(text).toMatch(/^switchyard_pool_workers\{pool="bot"\} 2$/m);
        // Its worker handled the three events, none failed, nothing is queued.
        expect(series('switchyard_worker_handled_total')).toEqual(new Map([[busy, 3]]));
        expect(total('switchyard_worker_failed_total')).toBe(0);
        expect(total('switchyard_worker_queued')).toBe(0);
        expect(total('switchyard_dispatch_handling_seconds_count')).toBe(3);
        expect(total('switchyard_dispatch_queue_wait_seconds_count')).toBe(3);
        const state = topology === 'local' ? 'local' : 'running';
        for (const worker of ['0', '1'])
          expect(text).toContain(`switchyard_worker_state{pool="bot",worker="${worker}",state="${state}"} 1`);
        // The bot's own metrics are still there, in the same registry.
        expect(text).toMatch(/^switchyard_bot_events_dispatched_total\{type="message"\} 3$/m);
      } finally {
        await server.close();
        await own.close();
        await quiet.close();
      }
    });

    /**
     * Three raiders flood a guild whose anti-spam bans at the first strike, while the welcome of a
     * newcomer, decided before the bans, is held up 3 s by a 429: the bans wait behind it, held
     * together, and go as soon as it went.
     */
    async function raid(discord: DiscordSim, own: Bot, guild: SimGuild): Promise<string[]> {
      await callbackOf(
        discord.emit.interaction({
          command: 'config',
          subcommand: 'spam',
          options: { max_messages: 3, ban_after: 1 },
          guild: guild.id,
          user: guild.ownerId,
        }),
      );
      await own.idle();
      const raiders = humans(guild)
        .slice(0, 3)
        .map((member) => member.user.id);
      const seen = own.stats().events.message;
      const inGuild = (r: Pick<RecordedRequest, 'route' | 'params'>): boolean =>
        r.route === POST_ROUTE && guild.textChannels.some((channel) => channel.id === r.params.channel_id);
      discord.rest.rateLimitNext({ match: inGuild, method: 'POST', retryAfterMs: 3000 });
      discord.emit.memberAdd({ guild: guild.id, username: 'newcomer' });
      for (const raider of raiders)
        for (let i = 0; i < 3; i++)
          discord.emit.messageCreate({ guild: guild.id, author: raider, content: `raid ${i}` });
      await discord.waitForRequest((r) => r.method === 'POST' && inGuild(r) && r.status === 200, WAIT);
      while (own.stats().events.message < seen + 9) await nextEvent(own.client, 'messageCreate');
      await own.idle();
      return raiders;
    }

    it("coalesces a guild's bans into one bulk ban, after the action decided before them, one audit row per member", async () => {
      const raided = await startDiscordSim({
        guilds: [{ name: 'Raided', members: 6 }],
        botPermissions: DEFAULT_BOT_PERMISSIONS | Permission.ManageGuild,
      });
      const own = await Bot.start({
        token: raided.token,
        api: raided.apiBase,
        database,
        workers: 2,
        topology,
      });
      try {
        const guild = raided.guilds[0]!;
        const raiders = await raid(raided, own, guild);
        const writes = raided.requests.filter(
          (r) => (r.method === 'POST' && r.route === POST_ROUTE) || r.route === BULK_BAN_ROUTE || r.route === BAN_ROUTE,
        );
        expect(writes.map((r) => [r.method, r.route, r.status])).toEqual([
          ['POST', POST_ROUTE, 429],
          ['POST', POST_ROUTE, 200],
          ['POST', BULK_BAN_ROUTE, 200],
        ]);
        expect(writes[2]).toMatchObject({
          body: { user_ids: raiders, delete_message_seconds: 3600 },
          response: { banned_users: raiders, failed_users: [] },
          reason: 'Spam: 3 messages in 5 s (strike 1 of 1)',
        });
        expect(raiders.filter((raider) => guild.bans.has(raider))).toEqual(raiders);
        const rows = await own.moderationLog.list({ guildId: guild.id });
        expect(rows.map((row) => [row.action, row.userId, row.ok, row.details])).toEqual(
          raiders.map((raider) => ['ban', raider, true, { deleteMessageSeconds: 3600, bulk: 3 }]),
        );
        expect(own.stats()).toMatchObject({ actions: 4, failedActions: 0, errors: 0 });

        // Members Discord did not ban are refused one by one; a bulk ban that bans nobody (500000) refuses all.
        const rows2: ModerationEntry[] = [];
        const runner = new ActionRunner(own.client.rest, { add: (entry) => rows2.push(entry) });
        const ban = (userId: string): BanAction => ({ type: 'ban', userId, reason: 'test', deleteMessageSeconds: 0 });
        const bystander = humans(guild)[0]!.user.id;
        const partly = await runner.bulkBan(guild.id, [ban(bystander), ban(guild.ownerId)]);
        expect(partly.map((outcome) => outcome.ok)).toEqual([true, false]);
        const nobody = await runner.bulkBan(guild.id, [ban(guild.ownerId), ban(raiders[0]!)]);
        expect(nobody.map((outcome) => outcome.ok)).toEqual([false, false]);
        expect(nobody[0]!.error).toMatchObject({ code: 500000 });
        expect(rows2.map((row) => [row.userId, row.ok, row.error, row.details])).toEqual([
          [bystander, true, null, { deleteMessageSeconds: 0, bulk: 2 }],
          [
            guild.ownerId,
            false,
            'Discord did not ban this user (failed_users of the bulk ban).',
            { deleteMessageSeconds: 0, bulk: 2 },
          ],
          [guild.ownerId, false, 'Failed to ban users', { deleteMessageSeconds: 0, bulk: 2 }],
          [raiders[0], false, 'Failed to ban users', { deleteMessageSeconds: 0, bulk: 2 }],
        ]);
        expect(guild.bans.has(bystander)).toBe(true);
      } finally {
        await own.close();
        await raided.close();
      }
    });

    it('bans one by one where Discord refuses the bulk ban for a missing permission (Manage Server)', async () => {
      // This suite's Discord gives the bot Ban Members but not Manage Server.
      const guild = await freshGuild(sim, bot.client);
      const before = bot.stats();
      const raiders = await raid(sim, bot, guild);
      const writes = sim.requests.filter(
        (r) => (r.route === BULK_BAN_ROUTE || r.route === BAN_ROUTE) && r.params.guild_id === guild.id,
      );
      expect(writes.map((r) => [r.method, r.route, r.status, r.params.user_id])).toEqual([
        ['POST', BULK_BAN_ROUTE, 403, undefined],
        ...raiders.map((raider) => ['PUT', BAN_ROUTE, 204, raider]),
      ]);
      const rows = await bot.moderationLog.list({ guildId: guild.id });
      expect(rows.map((row) => [row.action, row.userId, row.ok, row.details])).toEqual(
        raiders.map((raider) => ['ban', raider, true, { deleteMessageSeconds: 3600 }]),
      );
      expect(bot.stats().actions - before.actions).toBe(4);
      expect(bot.stats().failedActions).toBe(before.failedActions);
    });

    it("coalesces a channel's deletions into bulk-deletes, before the timeout that follows them, one audit row per message", async () => {
      const guild = await freshGuild(sim, bot.client);
      await callbackOf(
        sim.emit.interaction({
          command: 'config',
          subcommand: 'add-word',
          options: { word: 'bulky' },
          guild: guild.id,
          user: guild.ownerId,
        }),
      );
      const [spammer, other] = humans(guild);
      const [first, second] = guild.textChannels;
      // The spammer's 5th message in 5 s is also a timeout: its deletions must all go before it.
      const ids = [
        ...Array.from(
          { length: 5 },
          (_, i) => sim.emit.messageCreate({ channel: first!.id, author: spammer!.user.id, content: `bulky ${i}` }).id,
        ),
        sim.emit.messageCreate({ channel: second!.id, author: other!.user.id, content: 'bulky alone' }).id,
      ];
      await sim.waitForRequest(
        (r) => r.method === 'PATCH' && r.route === MEMBER_ROUTE && r.params.guild_id === guild.id,
        WAIT,
      );
      await bot.idle();
      const mine = sim.requests.filter(
        (r) =>
          (r.route === BULK_ROUTE || r.route === MESSAGE_ROUTE || r.route === MEMBER_ROUTE) &&
          (r.params.guild_id === guild.id || r.params.channel_id === first!.id || r.params.channel_id === second!.id),
      );
      const deleted = mine.flatMap((r) =>
        r.route === BULK_ROUTE
          ? (r.body as { messages: string[] }).messages
          : r.route === MESSAGE_ROUTE
            ? [r.params.message_id!]
            : [],
      );
      expect([...deleted].sort()).toEqual([...ids].sort());
      expect(mine.some((r) => r.route === BULK_ROUTE && r.status === 204)).toBe(true);
      const timeoutAt = mine.findIndex((r) => r.route === MEMBER_ROUTE);
      const spammerDeletions = mine.flatMap((r, i) =>
        (r.route === BULK_ROUTE ? (r.body as { messages: string[] }).messages : [r.params.message_id])
          .filter((id) => ids.slice(0, 5).includes(id!))
          .map(() => i),
      );
      expect(spammerDeletions).toHaveLength(5);
      expect(Math.max(...spammerDeletions)).toBeLessThan(timeoutAt);
      const rows = await bot.moderationLog.list({ guildId: guild.id });
      expect(
        rows
          .filter((row) => row.action === 'deleteMessage')
          .map((row) => (row.details as { messageId: string }).messageId)
          .sort(),
      ).toEqual([...ids].sort());
      // Audited in the order carried out: the spammer's 5 deletions, the timeout, the other message.
      expect(rows.map((row) => row.action)).toEqual([...Array(5).fill('deleteMessage'), 'timeout', 'deleteMessage']);
      expect(rows[6]!.details).toEqual({ channelId: second!.id, messageId: ids[5] });
    });

    it("writes a failed action to the audit table with Discord's refusal", async () => {
      const guild = await freshGuild(sim, bot.client);
      const log = new ModerationLog(database);
      const outbox = new AuditOutbox(log);
      const runner = new ActionRunner(bot.client.rest, outbox);
      // Discord refuses to time out a guild's owner.
      const outcome = await runner.run(guild.id, {
        type: 'timeout',
        userId: guild.ownerId,
        durationMs: 60_000,
        reason: 'test',
      });
      expect(outcome).toMatchObject({ ok: false, error: expect.objectContaining({ status: 403 }) });
      expect(await outbox.close()).toEqual({ written: 1, unwritten: [] });
      expect(await log.list({ guildId: guild.id })).toMatchObject([
        { action: 'timeout', userId: guild.ownerId, ok: false, error: 'Missing Permissions' },
      ]);
    });

    it('sends a message once when the same keyed action is carried out again (enforce_nonce), twice without a key', async () => {
      const guild = await freshGuild(sim, bot.client);
      const channel = guild.textChannels[0]!;
      const runner = new ActionRunner(bot.client.rest, { add: () => undefined });
      const action = { type: 'sendMessage', channelId: channel.id, content: 'hello once', mentionUserIds: [] } as const;
      // A worker host that died after the POST and before marking the event done carries it out again.
      const first = await runner.run(guild.id, action, 'message:123#0');
      const again = await runner.run(guild.id, action, 'message:123#0');
      expect([first.ok, again.ok]).toEqual([true, true]);
      expect(sim.messages(channel).filter((message) => message.content === 'hello once')).toHaveLength(1);
      await runner.run(guild.id, action);
      expect(sim.messages(channel).filter((message) => message.content === 'hello once')).toHaveLength(2);
      expect(nonceFor('message:123#0')).toMatch(/^[A-Za-z0-9_-]{25}$/);
    });

    it('welcomes a new member in the system channel, then where /config welcome says, with the role', async () => {
      const guild = await freshGuild(sim, bot.client);
      const [system, general] = guild.textChannels;
      const posted = (userId: string) => (r: RecordedRequest) =>
        r.method === 'POST' &&
        r.route === '/channels/:channel_id/messages' &&
        String((r.body as { content?: string }).content).includes(`<@${userId}>`);

      const first = sim.emit.memberAdd({ guild: guild.id, username: 'first_newbie' });
      const welcome = await sim.waitForRequest(posted(first.user.id), WAIT);
      expect(welcome).toMatchObject({ status: 200, params: { channel_id: system!.id } });
      expect(welcome.body).toEqual({
        content: `Welcome to the server, <@${first.user.id}>!`,
        allowed_mentions: { parse: [], users: [first.user.id] },
      });

      const role = guild.role('Member');
      const configured = await callbackOf(
        sim.emit.interaction({
          command: 'config',
          subcommand: 'welcome',
          options: {
            channel: { type: 'channel', value: general!.id },
            message: 'Hi {user}, read the rules.',
            role: { type: 'role', value: role.id },
          },
          guild: guild.id,
          user: guild.ownerId,
        }),
      );
      expect(configured.data).toMatchObject({
        content: `Welcome: "Hi {user}, read the rules." in <#${general!.id}>, role <@&${role.id}>.`,
      });

      const second = sim.emit.memberAdd({ guild: guild.id, username: 'second_newbie' });
      const greeting = await sim.waitForRequest(posted(second.user.id), WAIT);
      const given = await sim.waitForRequest(
        (r) =>
          r.method === 'PUT' &&
          r.route === '/guilds/:guild_id/members/:user_id/roles/:role_id' &&
          r.params.user_id === second.user.id,
        WAIT,
      );
      await bot.idle();
      expect(greeting).toMatchObject({
        params: { channel_id: general!.id },
        body: { content: `Hi <@${second.user.id}>, read the rules.` },
      });
      expect(given).toMatchObject({
        status: 204,
        params: { guild_id: guild.id, role_id: role.id },
        reason: 'Welcome role',
      });
      expect(guild.members.get(second.user.id)!.roles).toEqual([role.id]);
      expect(await bot.moderationLog.list({ guildId: guild.id })).toMatchObject([
        { action: 'addRole', userId: second.user.id, details: { roleId: role.id }, ok: true },
      ]);
    });

    it('answers /stats through the interaction callback with exact counts', async () => {
      const guild = await freshGuild(sim, bot.client);
      const [a, b, c] = humans(guild);
      const sent = [];
      for (let i = 0; i < 4; i++)
        sent.push(sim.emit.messageCreate({ guild: guild.id, author: a!.user.id, content: `a${i}` }));
      for (let i = 0; i < 3; i++)
        sent.push(sim.emit.messageCreate({ guild: guild.id, author: b!.user.id, content: `b${i}` }));
      sim.emit.messageDelete(sent[2]!);
      sim.emit.memberAdd({ guild: guild.id });
      sim.emit.memberRemove({ guild: guild.id, user: c!.user.id });
      const interaction = sim.emit.interaction({ command: 'stats', guild: guild.id, user: a!.user.id });
      const response = await callbackOf(interaction);
      await bot.idle();

      expect(response.type).toBe(4);
      const content = (response.data as { content: string; flags?: number }).content;
      expect(content.split('\n').slice(1)).toEqual([
        'messages seen: 7',
        'messages deleted: 1',
        'members joined: 1, left: 1',
        'commands: 1',
        'actions taken: 1 (timeouts: 0, bans: 0, messages deleted: 0, roles given: 0, messages sent: 1)',
        'members with strikes: 0',
      ]);
      expect(((response.data as { flags?: number }).flags ?? 0) & 64).toBe(0);
      expect(bot.stats().events).toMatchObject({ command: expect.any(Number) });
    });

    it('refuses /config to a member without Manage Server and stores nothing', async () => {
      const guild = await freshGuild(sim, bot.client);
      const [member] = humans(guild);
      const response = await callbackOf(
        sim.emit.interaction({
          command: 'config',
          subcommand: 'add-word',
          options: { word: 'nope' },
          guild: guild.id,
          user: member!.user.id,
        }),
      );
      expect(response.data).toMatchObject({
        content: 'You need the Manage Server permission to change the moderation settings.',
        allowed_mentions: { parse: [] },
        flags: 64,
      });
      expect(await bot.store.get({ kind: 'guild', id: guild.id }, CONFIG_KEY)).toBeUndefined();
    });

    describe('options', () => {
      it.each([
        ['no options', undefined],
        ['an empty token', { token: '' }],
        ['an api that is not a URL', { api: 'localhost' }],
        ['no database', { database: undefined }],
        ['zero workers', { workers: 0 }],
        ['a worker filename that is a number', { workerFilename: 3 }],
        ['a board without watch()', { board: {} }],
        ['a logger that is not a pino Logger', { logger: console }],
        ["deferAfterMs past Discord's 3 s", { deferAfterMs: 3000 }],
        ["actionRequestsPerSecond past Discord's global 50", { actionRequestsPerSecond: 51 }],
        ['a fractional actionRequestsPerSecond', { actionRequestsPerSecond: 2.5 }],
        ['registerCommands that is not a boolean', { registerCommands: 'yes' }],
        ['a dispatchTimeoutMs of 0', { dispatchTimeoutMs: 0 }],
        ['a restTimeoutMs that is infinite', { restTimeoutMs: Number.POSITIVE_INFINITY }],
        ['a shutdownTimeoutMs that is not a number', { shutdownTimeoutMs: '10s' }],
        ['audit options that are not an object', { audit: 5 }],
        ['a bulkDelete that is not a boolean', { bulkDelete: 'yes' }],
        ['a bulkBan that is not a boolean', { bulkBan: 1 }],
      ])('rejects %s with ERR_BOT_CONFIG before starting anything', async (_name, override) => {
        const options =
          override === undefined ? undefined : { token: sim.token, api: sim.apiBase, database, ...override };
        await expect(Bot.start(options as unknown as BotOptions)).rejects.toMatchObject({ code: 'ERR_BOT_CONFIG' });
      });

      it("passes restTimeoutMs to discord.js' REST client", async () => {
        const timed = await start({ restTimeoutMs: 4321, registerCommands: false });
        try {
          expect(timed.client.rest.options.timeout).toBe(4321);
          expect(bot.client.rest.options.timeout).toBe(15_000);
        } finally {
          await timed.close();
        }
      });

      it('shows the worker threads and its counters on a status board', async () => {
        const output = new PassThrough();
        const board = createStatusBoard({ output, tty: false, throttleMs: 0 });
        const watched = await start({ board, registerCommands: false });
        try {
          expect(board.lines.map((line) => line.split(':')[0]!.trim())).toEqual(['worker 0', 'worker 1', 'bot']);
          expect(board.lines[2]).toMatch(
            /^bot: +0 events · 0 actions · 0 refused · 0 errors · 0 redispatched · 0 audit rows pending$/,
          );
        } finally {
          await watched.close();
          board.close();
        }
      });

      it('rejects a closed board with ERR_STATUS_BOARD_CLOSED', async () => {
        const board = createStatusBoard({ output: new PassThrough(), tty: false });
        board.close();
        await expect(start({ board })).rejects.toMatchObject({ code: 'ERR_STATUS_BOARD_CLOSED' });
      });

      it("rejects a wrong token with discord.js' TokenInvalid", async () => {
        const error = await start({ token: 'not-the-token' }).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'TokenInvalid' });
      });
    });

    describe('across restarts', () => {
      it('keeps a banned word set with /config in the database: a new bot with new worker threads enforces it', async () => {
        const guild = await freshGuild(sim, bot.client);
        const [member] = humans(guild);
        const response = await callbackOf(
          sim.emit.interaction({
            command: 'config',
            subcommand: 'add-word',
            options: { word: 'Spoiler' },
            guild: guild.id,
            user: guild.ownerId,
          }),
        );
        expect(response).toMatchObject({ type: 4, data: { content: 'Banned "spoiler" (1 banned words).', flags: 64 } });
        expect(await bot.store.get({ kind: 'guild', id: guild.id }, CONFIG_KEY)).toMatchObject({
          bannedWords: ['spoiler'],
        });

        await bot.close();
        await bot.close(); // idempotent
        const seen = bot.stats().events.message;
        sim.emit.messageCreate({ guild: guild.id, author: member!.user.id, content: 'said while the bot is away' });
        expect(bot.stats().events.message).toBe(seen);

        // A new pool of threads, a new gateway session; the same database. Commands are deferred at once.
        bot = await start({ deferAfterMs: 0 });
        const message = sim.emit.messageCreate({
          guild: guild.id,
          author: member!.user.id,
          content: 'huge SPOILER: it was a dream',
        });
        const deleted = await sim.waitForRequest(
          (r) => r.method === 'DELETE' && r.route === MESSAGE_ROUTE && r.params.message_id === message.id,
          WAIT,
        );
        await bot.idle();
        expect(deleted).toMatchObject({
          status: 204,
          params: { channel_id: message.channel_id },
          reason: 'Banned word "spoiler"',
        });
        expect(sim.messages(message.channel_id).some((kept) => kept.id === message.id)).toBe(false);
        expect(await bot.moderationLog.list({ guildId: guild.id })).toMatchObject([
          {
            action: 'deleteMessage',
            userId: member!.user.id,
            details: { channelId: message.channel_id, messageId: message.id },
            ok: true,
          },
        ]);

        const show = sim.emit.interaction({
          command: 'config',
          subcommand: 'show',
          guild: guild.id,
          user: guild.ownerId,
        });
        expect((await callbackOf(show)).type).toBe(5);
        const edited = await show.waitForResponse({ kind: 'editOriginal', ...WAIT });
        expect(edited.message).toMatchObject({
          content: expect.stringContaining('Banned words: "spoiler"'),
          flags: 64,
        });
      });
    });
  });

  describe('Bot against the Simulation', () => {
    it('bans the simulated words in every guild, then times out floods and deletes banned words from the traffic', async () => {
      const simulation = await Simulation.start({
        guilds: 2,
        eventsPerSecond: 40,
        spamEveryMs: 300,
        membersPerGuild: 8,
      });
      const simBot = await Bot.start({
        token: simulation.sim.token,
        api: simulation.sim.apiBase,
        database,
        workers: 1,
        topology,
      });
      try {
        simulation.begin();
        const timeout = await simulation.sim.waitForRequest(
          (r) => r.method === 'PATCH' && r.route === MEMBER_ROUTE,
          WAIT,
        );
        const deleted = await simulation.sim.waitForRequest(
          (r) => r.method === 'DELETE' && r.route === MESSAGE_ROUTE,
          WAIT,
        );
        const traffic = await simulation.stop();
        await simBot.idle();
        expect(timeout.reason).toMatch(/^Spam: 5 messages in 5 s/);
        expect(deleted.reason).toMatch(/^Banned word "(free nitro|cheap followers)"$/);
        expect(traffic!.sent).toBeGreaterThan(0);
        expect(simulation.bursts).toBeGreaterThan(0);
        for (const guild of simulation.sim.guilds) {
          expect(await simBot.store.get({ kind: 'guild', id: guild.id }, CONFIG_KEY)).toMatchObject({
            bannedWords: [...SIMULATED_BANNED_WORDS],
          });
          expect(await listTemplates(tenantKv(simBot.store, { kind: 'guild', id: guild.id }))).toEqual([
            { ...SIMULATED_TEMPLATE, events: [SIMULATED_TEMPLATE.events] },
          ]);
        }
      } finally {
        await simBot.close();
        await simulation.close();
      }
    });

    it('rejects bad options with ERR_BOT_CONFIG', async () => {
      await expect(Simulation.start({ guilds: 0 })).rejects.toMatchObject({ code: 'ERR_BOT_CONFIG' });
      await expect(Simulation.start({ eventsPerSecond: -1 })).rejects.toMatchObject({ code: 'ERR_BOT_CONFIG' });
      await expect(Simulation.start({ spamEveryMs: Number.NaN })).rejects.toMatchObject({ code: 'ERR_BOT_CONFIG' });
    });
  });
});
