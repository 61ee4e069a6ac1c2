/**
 * `pnpm demo:cluster`: the bot split over four processes on this machine — two gateway instances
 * (a shard each) and two worker hosts — against an embedded Discord simulator and the NATS server
 * at NATS_URL (default 127.0.0.1:4222). Sends traffic, SIGKILLs one worker host a third of the way
 * in (the other takes its partitions), waits until every event is consumed, stops everything and
 * prints events sent vs handled vs duplicates (the gateways also publish what the bot's own bans
 * cause: the banned member's deleted messages and departure).
 *
 *   node dist/cluster/demo.js [--duration <s>] [--rate <events/s>] [--no-kill]
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { startDiscordSim } from '@switchyard/discord-sim';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const PARTITIONS = 8;
const GUILDS = 6;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    rate: { type: 'string', default: '100' },
    'no-kill': { type: 'boolean', default: false },
  },
});
const durationMs = Number(values.duration) * 1000;
const rate = Number(values.rate);
if (!(durationMs > 0) || !(rate > 0)) {
  process.stderr.write('Expected --duration and --rate to be numbers > 0.\n');
  process.exit(2);
}

const servers = process.env.NATS_URL ?? '127.0.0.1:4222';
const nc = await connect({ servers, timeout: 5000 }).catch((error: unknown) => {
  process.stderr.write(
    `No NATS server at ${servers} (set NATS_URL; start one with nats-server -js): ${String(error)}\n`,
  );
  process.exit(1);
});
const jsm = await jetstreamManager(nc);
const stream = `SWITCHYARD_DEMO_${process.pid}`;
const sim = await startDiscordSim({
  guilds: Array.from({ length: GUILDS }, (_, i) => ({
    id: ((157_766_400_000n + BigInt(i)) << 22n).toString(),
    name: `Demo guild ${i}`,
    members: 20,
  })),
});
const say = (line: string): void => void process.stdout.write(`${line}\n`);
say(
  `simulated Discord at ${sim.apiBase}, ${GUILDS} guilds; NATS at ${servers}, stream ${stream}, ${PARTITIONS} partitions`,
);

interface Instance {
  name: string;
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}
const instances: Instance[] = [];

function start(name: string, args: string[]): Instance {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--events',
      `jetstream://${servers}`,
      '--stream',
      stream,
      '--partitions',
      String(PARTITIONS),
      '--discord-api',
      sim.apiBase,
      ...args,
    ],
    { env: { ...process.env, DISCORD_TOKEN: sim.token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const instance: Instance = {
    name,
    child,
    lines: [],
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  let buffer = '';
  const onData = (chunk: string): void => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const line of parts) {
      instance.lines.push(line);
      if (!line.startsWith('gateway stats') && !line.startsWith('workers stats')) say(`  [${name}] ${line}`);
    }
  };
  child.stdout!.setEncoding('utf8').on('data', onData);
  child.stderr!.setEncoding('utf8').on('data', onData);
  instances.push(instance);
  return instance;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    for (const instance of instances) {
      if (instance.child.exitCode !== null && instance.child.exitCode !== 0)
        throw new Error(`${instance.name} exited with ${instance.child.exitCode}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const has = (instance: Instance, prefix: string): boolean => instance.lines.some((line) => line.startsWith(prefix));

async function pendingEvents(): Promise<number> {
  let pending = 0;
  for await (const info of jsm.consumers.list(stream)) pending += info.num_pending + info.num_ack_pending;
  return pending;
}

let exitCode = 0;
try {
  const workers = [1, 2].map((n) =>
    start(`workers ${n}`, ['--role', 'workers', '--host-id', `demo-w${n}`, '--rest-share', '2', '--workers', '1']),
  );
  await until(() => workers.every((w) => has(w, 'workers ready')), 'the worker hosts');
  const gateways = [0, 1].map((shard) =>
    start(`gateway ${shard}`, ['--role', 'gateway', '--shards', String(shard), '--shard-count', '2']),
  );
  await until(() => gateways.every((g) => has(g, 'gateway ready')), 'the gateways');

  say(`traffic: ${rate} events/s for ${durationMs / 1000} s`);
  const traffic = sim.traffic({
    eventsPerSecond: rate,
    durationMs,
    mix: { messageCreate: 85, messageUpdate: 0, messageDelete: 5, memberAdd: 5, memberRemove: 5, interaction: 0 },
  });
  if (!values['no-kill']) {
    await new Promise((resolve) => setTimeout(resolve, durationMs / 3));
    say('SIGKILL worker host 1: worker host 2 takes its partitions once their leases run out (15 s)');
    workers[0]!.child.kill('SIGKILL');
    await workers[0]!.exited;
  }
  const sent = await traffic.done;
  say(`traffic done: ${sent.sent} events sent; waiting until JetStream has no event left to deliver`);
  // Every event published (the gateways publish each guild's events in order, a little behind).
  await until(async () => {
    const info = await jsm.streams.info(stream, { subjects_filter: 'switchyard.events.*' });
    return info.state.messages >= sent.sent && (await pendingEvents()) === 0;
  }, 'every event consumed');

  for (const instance of instances) if (instance.child.exitCode === null) instance.child.kill('SIGTERM');
  await Promise.all(instances.map((instance) => instance.exited));
  const statsOf = (prefix: string): Array<Record<string, number>> =>
    instances.flatMap((instance) =>
      instance.lines.filter((line) => line.startsWith(prefix)).map((line) => JSON.parse(line.slice(prefix.length))),
    );
  const sum = (list: Array<Record<string, number>>, key: string): number =>
    list.reduce((total, stats) => total + (stats[key] ?? 0), 0);
  const gatewayStats = statsOf('gateway stats ');
  const workerStats = statsOf('workers stats ');
  const stored = (await jsm.streams.info(stream, { subjects_filter: 'switchyard.events.*' })).state.messages;
  // What was stored, by event type.
  const byType = new Map<string, number>();
  const reader = await jetstream(nc).consumers.get(stream);
  for await (const m of await reader.fetch({ max_messages: stored, expires: 10_000 })) {
    const type = m.json<{ type: string }>().type;
    byType.set(type, (byType.get(type) ?? 0) + 1);
    if (m.info.pending === 0) break;
  }
  const done = await new Kvm(nc).open(`${stream}_DONE`);
  let carriedOut = 0;
  for await (const _key of await done.keys()) carriedOut++;
  const timeouts = sim.requests.filter((r) => r.method === 'PATCH').length;
  const deletes = sim.requests.filter((r) => r.method === 'DELETE').length;
  const posts = sim.requests.filter((r) => r.method === 'POST').length;
  const puts = sim.requests.filter((r) => r.method === 'PUT').length;

  say('');
  say(`events sent by the simulator          ${sent.sent}`);
  say(
    `published by the gateways             ${sum(gatewayStats, 'published')} (JetStream discarded ${sum(gatewayStats, 'duplicates')} as duplicates)`,
  );
  say(`stored in JetStream                   ${stored} (${[...byType].map(([type, n]) => `${type} ${n}`).join(', ')})`);
  say(
    `simulator's traffic by kind           ${Object.entries(sent.byKind)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
  );
  say(`handled, distinct events              ${carriedOut}`);
  say(
    `handled again, effects skipped        ${sum(workerStats, 'alreadyDone')} (redelivered to the surviving host after the kill) + ${sum(workerStats, 'redelivered')} redeliveries acknowledged without handling`,
  );
  say(`dead-lettered                         ${sum(workerStats, 'deadLettered')}`);
  say(
    `Discord requests                      ${timeouts} PATCH (timeouts), ${puts} PUT (bans, roles), ${deletes} DELETE, ${posts} POST`,
  );
  // The gateways also see what the bot's own actions cause (a ban deletes the member's recent
  // messages and removes the member): more events than the traffic sent, each published once.
  const ok = carriedOut === stored && stored >= sent.sent;
  say(
    ok
      ? `every event published was handled exactly once in effect (${stored - sent.sent} of them caused by the bot's own bans)`
      : 'MISMATCH: see the counts above',
  );
  if (!ok) exitCode = 1;
} catch (error) {
  say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  for (const instance of instances) instance.child.kill('SIGKILL');
  await Promise.all(instances.map((instance) => instance.exited));
  for (const name of [stream, `KV_${stream}_LEASES`, `KV_${stream}_DONE`])
    await jsm.streams.delete(name).catch(() => false);
  await nc.close();
  await sim.close();
}
process.exit(exitCode);
