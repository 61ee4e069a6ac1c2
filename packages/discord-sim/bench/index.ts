/*
 * Throughput of the simulator, each figure next to a peer measured in the same run:
 *   1. gateway: MESSAGE_CREATE dispatches/s from `sim.emit.messageCreate()` to a raw ws client,
 *      against two bare `ws` servers: one that builds and JSON.stringifies a message per event (the
 *      least work a simulator must do) and one that resends a pre-built frame (the transport floor);
 *   2. discord.js: messageCreate events/s a real Client receives, against the raw client of (1);
 *   3. REST: POST /channels/{id}/messages per second through undici (16 in flight), against a bare
 *      node:http server answering the same JSON.
 * Medians of RUNS runs after a warm-up. Run with `pnpm bench`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { WebSocket, WebSocketServer } from 'ws';
import type { DiscordSim } from '../src/index.js';
import { SnowflakeGenerator, startDiscordSim } from '../src/index.js';

const RUNS = 5;
const GATEWAY_EVENTS = 20_000;
const DISCORD_JS_EVENTS = 5_000;
const REST_REQUESTS = 2_000;
const REST_CONCURRENCY = 16;
const CONTENT = 'anyone up for a game tonight? check the patch notes https://example.com/notes';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function measure(label: string, run: () => Promise<number>): Promise<number> {
  await run(); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) rates.push(await run());
  const result = median(rates);
  console.log(
    `  ${label.padEnd(48)} ${Math.round(result).toLocaleString('en-US').padStart(10)} /s   (runs: ${rates.map((rate) => Math.round(rate)).join(', ')})`,
  );
  return result;
}

/** A ws client that counts dispatches of one event and resolves when it has seen `target` more. */
class Counter {
  readonly ws: WebSocket;
  #count = 0;
  #target = 0;
  #resolve: (() => void) | null = null;

  constructor(ws: WebSocket, event: string) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const payload = JSON.parse(data.toString()) as { t?: string };
      if (payload.t === event && ++this.#count === this.#target) this.#resolve?.();
    });
  }

  expect(more: number): Promise<void> {
    this.#target = this.#count + more;
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}

async function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

async function gatewayBench(sim: DiscordSim): Promise<{ sim: number; built: number; peer: number; frame: string }> {
  const ws = await openSocket(`${sim.gatewayUrl}?v=10&encoding=json`);
  const counter = new Counter(ws, 'MESSAGE_CREATE');
  const ready = new Promise<void>((resolve) => {
    const onMessage = (data: Buffer): void => {
      if ((JSON.parse(data.toString()) as { t?: string }).t !== 'READY') return;
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
  });
  ws.send(JSON.stringify({ op: 2, d: { token: sim.token, intents: (1 << 9) | (1 << 15), properties: {} } }));
  await ready;
  const guild = sim.guilds[0]!;
  const channel = guild.textChannels[0]!;
  const author = [...guild.members.values()].find((member) => !member.user.bot)!;
  let frame = '';
  const simRate = await measure('sim gateway -> raw ws client (MESSAGE_CREATE)', async () => {
    const done = counter.expect(GATEWAY_EVENTS);
    const start = performance.now();
    for (let i = 0; i < GATEWAY_EVENTS; i++) sim.emit.messageCreate({ channel, author, content: CONTENT });
    await done;
    return (GATEWAY_EVENTS * 1000) / (performance.now() - start);
  });
  // One real frame, to give the peer exactly the same bytes to move.
  const sample = sim.emit.messageCreate({ channel, author, content: CONTENT });
  frame = JSON.stringify({ op: 0, t: 'MESSAGE_CREATE', s: 1, d: sample });
  ws.close();

  const peer = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((resolve) => peer.once('listening', () => resolve()));
  const peerSockets: WebSocket[] = [];
  peer.on('connection', (socket) => peerSockets.push(socket));
  const peerClient = await openSocket(`ws://127.0.0.1:${(peer.address() as AddressInfo).port}`);
  const peerCounter = new Counter(peerClient, 'MESSAGE_CREATE');
  while (peerSockets.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const server = peerSockets[0]!;
  const ids = new SnowflakeGenerator(2, 0);
  let seq = 0;
  const builtRate = await measure('peer: bare ws server, builds + stringifies', async () => {
    const done = peerCounter.expect(GATEWAY_EVENTS);
    const start = performance.now();
    for (let i = 0; i < GATEWAY_EVENTS; i++) {
      const d = { ...sample, id: ids.next(), timestamp: new Date().toISOString(), member: { ...sample.member } };
      server.send(JSON.stringify({ op: 0, t: 'MESSAGE_CREATE', s: ++seq, d }));
    }
    await done;
    return (GATEWAY_EVENTS * 1000) / (performance.now() - start);
  });
  const peerRate = await measure('peer: bare ws server, same pre-built frame', async () => {
    const done = peerCounter.expect(GATEWAY_EVENTS);
    const start = performance.now();
    for (let i = 0; i < GATEWAY_EVENTS; i++) server.send(frame);
    await done;
    return (GATEWAY_EVENTS * 1000) / (performance.now() - start);
  });
  peerClient.close();
  await new Promise<void>((resolve) => peer.close(() => resolve()));
  return { sim: simRate, built: builtRate, peer: peerRate, frame };
}

async function discordJsBench(sim: DiscordSim): Promise<number> {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: { api: sim.apiBase },
  });
  await new Promise<void>((resolve, reject) => {
    client.once(Events.ClientReady, () => resolve());
    client.login(sim.token).catch(reject);
  });
  let count = 0;
  let target = 0;
  let resolve: (() => void) | null = null;
  client.on(Events.MessageCreate, () => {
    if (++count === target) resolve?.();
  });
  const guild = sim.guilds[0]!;
  const channel = guild.textChannels[0]!;
  const author = [...guild.members.values()].find((member) => !member.user.bot)!;
  const rate = await measure('sim gateway -> discord.js Client (messageCreate)', async () => {
    target = count + DISCORD_JS_EVENTS;
    const done = new Promise<void>((settle) => {
      resolve = settle;
    });
    const start = performance.now();
    for (let i = 0; i < DISCORD_JS_EVENTS; i++) sim.emit.messageCreate({ channel, author, content: CONTENT });
    await done;
    return (DISCORD_JS_EVENTS * 1000) / (performance.now() - start);
  });
  await client.destroy();
  return rate;
}

async function hammer(url: string, init: RequestInit): Promise<number> {
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next++ < REST_REQUESTS) {
      const response = await fetch(url, init);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`unexpected status ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: REST_CONCURRENCY }, worker));
  return (REST_REQUESTS * 1000) / (performance.now() - start);
}

async function restBench(sim: DiscordSim): Promise<{ sim: number; peer: number }> {
  const channel = sim.guilds[0]!.textChannels[0]!;
  const init: RequestInit = {
    method: 'POST',
    headers: { authorization: `Bot ${sim.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content: CONTENT }),
  };
  const simRate = await measure('sim REST POST /channels/{id}/messages', () =>
    hammer(`${sim.apiBase}/v10/channels/${channel.id}/messages`, init),
  );

  const sample = JSON.stringify(sim.messages(channel).at(-1));
  const peer = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(sample) });
      response.end(sample);
    });
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const peerRate = await measure('peer: bare node:http server, same JSON', () =>
    hammer(`http://127.0.0.1:${(peer.address() as AddressInfo).port}/`, init),
  );
  await new Promise<void>((resolve) => {
    peer.close(() => resolve());
    peer.closeAllConnections();
  });
  return { sim: simRate, peer: peerRate };
}

console.log(`@switchyard/discord-sim benchmark (node ${process.version}, median of ${RUNS} runs after a warm-up)\n`);
const sim = await startDiscordSim({ guilds: 1, messageHistory: 1000, maxRecordedRequests: 10_000, rateLimits: false });
try {
  console.log(`Gateway, ${GATEWAY_EVENTS.toLocaleString('en-US')} dispatches per run:`);
  const gateway = await gatewayBench(sim);
  console.log(
    `  frame size ${gateway.frame.length} bytes; sim / build+stringify peer = ${(gateway.sim / gateway.built).toFixed(2)}; sim / pre-built peer = ${(gateway.sim / gateway.peer).toFixed(2)}\n`,
  );

  console.log(`discord.js, ${DISCORD_JS_EVENTS.toLocaleString('en-US')} messages per run:`);
  const discordJs = await discordJsBench(sim);
  console.log(`  discord.js / raw ws client = ${(discordJs / gateway.sim).toFixed(2)}\n`);

  console.log(`REST, ${REST_REQUESTS.toLocaleString('en-US')} requests per run, ${REST_CONCURRENCY} in flight:`);
  const rest = await restBench(sim);
  console.log(`  sim / peer = ${(rest.sim / rest.peer).toFixed(2)}`);
} finally {
  await sim.close();
}
