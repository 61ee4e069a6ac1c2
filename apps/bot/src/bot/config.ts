import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BotConfigError } from '../errors/errors.js';
import type { LogLevel } from './logger.js';
import { LOG_LEVELS } from './logger.js';

/** Where the bot's workers run: worker threads, worker processes, or this thread. */
export type BotTopology = 'thread' | 'process' | 'local';

/** The topologies, in the order `--help` lists them. */
export const BOT_TOPOLOGIES: readonly BotTopology[] = ['thread', 'process', 'local'];

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
  /** `--workers <n>` or `BOT_WORKERS`: workers (threads or processes). */
  readonly workers: number;
  /** `--topology <t>` or `BOT_TOPOLOGY`: where the workers run. */
  readonly topology: BotTopology;
  /** `--metrics-port <n>` or `METRICS_PORT`: serve `/metrics` and `/healthz` on this port (0: any free port). */
  readonly metricsPort: number | undefined;
  /** `--guilds <n>` or `BOT_SIM_GUILDS`: guilds of the simulator. */
  readonly guilds: number;
  /** `--rate <events/s>` or `BOT_SIM_RATE`: the simulator's traffic. */
  readonly eventsPerSecond: number;
  /** `--log-level <level>` or `LOG_LEVEL`: the least severe log records written. */
  readonly logLevel: LogLevel;
}

/** The variables that hold secrets: {@link scrubSecrets} removes them once read. */
export const SECRET_VARIABLES: readonly string[] = ['DISCORD_TOKEN', 'DATABASE_URL'];

/**
 * Removes the secrets ({@link SECRET_VARIABLES}) from `env` once {@link parseRunConfig} read
 * them: worker threads start with a copy of `process.env`, so `main.ts` scrubs it before any
 * starts (worker processes inherit only a short list of variables anyway).
 */
export function scrubSecrets(env: Record<string, string | undefined>): void {
  for (const name of SECRET_VARIABLES) delete env[name];
}

/** The usage text of `node dist/main.js --help`. */
export const USAGE = `Usage: node dist/main.js [options]

Runs the Switchyard moderation bot until SIGINT or SIGTERM. Without DISCORD_TOKEN it starts an
embedded Discord simulator with generated traffic and runs against it.

Options:
  --duration <s>       stop by itself after this many seconds (env BOT_DURATION_S)
  --workers <n>        workers (env BOT_WORKERS, default 2)
  --topology <t>       thread, process or local (env BOT_TOPOLOGY, default thread)
  --metrics-port <n>   serve Prometheus /metrics and /healthz on this port (env METRICS_PORT)
  --guilds <n>         simulated guilds (env BOT_SIM_GUILDS, default 3)
  --rate <n>           simulated events per second (env BOT_SIM_RATE, default 20)
  --log-level <level>  fatal, error, warn, info, debug, trace or silent (env LOG_LEVEL, default info)
  --help               show this text

Environment:
  DISCORD_TOKEN    connect to Discord with this bot token
  DATABASE_URL     postgres:// connection string (default: embedded PGlite)
  BOT_DATA_DIR     PGlite data directory (default: in memory)
  BOT_DB_SCHEMA    PostgreSQL schema of the tables (default: public)
`;

/** A number given as text, from `min` to `max`; the issue's message says what was expected. */
function numberText(integer: boolean, min: number, max: number) {
  const expected = `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  return z.string().transform((raw, ctx) => {
    const value = Number(raw);
    if (
      raw.trim() === '' ||
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value)) ||
      value < min ||
      value > max
    ) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return value;
  });
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Each setting: its flag (if any), its variable, and how its text is checked. */
const SETTINGS = {
  token: { env: 'DISCORD_TOKEN', schema: z.string().regex(/^\S+$/, { error: 'a token without spaces' }) },
  databaseUrl: {
    env: 'DATABASE_URL',
    schema: z.string().refine(
      (raw) => {
        try {
          const url = new URL(raw);
          return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
        } catch {
          return false;
        }
      },
      { error: 'a postgres:// connection string (postgres://user:password@host:5432/database)' },
    ),
  },
  dataDir: { env: 'BOT_DATA_DIR', schema: z.string() },
  schema: {
    env: 'BOT_DB_SCHEMA',
    schema: z.string().regex(SCHEMA_NAME, { error: 'a lower-case identifier (letters, digits, _; at most 63)' }),
  },
  duration: { flag: '--duration', env: 'BOT_DURATION_S', schema: numberText(false, 0, 31_536_000) },
  workers: { flag: '--workers', env: 'BOT_WORKERS', schema: numberText(true, 1, 256) },
  topology: {
    flag: '--topology',
    env: 'BOT_TOPOLOGY',
    schema: z.enum(BOT_TOPOLOGIES as [BotTopology, ...BotTopology[]], { error: 'one of thread, process, local' }),
  },
  metricsPort: { flag: '--metrics-port', env: 'METRICS_PORT', schema: numberText(true, 0, 65_535) },
  guilds: { flag: '--guilds', env: 'BOT_SIM_GUILDS', schema: numberText(true, 1, 1000) },
  rate: { flag: '--rate', env: 'BOT_SIM_RATE', schema: numberText(false, 0.1, 100_000) },
  logLevel: {
    flag: '--log-level',
    env: 'LOG_LEVEL',
    schema: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]], { error: `one of ${LOG_LEVELS.join(', ')}` }),
  },
} as const satisfies Record<string, { flag?: string; env: string; schema: z.ZodType }>;

type Settings = typeof SETTINGS;
type Parsed = { [K in keyof Settings]: z.output<Settings[K]['schema']> | undefined };

/**
 * Reads the command line (`argv` without the node and script paths) and the environment; options
 * on the command line win over the environment, and empty variables count as unset. Every setting
 * is checked before anything starts; a `BotConfigError` lists every problem, each naming the flag
 * or the variable it came from and what it got.
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
        topology: { type: 'string' },
        'metrics-port': { type: 'string' },
        guilds: { type: 'string' },
        rate: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new BotConfigError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`, { cause: error });
  }

  const problems: string[] = [];
  const parsed: Partial<Record<keyof Settings, unknown>> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as Array<[keyof Settings, Settings[keyof Settings]]>) {
    const flag = 'flag' in setting ? setting.flag : undefined;
    const fromFlag = flag === undefined ? undefined : (values[flag.slice(2)] as string | undefined);
    const fromEnv = env[setting.env];
    const raw = fromFlag ?? (fromEnv === undefined || fromEnv.trim() === '' ? undefined : fromEnv);
    if (raw === undefined) continue;
    const source = fromFlag === undefined ? setting.env : flag!;
    const result = (setting.schema as z.ZodType).safeParse(raw);
    if (result.success) parsed[key] = result.data;
    else {
      const expected = result.error.issues.map((issue) => issue.message).join('; ');
      // A token or a connection string may hold secrets: say what was wrong, not what it was.
      const got = key === 'token' || key === 'databaseUrl' ? 'a string of another form' : JSON.stringify(raw);
      problems.push(`Expected ${source} to be ${expected}, got ${got}.`);
    }
  }
  if (problems.length > 0) throw new BotConfigError(problems.join('\n'));

  const config = parsed as Parsed;
  return {
    help: values.help === true,
    token: config.token,
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    schema: config.schema ?? 'public',
    durationMs: config.duration === undefined ? undefined : Math.round(config.duration * 1000),
    workers: config.workers ?? 2,
    topology: config.topology ?? 'thread',
    metricsPort: config.metricsPort,
    guilds: config.guilds ?? 3,
    eventsPerSecond: config.rate ?? 20,
    logLevel: config.logLevel ?? 'info',
  };
}
