import type { StatusOutput } from '@switchyard/status';
import { createStatusBoard } from '@switchyard/status';
import { openDatabase } from '../db/Database.js';
import { SimulationThread } from '../sim/SimulationThread.js';
import type { BotStats } from './Bot.js';
import { Bot } from './Bot.js';
import type { RunConfig } from './config.js';
import type { BotLogger } from './logger.js';
import { createBotLogger } from './logger.js';
import { startMetricsServer } from './MetricsServer.js';

const WORKER_KIND = { thread: 'worker threads', process: 'worker processes', local: 'local workers' } as const;

/** Where {@link runBot} writes, and what stops it. */
export interface RunIo {
  /**
   * Stops the bot gracefully when aborted (`main.ts` aborts it on SIGINT and SIGTERM).
   * @default never aborts
   */
  signal?: AbortSignal;
  /**
   * The log (lifecycle, moderation actions, failures): pretty lines on a terminal, printed through
   * the board when it is live on the same terminal (both streams TTYs) so that nothing is
   * overwritten; JSON lines otherwise (see {@link createBotLogger}).
   * @default process.stdout
   */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * The status board.
   * @default process.stderr
   */
  stderr?: StatusOutput;
}

/** What {@link runBot} resolves with. */
export interface RunSummary {
  /** The logger the run wrote to. */
  readonly logger: BotLogger;
  /** Why it stopped: the abort reason, or the duration. */
  readonly reason: string;
  /** How long the bot was ready, in seconds. */
  readonly seconds: number;
  readonly stats: BotStats;
}

/**
 * The program `node dist/main.js` runs: opens the database, starts the simulated Discord when
 * there is no token, starts the bot with a status board, runs until `signal` aborts or the
 * duration passes, then shuts down in order (traffic, bot, board, database, simulator).
 */
export async function runBot(config: RunConfig, io: RunIo = {}): Promise<RunSummary> {
  const { signal, stdout = process.stdout, stderr = process.stderr } = io;
  const cleanup: Array<() => Promise<void> | void> = [];
  // One stream owns the screen: with the board live on the terminal, every line goes through it.
  const board = createStatusBoard({ output: stderr });
  cleanup.push(() => board.close());
  const logger = createBotLogger({
    level: config.logLevel,
    stdout,
    ...(board.tty && stdout.isTTY === true ? { board } : {}),
  });
  // What runs (the bot, then where its data and its Discord are), then what it is doing.
  const what = [`switchyard-bot · ${config.topology} topology · ${config.workers} workers`];
  const header = (last: string): void => {
    if (board.tty && !board.closed) board.setHeader([...what, last].join('\n'));
  };
  header('starting…');
  try {
    let simulation: SimulationThread | undefined;
    if (config.token === undefined) {
      // In a thread of its own: a real Discord does not share the bot's main thread either.
      simulation = await SimulationThread.start({ guilds: config.guilds, eventsPerSecond: config.eventsPerSecond });
      const started = simulation;
      cleanup.push(async () => void (await started.close()));
      logger.info(
        { api: simulation.apiBase, guilds: config.guilds },
        `simulated Discord at ${simulation.apiBase} with ${config.guilds} guilds (no DISCORD_TOKEN)`,
      );
    }
    const database = await openDatabase({
      ...(config.databaseUrl === undefined ? {} : { url: config.databaseUrl }),
      ...(config.dataDir === undefined ? {} : { dataDir: config.dataDir }),
      schema: config.schema,
    });
    cleanup.push(() => database.close());
    logger.info({ database: database.description }, `database: ${database.description}`);

    const bot = await Bot.start({
      token: simulation?.token ?? (config.token as string),
      ...(simulation === undefined ? {} : { api: simulation.apiBase }),
      database,
      workers: config.workers,
      topology: config.topology,
      board,
      logger,
    });
    cleanup.push(() => bot.close());
    if (config.metricsPort !== undefined) {
      const metrics = await startMetricsServer({
        port: config.metricsPort,
        registry: bot.metrics.registry,
        health: () => bot.health(),
      });
      cleanup.push(() => metrics.close());
      logger.info({ url: metrics.url }, `metrics: ${metrics.url}/metrics and ${metrics.url}/healthz`);
    }
    const startedAt = performance.now();
    logger.info(
      {
        user: bot.client.user.tag,
        guilds: bot.client.guilds.cache.size,
        workers: config.workers,
        topology: config.topology,
      },
      `ready: logged in as ${bot.client.user.tag} in ${bot.client.guilds.cache.size} guilds, ${config.workers} ${WORKER_KIND[config.topology]}`,
    );
    what[0] += ` · ${bot.client.guilds.cache.size} guilds`;
    what.push(
      `database ${database.description}`,
      simulation === undefined ? 'Discord' : `simulated Discord at ${simulation.apiBase}`,
    );
    header('Ctrl-C to stop');
    await simulation?.begin();

    const reason = await new Promise<string>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(signal?.reason instanceof Error ? signal.reason.message : String(signal?.reason ?? 'aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (config.durationMs !== undefined) {
        timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve(`${config.durationMs! / 1000} s elapsed`);
        }, config.durationMs);
      }
    });
    const seconds = (performance.now() - startedAt) / 1000;
    logger.info({ reason }, `stopping: ${reason}`);
    header(`stopping (${reason})…`);
    const traffic = await simulation?.stop();
    if (traffic !== undefined)
      logger.info(
        { sent: traffic.sent, elapsedMs: Math.round(traffic.elapsedMs), floods: traffic.bursts },
        `simulated traffic: ${traffic.sent} events in ${(traffic.elapsedMs / 1000).toFixed(1)} s, ${traffic.bursts} floods`,
      );
    await bot.close();
    const stats = bot.stats();
    const events = Object.values(stats.events).reduce((sum, n) => sum + n, 0);
    logger.info(
      { seconds: Number(seconds.toFixed(1)), events, actions: stats.actions },
      `stopped after ${seconds.toFixed(1)} s: ${events} events, ${stats.actions} actions, ${stats.failedActions} refused, ${stats.errors} errors`,
    );
    if (simulation !== undefined) {
      // What the simulated Discord saw of the bot: every slash command it sent should have its answer.
      const { interactions } = await simulation.close();
      logger.info(
        { interactions: interactions.sent, unanswered: interactions.unanswered },
        `simulated Discord: ${interactions.sent} slash commands, ${interactions.unanswered} unanswered`,
      );
    }
    return { logger, reason, seconds, stats };
  } finally {
    // Whatever started is stopped, in reverse order, also when a step failed.
    for (const step of cleanup.reverse()) await step();
  }
}
