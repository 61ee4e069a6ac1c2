import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { BotConfigError } from '../errors/errors.js';
import type { BotHealth } from './Bot.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** The TCP port; 0 picks a free one (see `url`). */
  port: number;
  /**
   * The address to listen on.
   * @default '0.0.0.0' (Prometheus scrapes from another host)
   */
  host?: string;
  /** What `/metrics` serves. */
  registry: Registry;
  /** What `/healthz` reports: 200 when `ready`, else 503. */
  health: () => BotHealth;
}

/** A running {@link startMetricsServer}. */
export interface MetricsServer {
  /** `http://<host>:<port>` (127.0.0.1 when listening on every address). */
  readonly url: string;
  /** Stops listening and closes the open connections. */
  close(): Promise<void>;
}

/**
 * Serves Prometheus' `GET /metrics` (the registry, text format) and `GET /healthz` (200
 * `{"ready":true,...}` when the gateway is connected and the workers are up, 503 otherwise).
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { port, host = '0.0.0.0', registry, health } = options;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535)
    throw new BotConfigError(`Expected \`port\` to be an integer from 0 to 65535, got ${String(port)}.`);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
    } else if (path === '/healthz') {
      const state = health();
      response
        .writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(state)}\n`);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try /metrics or /healthz\n');
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
