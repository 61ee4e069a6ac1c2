import { parseArgs } from 'node:util';
import { BotConfigError } from '../errors/errors.js';

/** What `node dist/main.js` runs with, from its arguments and environment ({@link parseRunConfig}). */
export interface RunConfig {
  /** `--help`: print the usage and exit. */
  readonly help: boolean;
  /** `DISCORD_TOKEN`: connect to Discord; without it the bot runs against an embedded simulator. */
  readonly token: string | undefined;
  /** `DATABASE_URL`: PostgreSQL through `pg`; without it an embedded PGlite. */
  readonly databaseUrl: string | undefined;
  /** `BOT_DATA_DIR`: PGlite's data directory; without it PGlite runs in memory. */
  readonly dataDir: string | undefined;
  /** `BOT_DB_SCHEMA`: the PostgreSQL schema of the tables. */
  readonly schema: string;
  /** `--duration <s>` or `BOT_DURATION_S`: stop by itself after this long; without it, run until SIGINT/SIGTERM. */
  readonly durationMs: number | undefined;
  /** `--workers <n>` or `BOT_WORKERS`: worker threads. */
  readonly workers: number;
  /** `--guilds <n>` or `BOT_SIM_GUILDS`: guilds of the simulator. */
  readonly guilds: number;
  /** `--rate <events/s>` or `BOT_SIM_RATE`: the simulator's traffic. */
  readonly eventsPerSecond: number;
}

/** The usage text of `node dist/main.js --help`. */
export const USAGE = `Usage: node dist/main.js [options]

Runs the Switchyard moderation bot until SIGINT or SIGTERM. Without DISCORD_TOKEN it starts an
embedded Discord simulator with generated traffic and runs against it.

Options:
  --duration <s>   stop by itself after this many seconds (env BOT_DURATION_S)
  --workers <n>    worker threads (env BOT_WORKERS, default 2)
  --guilds <n>     simulated guilds (env BOT_SIM_GUILDS, default 3)
  --rate <n>       simulated events per second (env BOT_SIM_RATE, default 20)
  --help           show this text

Environment:
  DISCORD_TOKEN    connect to Discord with this bot token
  DATABASE_URL     postgres:// connection string (default: embedded PGlite)
  BOT_DATA_DIR     PGlite data directory (default: in memory)
  BOT_DB_SCHEMA    PostgreSQL schema of the tables (default: public)
`;

function number(
  name: string,
  raw: string | undefined,
  fallback: number,
  check: { integer: boolean; min: number; max: number },
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (
    !Number.isFinite(value) ||
    (check.integer && !Number.isInteger(value)) ||
    value < check.min ||
    value > check.max
  ) {
    const kind = check.integer ? 'an integer' : 'a number';
    throw new BotConfigError(
      `Expected ${name} to be ${kind} from ${check.min} to ${check.max}, got ${JSON.stringify(raw)}.`,
    );
  }
  return value;
}

function text(raw: string | undefined): string | undefined {
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

/**
 * Reads the command line (`argv` without the node and script paths) and the environment; options
 * on the command line win over the environment. Throws `BotConfigError` for anything malformed.
 */
export function parseRunConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): RunConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        duration: { type: 'string' },
        workers: { type: 'string' },
        guilds: { type: 'string' },
        rate: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new BotConfigError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`, { cause: error });
  }
  const option = (name: string): string | undefined => values[name] as string | undefined;
  const duration = number(
    option('duration') === undefined ? 'BOT_DURATION_S' : '--duration',
    option('duration') ?? env.BOT_DURATION_S,
    Number.NaN,
    { integer: false, min: 0, max: 31_536_000 },
  );
  return {
    help: values.help === true,
    token: text(env.DISCORD_TOKEN),
    databaseUrl: text(env.DATABASE_URL),
    dataDir: text(env.BOT_DATA_DIR),
    schema: text(env.BOT_DB_SCHEMA) ?? 'public',
    durationMs: Number.isNaN(duration) ? undefined : Math.round(duration * 1000),
    workers: number(
      option('workers') === undefined ? 'BOT_WORKERS' : '--workers',
      option('workers') ?? env.BOT_WORKERS,
      2,
      { integer: true, min: 1, max: 256 },
    ),
    guilds: number(
      option('guilds') === undefined ? 'BOT_SIM_GUILDS' : '--guilds',
      option('guilds') ?? env.BOT_SIM_GUILDS,
      3,
      { integer: true, min: 1, max: 1000 },
    ),
    eventsPerSecond: number(
      option('rate') === undefined ? 'BOT_SIM_RATE' : '--rate',
      option('rate') ?? env.BOT_SIM_RATE,
      20,
      { integer: false, min: 0.1, max: 100_000 },
    ),
  };
}
