import { connect } from '@nats-io/transport-node';
import { openDatabase } from '../db/Database.js';
import { createBotLogger } from '../bot/logger.js';
import type { RunConfig } from '../bot/config.js';
import { BotConfigError } from '../errors/errors.js';
import type { ClusterConfig } from './clusterConfig.js';
import { GatewayInstance } from './GatewayInstance.js';
import { WorkerHostInstance } from './WorkerHostInstance.js';

/** Where {@link runClusterRole} writes, and what stops it. */
export interface ClusterIo {
  /** Stops the instance gracefully when aborted (SIGINT, SIGTERM). */
  signal?: AbortSignal;
  /** Lifecycle lines, and the final `gateway stats {...}` / `workers stats {...}` line. @default process.stdout */
  stdout?: NodeJS.WritableStream;
}

function waitForStop(signal: AbortSignal | undefined, durationMs: number | undefined): Promise<string> {
  return new Promise<string>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(signal?.reason instanceof Error ? signal.reason.message : String(signal?.reason ?? 'aborted'));
    };
    if (signal?.aborted === true) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (durationMs !== undefined) {
      timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(`${durationMs / 1000} s elapsed`);
      }, durationMs);
    }
  });
}

/**
 * Runs one instance of the split bot (`--events jetstream://…`): a gateway that publishes its
 * shards' events, or a worker host that handles them; until `signal` aborts or the duration passes.
 */
export async function runClusterRole(config: RunConfig, cluster: ClusterConfig, io: ClusterIo = {}): Promise<void> {
  const { signal, stdout = process.stdout } = io;
  const say = (line: string): void => void stdout.write(`${line}\n`);
  if (config.token === undefined) {
    throw new BotConfigError(
      'Expected DISCORD_TOKEN with --events: every instance of a split bot connects to the same Discord (or simulator, with --discord-api).',
    );
  }
  const connection = await connect({ servers: cluster.servers, maxReconnectAttempts: -1 });
  try {
    if (cluster.role === 'gateway') {
      const gateway = await GatewayInstance.start({
        token: config.token,
        api: cluster.discordApi,
        shards: cluster.shards,
        shardCount: cluster.shardCount,
        connection,
        partitions: cluster.partitions,
        stream: cluster.stream,
        log: say,
      });
      say(
        `gateway ready: shards ${cluster.shards?.join(',') ?? 'all'} of ${cluster.shardCount ?? 'recommended'}, ${gateway.client.guilds.cache.size} guilds, publishing to ${cluster.stream}`,
      );
      const reason = await waitForStop(signal, config.durationMs);
      say(`stopping: ${reason}`);
      await gateway.close();
      say(`gateway stats ${JSON.stringify(gateway.stats())}`);
    } else {
      const database = await openDatabase({
        ...(config.databaseUrl === undefined ? {} : { url: config.databaseUrl }),
        ...(config.dataDir === undefined ? {} : { dataDir: config.dataDir }),
        schema: config.schema,
      });
      try {
        const workers = await WorkerHostInstance.start({
          token: config.token,
          api: cluster.discordApi,
          database,
          connection,
          partitions: cluster.partitions,
          stream: cluster.stream,
          topology: config.topology,
          workers: config.workers,
          hostId: cluster.hostId,
          restShare: cluster.restShare,
          log: say,
          logger: createBotLogger({ level: config.logLevel }),
        });
        say(
          `workers ready: host ${workers.host.hostId}, ${config.workers} ${config.topology} workers, consuming ${cluster.stream}`,
        );
        const reason = await waitForStop(signal, config.durationMs);
        say(`stopping: ${reason}`);
        await workers.close();
        say(`workers stats ${JSON.stringify(workers.stats())}`);
      } finally {
        await database.close();
      }
    }
  } finally {
    await connection.close();
  }
}
