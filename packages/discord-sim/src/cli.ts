#!/usr/bin/env node
/*
 * discord-sim: runs a simulated Discord with generated traffic and prints where to point a bot.
 * `pnpm --filter @switchyard/discord-sim start -- --guilds 8 --eps 200`
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DiscordSimError } from './errors/errors.js';
import { startDiscordSim } from './sim/DiscordSim.js';
import type { TrafficRun } from './scenario/Traffic.js';

const USAGE = `Usage: discord-sim [options]

  --port, -p <n>        TCP port (0 = any free port)               [default: 0]
  --host <addr>         interface to listen on                      [default: 127.0.0.1]
  --guilds, -g <n>      guilds to generate                          [default: 4]
  --members <n>         members per generated guild                 [default: 25]
  --shards <n>          recommended shard count (for shards: 'auto') [default: 1 per 1000 guilds]
  --eps <n>             generated events per second (0 = none)      [default: 20]
  --token <token>       bot token                                   [default: generated]
  --seed <n>            seed of the generated world                 [default: 1]
  --heartbeat <ms>      heartbeat interval announced in HELLO       [default: 41250]
  --tls                 HTTPS and WSS with a generated certificate; its CA is written to a file
  --no-rate-limits      no X-RateLimit headers, no 429s of its own   [default: 50 per route per s]
  --stats <ms>          print stats this often (0 = never)          [default: 5000]
  --help, -h            show this help
`;

function integer(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`discord-sim: --${name} expects an integer >= 0, got ${raw}\n`);
    process.exit(2);
  }
  return value;
}

// When the reader of stdout goes away first (pnpm exiting on Ctrl+C), keep shutting down quietly.
process.stdout.on('error', () => undefined);

// `pnpm start -- --eps 200` hands the `--` through; skip it rather than read the rest as positionals.
const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();

let parsed;
try {
  parsed = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      guilds: { type: 'string', short: 'g' },
      members: { type: 'string' },
      shards: { type: 'string' },
      eps: { type: 'string' },
      token: { type: 'string' },
      seed: { type: 'string' },
      heartbeat: { type: 'string' },
      'no-rate-limits': { type: 'boolean' },
      tls: { type: 'boolean' },
      stats: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
} catch (error) {
  process.stderr.write(`discord-sim: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help === true) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const guildCount = integer('guilds', values.guilds, 4);
const members = integer('members', values.members, 25);
const eps = integer('eps', values.eps, 20);
const statsEvery = integer('stats', values.stats, 5000);
const shards = values.shards === undefined ? undefined : integer('shards', values.shards, 1);

let sim;
try {
  sim = await startDiscordSim({
    port: integer('port', values.port, 0),
    host: values.host ?? '127.0.0.1',
    guilds: Array.from({ length: guildCount }, () => ({ members })),
    ...(shards === undefined ? {} : { shards }),
    ...(values.token === undefined ? {} : { token: values.token }),
    seed: integer('seed', values.seed, 1),
    heartbeatIntervalMs: integer('heartbeat', values.heartbeat, 41_250),
    rateLimits: values['no-rate-limits'] === true ? false : {},
    tls: values.tls === true,
  });
} catch (error) {
  process.stderr.write(
    `discord-sim: ${error instanceof DiscordSimError ? `${error.code}: ${error.message}` : String(error)}\n`,
  );
  process.exit(1);
}

// With --tls, the CA goes to a file a bot can trust (NODE_EXTRA_CA_CERTS=<file>); removed on exit.
const caFile = sim.tls?.ca ? join(tmpdir(), `discord-sim-ca-${process.pid}.pem`) : null;
if (caFile !== null) writeFileSync(caFile, sim.tls?.ca ?? '');

const shardCount = sim.guilds.length === 0 ? 1 : Math.max(1, shards ?? Math.ceil(sim.guilds.length / 1000));
process.stdout.write(
  [
    'Discord simulator listening',
    `  REST API base:  ${sim.apiBase}`,
    `  Gateway URL:    ${sim.gatewayUrl}`,
    `  Bot token:      ${sim.token}`,
    `  Application id: ${sim.applicationId}`,
    `  Guilds:         ${sim.guilds.length} (recommended shards: ${shardCount})`,
    ...(caFile === null ? [] : [`  CA certificate: ${caFile} (trust it: NODE_EXTRA_CA_CERTS=${caFile})`]),
    '',
    'Point discord.js at it:',
    `  new Client({ intents, rest: { api: '${sim.apiBase}' } }).login('${sim.token}')`,
    '',
    eps > 0 && sim.guilds.length > 0 ? `Generating ${eps} events/s. Ctrl+C to stop.` : 'No traffic. Ctrl+C to stop.',
    '',
  ].join('\n'),
);

const run: TrafficRun | null = eps > 0 && sim.guilds.length > 0 ? sim.traffic({ eventsPerSecond: eps }) : null;
const started = Date.now();
const printStats = (): void => {
  const stats = run?.stats();
  const sessions = sim.gateway.sessions();
  process.stdout.write(
    `[${Math.round((Date.now() - started) / 1000)}s] sessions: ${sessions.filter((session) => session.connected).length} connected` +
      ` | events: ${stats?.sent ?? 0} sent, ${stats?.delivered ?? 0} delivered | REST requests: ${sim.requestCount}\n`,
  );
};
const ticker = statsEvery > 0 ? setInterval(printStats, statsEvery) : null;

let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  if (ticker) clearInterval(ticker);
  process.stdout.write(`\n${signal} received, shutting down.\n`);
  await run?.stop();
  printStats();
  await sim.close();
  if (caFile !== null) rmSync(caFile, { force: true });
  process.stdout.write('Discord simulator stopped.\n');
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
