import { Registry, Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { BotHealth } from '../../src/index.js';
import { routeLabel, startMetricsServer } from '../../src/index.js';

describe('startMetricsServer', () => {
  it('serves /metrics, and /healthz with 200 when ready and 503 when not', async () => {
    const registry = new Registry();
    new Counter({ name: 'test_things_total', help: 'things', registers: [registry] }).inc(3);
    let health: BotHealth = { ready: true, gateway: true, workers: true, database: true };
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry, health: () => health });
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toBe(registry.contentType);
      expect(await metrics.text()).toContain('test_things_total 3');

      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      health = { ready: false, gateway: false, workers: true, database: true };
      const down = await fetch(`${server.url}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ ready: false, gateway: false, workers: true, database: true });

      expect((await fetch(`${server.url}/other`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('rejects a bad port with ERR_BOT_CONFIG', async () => {
    await expect(
      startMetricsServer({
        port: 70_000,
        registry: new Registry(),
        health: () => ({ ready: true, gateway: true, workers: true, database: true }),
      }),
    ).rejects.toMatchObject({ code: 'ERR_BOT_CONFIG' });
  });
});

describe('routeLabel', () => {
  it('replaces the snowflakes of a REST route with :id', () => {
    expect(routeLabel('/channels/1087371640113045504/messages/:id')).toBe('/channels/:id/messages/:id');
    expect(routeLabel('/guilds/81384788765712384/members/:id')).toBe('/guilds/:id/members/:id');
  });
});
