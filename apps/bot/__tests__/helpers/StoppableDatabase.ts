import type { AddressInfo, Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { defaultPgliteTemplate, openPglite } from '../../src/index.js';
import { DATABASE_URL, uniqueSchema } from './database.js';

/**
 * A PostgreSQL server a test can stop and start again, reached over TCP: the server of
 * DATABASE_URL when it is set, else an in-memory PGlite served on loopback by pglite-socket. The
 * bot connects through a proxy owned by the test: `stop()` closes the proxy's port and cuts every
 * connection (to the bot, the database is gone: connections reset, new ones refused), `start()`
 * listens on the same port again.
 */
export class StoppableDatabase {
  /** The connection string the bot uses (through the proxy). */
  readonly url: string;
  /** A schema of its own for the test. */
  readonly schema = uniqueSchema();
  readonly #port: number;
  readonly #target: { host: string; port: number };
  readonly #pglite: { db: PGlite; server: PGLiteSocketServer } | undefined;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #frozen = false;

  private constructor(
    port: number,
    target: { host: string; port: number },
    url: string,
    pglite: { db: PGlite; server: PGLiteSocketServer } | undefined,
  ) {
    this.#port = port;
    this.#target = target;
    this.url = url;
    this.#pglite = pglite;
  }

  static async start(): Promise<StoppableDatabase> {
    let target: { host: string; port: number };
    let pglite: { db: PGlite; server: PGLiteSocketServer } | undefined;
    let credentials = 'postgres';
    let database = 'postgres';
    if (DATABASE_URL !== undefined) {
      const parsed = new URL(DATABASE_URL);
      target = { host: parsed.hostname, port: Number(parsed.port || 5432) };
      credentials = parsed.password === '' ? parsed.username : `${parsed.username}:${parsed.password}`;
      database = parsed.pathname.slice(1) || 'postgres';
    } else {
      const db = await openPglite(undefined, defaultPgliteTemplate());
      const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 8 });
      await server.start();
      const [, port] = server.getServerConn().split(':');
      target = { host: '127.0.0.1', port: Number(port) };
      pglite = { db, server };
    }
    const listening = await listen(createServer(), 0);
    const port = (listening.address() as AddressInfo).port;
    const proxy = new StoppableDatabase(
      port,
      target,
      `postgres://${credentials}@127.0.0.1:${port}/${database}`,
      pglite,
    );
    proxy.#serve(listening);
    return proxy;
  }

  /** Whether the database is reachable. */
  get running(): boolean {
    return this.#server !== undefined;
  }

  /** The database goes away: its port closes and every connection to it is reset. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
    await closed;
  }

  /**
   * The database stops answering without closing anything: what is sent to it is dropped (a hung
   * server, or a network black hole). The connections open meanwhile are unusable afterwards;
   * `stop()` then `start()` resets them.
   */
  freeze(frozen = true): void {
    this.#frozen = frozen;
  }

  /** The database is back on the same port. */
  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    this.#serve(await listen(createServer(), this.#port));
  }

  /** Stops everything the helper started. */
  async close(): Promise<void> {
    await this.stop();
    if (this.#pglite !== undefined) {
      await this.#pglite.server.stop();
      await this.#pglite.db.close();
    }
  }

  #serve(server: Server): void {
    this.#server = server;
    server.on('connection', (client) => {
      const upstream = connect(this.#target);
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.on('data', (chunk: Buffer) => {
        if (!this.#frozen) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!this.#frozen) client.write(chunk);
      });
    });
  }
}

function listen(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
