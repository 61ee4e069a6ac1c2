import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import { DiscordSimError, SimClosedError, startDiscordSim } from '../../src/index.js';
import { api } from '../helpers/api.js';
import { GatewayTestClient } from '../helpers/GatewayTestClient.js';

let sim: DiscordSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('startDiscordSim', () => {
  it('listens on 127.0.0.1 and derives the URLs from the port', async () => {
    const port = await freePort();
    sim = await startDiscordSim({ port });
    expect(sim.port).toBe(port);
    expect(sim.apiBase).toBe(`http://127.0.0.1:${port}/api`);
    expect(sim.gatewayUrl).toBe(`ws://127.0.0.1:${port}/gateway`);
    expect(sim.resumeGatewayUrl).toBe(`ws://127.0.0.1:${port}/gateway-resume`);
    expect(sim.guilds).toHaveLength(1);
  });

  it('generates a Discord-shaped token whose first part is the bot id, and takes a given one', async () => {
    sim = await startDiscordSim();
    const [first, second, third] = sim.token.split('.');
    expect(Buffer.from(first!, 'base64url').toString()).toBe(sim.bot.id);
    expect(second).toHaveLength(6);
    expect(third).toHaveLength(38);
    expect(sim.applicationId).toBe(sim.bot.id);
    await sim.close();
    sim = await startDiscordSim({ token: 'my-token', applicationId: '123456789012345678', botUsername: 'warden' });
    expect(sim.token).toBe('my-token');
    expect(sim.bot).toMatchObject({ id: '123456789012345678', username: 'warden', bot: true });
  });

  it.each<[string, DiscordSimOptions]>([
    ['port', { port: 70_000 }],
    ['port', { port: -1 }],
    ['seed', { seed: 1.5 }],
    ['heartbeatIntervalMs', { heartbeatIntervalMs: 0 }],
    ['heartbeatTimeoutMs', { heartbeatTimeoutMs: 0 }],
    ['maxConcurrency', { maxConcurrency: 0 }],
    ['shards', { shards: 0 }],
    ['guilds', { guilds: -1 }],
    ['token', { token: 'has space' }],
    ['applicationId', { applicationId: 'app' }],
    ['botUsername', { botUsername: 'x' }],
    ['interactionTimeoutMs', { interactionTimeoutMs: -1 }],
    ['resumeBufferSize', { resumeBufferSize: 0 }],
    ['rateLimits.limit', { rateLimits: { limit: 0 } }],
    ['host', { host: '' }],
  ])('rejects an invalid `%s` with ERR_DISCORD_SIM_INVALID_OPTION, naming it', async (name, options) => {
    const error = await startDiscordSim(options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiscordSimError);
    expect(error).toMatchObject({
      code: 'ERR_DISCORD_SIM_INVALID_OPTION',
      message: expect.stringContaining(`Expected \`${name}\``),
    });
  });

  it('rejects with the listen error when the port is taken', async () => {
    sim = await startDiscordSim();
    await expect(startDiscordSim({ port: sim.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('recommends one shard per 1000 guilds unless told otherwise', async () => {
    sim = await startDiscordSim({ guilds: 1001, maxGuildsPerShard: 2500 });
    expect((await api(sim, 'GET', '/gateway/bot')).body.shards).toBe(2);
  });

  it('keeps only maxRecordedRequests requests but counts them all', async () => {
    sim = await startDiscordSim({ maxRecordedRequests: 2 });
    for (let i = 0; i < 40; i++) await api(sim, 'GET', '/gateway');
    expect(sim.requestCount).toBe(40);
    expect(sim.requests.length).toBeLessThanOrEqual(2 + 16);
    expect(sim.requests.at(-1)!.id).toBe(40);
  });
});

describe('closing', () => {
  it('closes gateway connections with 1001, frees the port and is idempotent', async () => {
    sim = await startDiscordSim();
    const client = await GatewayTestClient.connect(sim.gatewayUrl);
    client.identify(sim.token);
    await client.dispatch('READY');
    const closing = sim.close();
    expect(sim.close()).toBe(closing);
    await closing;
    expect(sim.closed).toBe(true);
    expect((await client.closed).code).toBe(1001);
    await expect(fetch(`${sim.apiBase}/v10/gateway`)).rejects.toThrow();
    // The port is free again.
    const again = await startDiscordSim({ port: sim.port });
    await again.close();
  });

  it('leaves no listener, gateway socket, running traffic or pending wait behind once closed', async () => {
    sim = await startDiscordSim({ guilds: 2 });
    const client = await GatewayTestClient.connect(sim.gatewayUrl);
    client.identify(sim.token);
    await client.dispatch('READY');
    const run = sim.traffic({ eventsPerSecond: 50 });
    const pending = sim.waitForRequest(() => false, { timeoutMs: 60_000 }).catch((error: unknown) => error);
    await sim.close();
    expect(await pending).toMatchObject({ code: 'ERR_DISCORD_SIM_CLOSED' });
    expect((await client.closed).code).toBe(1001);
    const stats = await run.done;
    expect(run.stats().sent).toBe(stats.sent);
    expect(sim.gateway.connectionCount).toBe(0);
    await expect(fetch(`${sim.apiBase}/v10/gateway`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });

  it('closes through Symbol.asyncDispose', async () => {
    let closed: DiscordSim;
    {
      await using disposable = await startDiscordSim();
      closed = disposable;
    }
    expect(closed.closed).toBe(true);
  });

  it('throws SimClosedError from scenario calls after close', async () => {
    sim = await startDiscordSim();
    await sim.close();
    expect(() => sim!.user()).toThrow(SimClosedError);
    expect(() => sim!.emit.memberAdd()).toThrow(expect.objectContaining({ code: 'ERR_DISCORD_SIM_CLOSED' }));
    await expect(sim.gateway.waitForIdentify()).rejects.toMatchObject({ code: 'ERR_DISCORD_SIM_CLOSED' });
  });

  it('rejects pending gateway waits with ERR_DISCORD_SIM_CLOSED', async () => {
    sim = await startDiscordSim();
    const pending = sim.gateway.waitForResume();
    await sim.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_DISCORD_SIM_CLOSED' });
  });
});
