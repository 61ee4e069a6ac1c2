import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import { GatewayIntent, startDiscordSim } from '../../src/index.js';
import { api } from '../helpers/api.js';
import { GatewayTestClient } from '../helpers/GatewayTestClient.js';

let sim: DiscordSim | undefined;
const clients: GatewayTestClient[] = [];
const EVERYTHING =
  GatewayIntent.Guilds | GatewayIntent.GuildMembers | GatewayIntent.GuildMessages | GatewayIntent.MessageContent;

async function start(options: DiscordSimOptions = {}): Promise<DiscordSim> {
  sim = await startDiscordSim({ guilds: 4, ...options });
  return sim;
}

async function session(): Promise<GatewayTestClient> {
  const client = await GatewayTestClient.connect(sim!.gatewayUrl);
  clients.push(client);
  client.identify(sim!.token, { intents: EVERYTHING });
  await client.dispatch('READY');
  for (let i = 0; i < sim!.guilds.length; i++) await client.dispatch('GUILD_CREATE');
  return client;
}

beforeEach(() => {
  // Only the generator's clock is faked; sockets and waits run on real time.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await sim?.close();
  sim = undefined;
});

describe('sim.traffic()', () => {
  it('generates exactly eventsPerSecond × durationMs events, then resolves done', async () => {
    await start();
    const run = sim!.traffic({ eventsPerSecond: 500, durationMs: 1000 });
    vi.advanceTimersByTime(400);
    expect(run.stats().sent).toBe(200);
    vi.advanceTimersByTime(600);
    const stats = await run.done;
    expect(stats.sent).toBe(500);
    expect(stats.elapsedMs).toBe(1000);
    expect(stats.eventsPerSecond).toBe(500);
    expect(Object.values(stats.byKind).reduce((sum, count) => sum + count, 0)).toBe(500);
    vi.advanceTimersByTime(1000);
    expect(run.stats().sent).toBe(500);
  });

  it('delivers every generated event to the connected session exactly once', async () => {
    await start();
    const client = await session();
    const run = sim!.traffic({ eventsPerSecond: 1000, durationMs: 200, mix: { messageCreate: 1 } });
    vi.advanceTimersByTime(200);
    const stats = await run.done;
    expect(stats).toMatchObject({ sent: 200, delivered: 200, byKind: { messageCreate: 200, memberAdd: 0 } });
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add((await client.dispatch('MESSAGE_CREATE')).d.id);
    expect(ids.size).toBe(200);
    // Anything more would arrive before the ACK of a later heartbeat.
    client.send({ op: 1, d: null });
    await client.next((payload) => payload.op === 11);
    expect(client.received.filter((payload) => payload.t === 'MESSAGE_CREATE')).toHaveLength(200);
  });

  it('spreads events round robin over the chosen guilds', async () => {
    await start();
    const chosen = [sim!.guilds[1]!, sim!.guilds[3]!];
    const run = sim!.traffic({ eventsPerSecond: 100, durationMs: 1000, guilds: chosen, mix: { messageCreate: 1 } });
    vi.advanceTimersByTime(1000);
    await run.done;
    const perGuild = sim!.guilds.map((guild) =>
      guild.textChannels.reduce((sum, channel) => sum + sim!.messages(channel).length, 0),
    );
    expect(perGuild).toEqual([0, 50, 0, 50]);
  });

  it('follows the mix: only member joins when only memberAdd has weight', async () => {
    await start({ guilds: 1 });
    const before = sim!.guilds[0]!.members.size;
    const run = sim!.traffic({ eventsPerSecond: 100, durationMs: 300, mix: { memberAdd: 1 } });
    vi.advanceTimersByTime(300);
    expect((await run.done).byKind).toEqual({
      messageCreate: 0,
      messageUpdate: 0,
      messageDelete: 0,
      memberAdd: 30,
      memberRemove: 0,
      interaction: 0,
    });
    expect(sim!.guilds[0]!.members.size).toBe(before + 30);
  });

  it('balances joins and leaves, and deletes and edits messages it created', async () => {
    await start({ guilds: 1 });
    const client = await session();
    const run = sim!.traffic({
      eventsPerSecond: 1000,
      durationMs: 1000,
      mix: { messageCreate: 4, messageDelete: 1, messageUpdate: 1, memberAdd: 1, memberRemove: 1 },
    });
    vi.advanceTimersByTime(1000);
    const stats = await run.done;
    expect(stats.sent).toBe(1000);
    expect(stats.byKind.messageDelete).toBeGreaterThan(0);
    expect(stats.byKind.messageUpdate).toBeGreaterThan(0);
    expect(stats.byKind.memberRemove).toBeGreaterThan(0);
    const counts: Record<string, number> = {};
    const names: Record<string, string> = {
      messageCreate: 'MESSAGE_CREATE',
      messageDelete: 'MESSAGE_DELETE',
      messageUpdate: 'MESSAGE_UPDATE',
      memberAdd: 'GUILD_MEMBER_ADD',
      memberRemove: 'GUILD_MEMBER_REMOVE',
    };
    for (let i = 0; i < 1000; i++) {
      const payload = await client.next((candidate) => candidate.op === 0);
      counts[payload.t!] = (counts[payload.t!] ?? 0) + 1;
    }
    for (const [kind, event] of Object.entries(names))
      expect(counts[event] ?? 0).toBe(stats.byKind[kind as keyof typeof stats.byKind]);
  });

  it('runs the registered command with its required options filled in', async () => {
    await start({ guilds: 1 });
    await api(sim!, 'PUT', `/applications/${sim!.applicationId}/commands`, {
      body: [
        {
          name: 'warn',
          description: 'Warn',
          options: [
            { type: 6, name: 'user', description: 'Who', required: true },
            { type: 3, name: 'note', description: 'Note' },
          ],
        },
      ],
    });
    const client = await session();
    const run = sim!.traffic({ eventsPerSecond: 100, durationMs: 50, mix: { interaction: 1 } });
    vi.advanceTimersByTime(50);
    expect((await run.done).byKind.interaction).toBe(5);
    const interaction = await client.dispatch('INTERACTION_CREATE');
    expect(interaction.d.data.name).toBe('warn');
    expect(interaction.d.data.options).toEqual([{ name: 'user', type: 6, value: expect.stringMatching(/^\d+$/) }]);
    expect(Object.keys(interaction.d.data.resolved.users)).toEqual([interaction.d.data.options[0].value]);
  });

  it('stops early with stop() and when its signal aborts', async () => {
    await start();
    const run = sim!.traffic({ eventsPerSecond: 100 });
    vi.advanceTimersByTime(250);
    expect((await run.stop()).sent).toBe(25);
    const controller = new AbortController();
    const aborted = sim!.traffic({ eventsPerSecond: 100, signal: controller.signal });
    vi.advanceTimersByTime(100);
    controller.abort();
    expect((await aborted.done).sent).toBe(10);
  });

  it('stops when the simulator closes', async () => {
    await start();
    const run = sim!.traffic({ eventsPerSecond: 100 });
    vi.advanceTimersByTime(100);
    await sim!.close();
    expect((await run.done).sent).toBe(10);
    expect(() => sim!.traffic()).toThrow(expect.objectContaining({ code: 'ERR_DISCORD_SIM_CLOSED' }));
  });

  it.each([
    ['eventsPerSecond of 0', { eventsPerSecond: 0 }],
    ['a negative duration', { durationMs: -1 }],
    ['a mix without weight', { mix: { messageCreate: 0 } }],
    ['a negative weight', { mix: { messageCreate: -1 } }],
    ['no guilds', { guilds: [] }],
    ['no contents', { contents: [] }],
  ])('rejects %s with ERR_DISCORD_SIM_INVALID_OPTION', async (_name, options) => {
    await start();
    expect(() => sim!.traffic(options)).toThrow(expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' }));
  });
});
