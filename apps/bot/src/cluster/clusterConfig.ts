import { BotConfigError } from '../errors/errors.js';

/** What this instance does when the events go through JetStream. */
export type ClusterRole = 'gateway' | 'workers';

/**
 * The flags that split the bot over several processes and machines ({@link parseClusterArgs}).
 * Without `--events` the bot runs as one process, as before.
 */
export interface ClusterConfig {
  /** `--role`: `gateway` (connect to Discord, publish the events) or `workers` (handle them, carry the decisions out). */
  readonly role: ClusterRole;
  /** `--events jetstream://host:port[,host:port]`: the NATS servers. */
  readonly servers: string[];
  /** `--shards <ids>` (gateway): the shard ids this instance connects, e.g. `0,1` or `0-3`. */
  readonly shards: number[] | undefined;
  /** `--shard-count <n>` (gateway): Discord shards over all instances. */
  readonly shardCount: number | undefined;
  /** `--partitions <n>` or `BOT_PARTITIONS`: JetStream partitions, the same on every instance. */
  readonly partitions: number;
  /** `--stream <name>` or `BOT_STREAM`: the JetStream stream. */
  readonly stream: string;
  /** `--discord-api <url>` or `BOT_DISCORD_API`: Discord's REST base (a simulator's, for the demo). */
  readonly discordApi: string | undefined;
  /** `--host-id <id>`: this worker host's name in the lease bucket. */
  readonly hostId: string | undefined;
  /** `--rest-share <n>` (workers): this host's share of the token's 50 requests/s. */
  readonly restShare: number;
}

/** The usage of the cluster flags, appended to `--help`. */
export const CLUSTER_USAGE = `
Beyond one machine (NATS JetStream; see the root README, "Beyond one machine"):
  --events <url>       jetstream://host:port[,host:port]: publish or consume the events there
  --role <r>           gateway (default with --events) or workers
  --shards <ids>       gateway: the shard ids this instance connects (0,1 or 0-3)
  --shard-count <n>    gateway: the shards over all gateway instances
  --partitions <n>     JetStream partitions, the same everywhere (env BOT_PARTITIONS, default 16)
  --stream <name>      the JetStream stream (env BOT_STREAM, default SWITCHYARD_BOT)
  --discord-api <url>  Discord's REST base URL (env BOT_DISCORD_API; a simulator's for tests)
  --host-id <id>       workers: this host's name in the lease bucket (default hostname-pid)
  --rest-share <n>     workers: how many worker hosts share the token's 50 requests/s (default 1)
`;

const FLAGS = new Set([
  'events',
  'role',
  'shards',
  'shard-count',
  'partitions',
  'stream',
  'discord-api',
  'host-id',
  'rest-share',
]);

function integer(source: string, raw: string, min: number, max: number, problems: string[]): number | undefined {
  const value = Number(raw);
  if (raw.trim() !== '' && Number.isInteger(value) && value >= min && value <= max) return value;
  problems.push(`Expected ${source} to be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  return undefined;
}

function shardList(raw: string, problems: string[]): number[] | undefined {
  const ids = new Set<number>();
  for (const part of raw.split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (range === null || (range[2] !== undefined && Number(range[2]) < Number(range[1]))) {
      problems.push(`Expected --shards to be shard ids like 0,1 or 0-3, got ${JSON.stringify(raw)}.`);
      return undefined;
    }
    for (let id = Number(range[1]); id <= Number(range[2] ?? range[1]); id++) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

function servers(raw: string, problems: string[]): string[] {
  const match = /^jetstream:\/\/(.+)$/.exec(raw);
  const list = match?.[1]?.split(',').map((s) => s.trim()) ?? [];
  if (list.length === 0 || list.some((s) => !/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(s))) {
    problems.push(`Expected --events to be jetstream://host:port[,host:port], got ${JSON.stringify(raw)}.`);
  }
  return list;
}

/**
 * Takes the cluster flags out of `argv` (the rest goes to `parseRunConfig`) and checks them:
 * `cluster` is `undefined` without `--events`, and a `BotConfigError` lists every problem.
 */
export function parseClusterArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { cluster: ClusterConfig | undefined; rest: string[] } {
  const rest: string[] = [];
  const values = new Map<string, string>();
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null || !FLAGS.has(match[1]!)) {
      rest.push(arg);
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) problems.push(`Expected a value after --${match[1]}.`);
    else values.set(match[1]!, value);
  }
  const fromEnv = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const events = values.get('events');
  if (events === undefined) {
    const stray = [...values.keys()].map((flag) => `--${flag}`);
    if (stray.length > 0) problems.push(`Expected --events jetstream://host:port with ${stray.join(', ')}.`);
    if (problems.length > 0) throw new BotConfigError(problems.join('\n'));
    return { cluster: undefined, rest };
  }
  const list = servers(events, problems);
  const role = values.get('role') ?? 'gateway';
  if (role !== 'gateway' && role !== 'workers')
    problems.push(`Expected --role to be gateway or workers, got ${JSON.stringify(role)}.`);
  const shardsRaw = values.get('shards');
  const countRaw = values.get('shard-count');
  const shards = shardsRaw === undefined ? undefined : shardList(shardsRaw, problems);
  const shardCount = countRaw === undefined ? undefined : integer('--shard-count', countRaw, 1, 65_536, problems);
  if ((shardsRaw === undefined) !== (countRaw === undefined))
    problems.push('Expected --shards and --shard-count together.');
  if (shards !== undefined && shardCount !== undefined && shards.some((id) => id >= shardCount))
    problems.push(`Expected every id of --shards to be below --shard-count ${shardCount}, got ${shardsRaw}.`);
  if (role === 'workers' && shardsRaw !== undefined)
    problems.push('Expected --shards only with --role gateway (worker hosts share partitions by themselves).');
  const partitionsRaw = values.get('partitions') ?? fromEnv('BOT_PARTITIONS');
  const partitions = partitionsRaw === undefined ? 16 : integer('--partitions', partitionsRaw, 1, 4096, problems);
  const stream = values.get('stream') ?? fromEnv('BOT_STREAM') ?? 'SWITCHYARD_BOT';
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(stream))
    problems.push(`Expected --stream to be letters, digits, _ and -, got ${JSON.stringify(stream)}.`);
  const discordApi = values.get('discord-api') ?? fromEnv('BOT_DISCORD_API');
  if (discordApi !== undefined && !/^https?:\/\/\S+$/.test(discordApi))
    problems.push(`Expected --discord-api to be an http(s) URL, got ${JSON.stringify(discordApi)}.`);
  const hostId = values.get('host-id');
  if (hostId !== undefined && hostId.trim() === '') problems.push('Expected --host-id to be a non-empty name.');
  const shareRaw = values.get('rest-share');
  const restShare = shareRaw === undefined ? 1 : integer('--rest-share', shareRaw, 1, 50, problems);
  if (problems.length > 0) throw new BotConfigError(problems.join('\n'));
  return {
    cluster: {
      role: role as ClusterRole,
      servers: list,
      shards,
      shardCount,
      partitions: partitions!,
      stream,
      discordApi,
      hostId,
      restShare: restShare!,
    },
    rest,
  };
}
