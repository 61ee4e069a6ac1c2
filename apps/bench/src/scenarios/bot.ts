import type { BotDatabase } from '@switchyard/bot';
import { Bot, openDatabase } from '@switchyard/bot';
import type { DiscordSim, GuildSpec, SimGuild, SimInteraction } from '@switchyard/discord-sim';
import { startDiscordSim } from '@switchyard/discord-sim';
import { CheckFailedError } from '../harness/errors.js';
import type { ContenderPlan, ContenderRun, RunOutput, ScenarioFactory } from '../harness/Scenario.js';

const GUILDS = 8;
const MEMBERS = 400;
/** Per guild and burst: benign messages, messages with a banned word, `/stats` commands. */
const BENIGN = 18;
const BANNED = 2;
const COMMANDS = 1;
const BANNED_WORD = 'free nitro';
const WAIT_MS = 30_000;

/**
 * The bot's pipeline on one topology. This scenario depends on `@switchyard/bot`'s exports only:
 * `openDatabase()` (in-memory PGlite), `Bot.start({ token, api, database, workers })`,
 * `bot.stats().events`, `bot.close()`, and on discord-sim's public API.
 */
interface Topology {
  readonly name: string;
  /** Extra `Bot.start` options selecting the topology (none: the bot's default, worker threads). */
  readonly options: Record<string, unknown>;
}

/** The topologies `Bot.start` offers. */
const TOPOLOGIES: readonly Topology[] = [
  { name: 'thread (the bot’s default), 2 workers', options: {} },
  { name: 'process, 2 workers', options: { topology: 'process' } },
  { name: 'local, 2 workers', options: { topology: 'local' } },
];

const waitFor = async (what: string, condition: () => boolean): Promise<void> => {
  const deadline = performance.now() + WAIT_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new CheckFailedError(`the bot did not ${what} within ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

interface BurstResult {
  readonly events: number;
  readonly latenciesUs: number[];
  readonly lostInteractions: number;
}

class BotHarness {
  #sim!: DiscordSim;
  #database!: BotDatabase;
  #bot!: Bot;
  #authors = new Map<string, string[]>();
  #next = 0;
  #sent = 0;
  lostInteractions = 0;
  /** REST answers with status 429 (discord-sim's rate limits), which discord.js waits out. */
  rateLimited = 0;
  restRequests = 0;

  async start(topology: Topology): Promise<void> {
    const specs: GuildSpec[] = Array.from({ length: GUILDS }, (_, i) => ({
      id: ((157_766_400_000n + BigInt(i)) << 22n).toString(),
      name: `Bench ${i + 1}`,
      channels: ['general'],
      members: MEMBERS,
    }));
    this.#sim = await startDiscordSim({ guilds: specs, seed: 1 });
    this.#database = await openDatabase({});
    this.#bot = await Bot.start({
      token: this.#sim.token,
      api: this.#sim.apiBase,
      database: this.#database,
      workers: 2,
      ...topology.options,
    });
    for (const guild of this.#sim.guilds) {
      this.#authors.set(
        guild.id,
        [...guild.members.values()].filter((m) => !m.user.bot && m.user.id !== guild.ownerId).map((m) => m.user.id),
      );
      const interaction = this.#sim.emit.interaction({
        command: 'config',
        subcommand: 'add-word',
        options: { word: BANNED_WORD },
        guild: guild.id,
        user: guild.ownerId,
      });
      await interaction.waitForResponse({ timeoutMs: WAIT_MS });
    }
  }

  /** How many message events the bot dispatched to its workers so far. */
  #messages(): number {
    return this.#bot.stats().events.message;
  }

  /**
   * One burst: per guild, benign messages, messages with a banned word and `/stats` commands, all
   * at once; resolves when every message was dispatched, every banned one deleted through REST
   * and every command answered. Latency: from the gateway event to the bot's REST call.
   */
  async burst(): Promise<BurstResult> {
    const before = this.#messages();
    const deletions: Array<{ id: string; at: number }> = [];
    const interactions: SimInteraction[] = [];
    let messages = 0;
    for (const guild of this.#sim.guilds as readonly SimGuild[]) {
      const authors = this.#authors.get(guild.id)!;
      const channel = guild.textChannels[0]!.id;
      for (let i = 0; i < BENIGN + BANNED; i++) {
        const author = authors[this.#next++ % authors.length]!;
        const banned = i < BANNED;
        const content = banned ? `get ${BANNED_WORD} here ${++this.#sent}` : `hello number ${++this.#sent}`;
        const at = Date.now();
        const message = this.#sim.emit.messageCreate({ channel, author, content });
        messages++;
        if (banned) deletions.push({ id: message.id, at });
      }
      for (let i = 0; i < COMMANDS; i++) {
        interactions.push(this.#sim.emit.interaction({ command: 'stats', channel, user: guild.ownerId }));
      }
    }
    const latenciesUs: number[] = [];
    await Promise.all(
      deletions.map(async ({ id, at }) => {
        // One DELETE per message, or (the bot coalesces a channel's deletions) a bulk-delete naming it.
        const request = await this.#sim.waitForRequest(
          (r) =>
            (r.method === 'DELETE' && r.params.message_id === id) ||
            (r.method === 'POST' &&
              r.route === '/channels/:channel_id/messages/bulk-delete' &&
              ((r.body as { messages?: unknown[] } | undefined)?.messages ?? []).includes(id)),
          { timeoutMs: WAIT_MS },
        );
        latenciesUs.push((request.time - at) * 1000);
      }),
    );
    let lost = 0;
    await Promise.all(
      interactions.map(async (interaction) => {
        try {
          const response = await interaction.waitForResponse({ timeoutMs: WAIT_MS });
          latenciesUs.push((response.time - interaction.createdAt) * 1000);
        } catch {
          lost++;
        }
      }),
    );
    this.lostInteractions += lost;
    await waitFor(`dispatch ${messages} messages`, () => this.#messages() - before >= messages);
    this.restRequests += this.#sim.requests.length;
    this.rateLimited += this.#sim.requests.filter((r) => r.status === 429).length;
    this.#sim.clearRequests();
    return { events: messages + interactions.length, latenciesUs, lostInteractions: lost };
  }

  async close(): Promise<void> {
    await this.#bot?.close();
    await this.#database?.close();
    await this.#sim?.close();
  }
}

function contender(topology: Topology): ContenderPlan {
  const name = `reference bot, ${topology.name}`;
  return {
    name,
    kind: 'switchyard',
    async start(): Promise<ContenderRun> {
      const harness = new BotHarness();
      try {
        await harness.start(topology);
      } catch (error) {
        await harness.close().catch(() => undefined);
        throw error;
      }
      return {
        async check() {
          const result = await harness.burst();
          if (result.lostInteractions > 0) {
            throw new CheckFailedError(`${name}: ${result.lostInteractions} /stats interactions were never answered`);
          }
        },
        async run(ms): Promise<RunOutput> {
          const deadline = performance.now() + ms;
          let ops = 0;
          const latenciesUs: number[] = [];
          do {
            const result = await harness.burst();
            ops += result.events;
            latenciesUs.push(...result.latenciesUs);
          } while (performance.now() < deadline);
          return { ops, latenciesUs };
        },
        metrics: async () => ({
          lostInteractions: harness.lostInteractions,
          restRequests: harness.restRequests,
          rateLimited429: harness.rateLimited,
        }),
        close: () => harness.close(),
      };
    },
  };
}

/** Scenario 7: discord-sim traffic through the reference bot, end to end. */
export const botScenario: ScenarioFactory = () => ({
  id: 'bot',
  title: 'The reference bot, end to end',
  description:
    `discord-sim (a local Discord gateway + REST) → discord.js → the bot → its workers → REST. Bursts over ${GUILDS} guilds of ` +
    `${BENIGN} benign messages, ${BANNED} with a banned word (each must be deleted) and ${COMMANDS} /stats command (each must be answered) per guild, ` +
    'each burst complete before the next. Latency: gateway event to the bot’s REST call (deletion or interaction callback), ms resolution. ' +
    'Database: in-memory PGlite.',
  groups: [
    {
      id: 'bot',
      title: 'Events handled per second, zero lost interactions',
      kind: 'latency',
      unit: 'events',
      reference: contender(TOPOLOGIES[0]!).name,
      msFactor: 3,
      contenders: TOPOLOGIES.map(contender),
    },
  ],
});
