import type { DiscordSim, RecordedRequest, SimGuild } from '@switchyard/discord-sim';
import { startDiscordSim } from '@switchyard/discord-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDatabase } from '../../src/index.js';
import { Bot } from '../../src/index.js';
import { disposeDatabase, testDatabase } from '../helpers/database.js';
import { callbackOf, freshGuild, humans } from '../helpers/discord.js';

const MESSAGES_ROUTE = '/channels/:channel_id/messages';
const MEMBER_ROUTE = '/guilds/:guild_id/members/:user_id';
const WAIT = { timeoutMs: 10_000 };

let database: BotDatabase;
let sim: DiscordSim;
let bot: Bot;

beforeAll(async () => {
  database = await testDatabase();
  sim = await startDiscordSim({ guilds: [{ name: 'Home', members: 4 }] });
  bot = await Bot.start({ token: sim.token, api: sim.apiBase, database, workers: 2 });
});

afterAll(async () => {
  await bot?.close();
  await sim?.close();
  await disposeDatabase(database);
});

async function template(
  guild: SimGuild,
  subcommand: string,
  options: Record<string, unknown> = {},
  user = guild.ownerId,
) {
  const response = await callbackOf(
    sim.emit.interaction({ command: 'template', subcommand, options: options as never, guild: guild.id, user }),
  );
  return (response.data as { content: string }).content;
}

function posts(channelId: string): RecordedRequest[] {
  return sim.requests.filter(
    (request) =>
      request.method === 'POST' && request.route === MESSAGES_ROUTE && request.params.channel_id === channelId,
  );
}

describe('/template', () => {
  it('adds, lists, tests and removes templates; a template answers messages through the action runner', async () => {
    const guild = await freshGuild(sim, bot.client);
    const [member] = humans(guild);
    const channel = guild.textChannels[0]!;
    const code = 'if (event.content === "ping") return { type: "sendMessage", content: "pong " + event.authorId };';
    expect(await template(guild, 'add', { name: 'echo', events: 'message', code })).toBe(
      'Template `echo` saved; it runs on message.',
    );
    expect(await template(guild, 'list')).toBe('Templates (no log channel):\n`echo` on message');
    expect(await template(guild, 'test', { name: 'echo' })).toBe('Returned 0 action(s) (not carried out): []');

    sim.emit.messageCreate({ guild: guild.id, channel: channel.id, author: member!.user.id, content: 'ping' });
    const pong = await sim.waitForRequest(
      (r) => r.method === 'POST' && r.route === MESSAGES_ROUTE && r.params.channel_id === channel.id,
      WAIT,
    );
    expect(pong.body).toEqual({ content: `pong ${member!.user.id}`, allowed_mentions: { parse: [], users: [] } });

    expect(await template(guild, 'remove', { name: 'echo' })).toBe('Template `echo` removed.');
    expect(await template(guild, 'list')).toBe('This server has no templates.');
    expect(await template(guild, 'remove', { name: 'echo' })).toBe('There is no template `echo`.');
  });

  it('refuses members without Manage Server and malformed templates', async () => {
    const guild = await freshGuild(sim, bot.client);
    const [member] = humans(guild);
    expect(await template(guild, 'list', {}, member!.user.id)).toBe(
      'You need the Manage Server permission to manage templates.',
    );
    expect(await template(guild, 'add', { name: 'x', events: 'reaction', code: 'return 1' })).toBe(
      'Unknown event type(s): reaction. Use: message, memberJoin.',
    );
    expect(await template(guild, 'add', { name: 'bad name', events: 'message', code: 'return 1' })).toMatch(
      /^Not a valid template: Expected the template's `name`/,
    );
  });

  it("audits a template's timeout, posts a failing template's error to the log channel once a minute, and leaves other guilds alone", async () => {
    const guild = await freshGuild(sim, bot.client);
    const other = await freshGuild(sim, bot.client);
    const [member] = humans(guild);
    const [otherMember] = humans(other);
    const log = guild.textChannels[1] ?? guild.textChannels[0]!;
    await template(guild, 'add', {
      name: 'boom',
      events: 'message',
      code: 'if (event.content === "boom") throw new Error("kaput");',
      log_channel: { type: 'channel', value: log.id },
    });
    await template(guild, 'add', {
      name: 'mute',
      events: 'message',
      code: 'if (event.content === "mute me") return { type: "timeout", durationMs: 60000, reason: "asked for it" };',
    });
    await template(other, 'add', {
      name: 'hello',
      events: 'message',
      code: 'return { type: "sendMessage", content: "hello from the other guild" };',
    });

    sim.emit.messageCreate({ guild: guild.id, author: member!.user.id, content: 'mute me' });
    const timeout = await sim.waitForRequest(
      (r) => r.method === 'PATCH' && r.route === MEMBER_ROUTE && r.params.guild_id === guild.id,
      WAIT,
    );
    expect(timeout).toMatchObject({ params: { user_id: member!.user.id }, reason: 'template mute: asked for it' });

    sim.emit.messageCreate({ guild: guild.id, author: member!.user.id, content: 'boom' });
    const error = await sim.waitForRequest(
      (r) => r.method === 'POST' && r.route === MESSAGES_ROUTE && r.params.channel_id === log.id,
      WAIT,
    );
    expect((error.body as { content: string }).content).toBe(
      'Template `boom` failed: ERR_SCRIPT: boom:1: Error: kaput',
    );
    sim.emit.messageCreate({ guild: guild.id, author: member!.user.id, content: 'boom' });

    const otherChannel = other.textChannels[0]!;
    sim.emit.messageCreate({ guild: other.id, channel: otherChannel.id, author: otherMember!.user.id, content: 'hi' });
    const hello = await sim.waitForRequest(
      (r) => r.method === 'POST' && r.route === MESSAGES_ROUTE && r.params.channel_id === otherChannel.id,
      WAIT,
    );
    expect((hello.body as { content: string }).content).toBe('hello from the other guild');
    await bot.idle();
    // The second failure fell inside the minute: still one post.
    expect(posts(log.id)).toHaveLength(1);
    const rows = await bot.moderationLog.list({ guildId: guild.id });
    expect(rows).toMatchObject([
      { action: 'timeout', userId: member!.user.id, reason: 'template mute: asked for it', ok: true },
    ]);
  });
});
