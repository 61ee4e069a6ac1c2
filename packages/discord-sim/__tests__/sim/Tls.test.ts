import { request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { DiscordSim } from '../../src/index.js';
import { startDiscordSim } from '../../src/index.js';
import { generateTlsMaterial } from '../../src/sim/tls.js';

let sim: DiscordSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** GET over HTTPS with node:https, trusting `ca` (or the system's roots without it). */
function get(url: string, headers: Record<string, string>, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ...(ca === undefined ? {} : { ca }) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('optional TLS', () => {
  it('serves REST over HTTPS and the gateway over WSS with a certificate signed by the CA it exports', async () => {
    sim = await startDiscordSim({ tls: true });
    expect(sim.apiBase).toMatch(/^https:\/\//);
    expect(sim.gatewayUrl).toMatch(/^wss:\/\//);
    expect(sim.tls?.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const me = await get(`${sim.apiBase}/v10/users/@me`, { authorization: `Bot ${sim.token}` }, sim.tls!.ca!);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ id: sim.bot.id });
    const gateway = JSON.parse((await get(`${sim.apiBase}/v10/gateway`, {}, sim.tls!.ca!)).body) as { url: string };
    expect(gateway.url).toBe(sim.gatewayUrl);

    const ws = new WebSocket(`${sim.gatewayUrl}/?v=10&encoding=json`, { ca: sim.tls!.ca! });
    const hello = await new Promise<{ op: number }>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as { op: number }));
      ws.once('error', reject);
    });
    expect(hello.op).toBe(10);
    ws.close(1000);
    await new Promise((resolve) => ws.once('close', resolve));
  });

  it('is refused by a client that does not trust the CA', async () => {
    sim = await startDiscordSim({ tls: true });
    await expect(get(`${sim.apiBase}/v10/gateway`, {})).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/),
    });
  });

  it('serves a certificate of its own, and exports its CA', async () => {
    const material = await generateTlsMaterial('127.0.0.1');
    sim = await startDiscordSim({ tls: material });
    expect(sim.tls?.ca).toBe(material.ca);
    expect((await get(`${sim.apiBase}/v10/gateway`, {}, material.ca)).status).toBe(200);
  });

  it('rejects a `tls` option without cert and key with ERR_DISCORD_SIM_INVALID_OPTION', async () => {
    await expect(startDiscordSim({ tls: { cert: 'x' } as never })).rejects.toMatchObject({
      code: 'ERR_DISCORD_SIM_INVALID_OPTION',
      message: expect.stringContaining('`tls`'),
    });
  });
});
