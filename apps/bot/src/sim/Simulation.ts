import type {
  DiscordSim,
  GuildSpec,
  SimGuild,
  SimInteraction,
  TrafficRun,
  TrafficStats,
} from '@switchyard/discord-sim';
import { DEFAULT_BOT_PERMISSIONS, Permission, startDiscordSim } from '@switchyard/discord-sim';
import { BotConfigError } from '../errors/errors.js';

/** Options of {@link Simulation.start}. */
export interface SimulationOptions {
  /**
   * How many guilds the simulated Discord has.
   * @default 3
   */
  guilds?: number;
  /**
   * Generated events per second over all guilds (messages, edits, deletions, joins, departures).
   * @default 20
   */
  eventsPerSecond?: number;
  /**
   * How often a member of some guild floods a channel (enough messages to be timed out) and its
   * owner runs `/stats`; 0 never.
   * @default 2000
   */
  spamEveryMs?: number;
  /**
   * Members per guild (besides the bot).
   * @default 20
   */
  membersPerGuild?: number;
  /**
   * Seed of the generated world and traffic.
   * @default 1
   */
  seed?: number;
}

/** 2020-01-01 in milliseconds since the Discord epoch: where the simulated guilds' ids start. */
const FIRST_GUILD_MS = 157_766_400_000n;

const GUILD_NAMES = [
  'Switchyard HQ',
  'Speedrunners',
  'Book Club',
  'Pixel Art',
  'Night Owls',
  'Synth Lab',
  'Trail Runners',
  'Chess Corner',
];

/**
 * The template the simulation installs in every guild through `/template add`, as the guild's
 * owner: on each join it posts a line (through the sandbox, the action runner and the audit path).
 */
export const SIMULATED_TEMPLATE = Object.freeze({
  name: 'greet-newcomers',
  events: 'memberJoin',
  code: 'if (event.bot) return null;\nreturn { type: "sendMessage", content: `A template says hi to ${event.username}.` };',
});

/** Words the simulation bans in every guild through `/config add-word`, as the guild's owner; the default traffic contains both. */
export const SIMULATED_BANNED_WORDS: readonly string[] = ['free nitro', 'cheap followers'];

function check(name: string, value: unknown, min: number, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new BotConfigError(
      `Expected \`${name}\` to be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(value)}.`,
    );
  }
  return value;
}

/**
 * What `node dist/main.js` runs against without a token: a `@switchyard/discord-sim` with a few
 * guilds, and, once the bot is ready ({@link Simulation.begin}), life in them: the guild owners
 * ban some words with `/config`, `sim.traffic()` generates a steady mix of events, and every
 * `spamEveryMs` a member floods a channel and the guild's owner runs `/stats`.
 */
export class Simulation {
  readonly sim: DiscordSim;
  readonly #eventsPerSecond: number;
  readonly #spamEveryMs: number;
  #traffic: TrafficRun | undefined;
  #spamTimer: NodeJS.Timeout | undefined;
  #spamRound = 0;
  #bursts = 0;
  readonly #interactions: SimInteraction[] = [];

  private constructor(sim: DiscordSim, eventsPerSecond: number, spamEveryMs: number) {
    this.sim = sim;
    this.#eventsPerSecond = eventsPerSecond;
    this.#spamEveryMs = spamEveryMs;
  }

  /** Starts the simulated Discord on loopback. */
  static async start(options: SimulationOptions = {}): Promise<Simulation> {
    const guilds = check('guilds', options.guilds ?? 3, 1, true);
    const eventsPerSecond = check('eventsPerSecond', options.eventsPerSecond ?? 20, 0.1, false);
    const spamEveryMs = check('spamEveryMs', options.spamEveryMs ?? 2000, 0, false);
    const members = check('membersPerGuild', options.membersPerGuild ?? 20, 2, true);
    const seed = check('seed', options.seed ?? 1, 0, true);
    const specs: GuildSpec[] = Array.from({ length: guilds }, (_, i) => ({
      // Consecutive creation times: shardFor(id, n) deals the guilds round robin over any n workers.
      id: ((FIRST_GUILD_MS + BigInt(i)) << 22n).toString(),
      name:
        GUILD_NAMES[i % GUILD_NAMES.length]! +
        (i >= GUILD_NAMES.length ? ` ${Math.floor(i / GUILD_NAMES.length) + 1}` : ''),
      channels: ['welcome', 'general', 'off-topic', 'memes'],
      members,
    }));
    // The permissions the bot's invitation asks for (see the README), Manage Server included: the bulk ban needs it.
    const botPermissions = DEFAULT_BOT_PERMISSIONS | Permission.ManageGuild;
    return new Simulation(await startDiscordSim({ guilds: specs, seed, botPermissions }), eventsPerSecond, spamEveryMs);
  }

  /** How many floods were sent. */
  get bursts(): number {
    return this.#bursts;
  }

  /**
   * The slash commands the simulation sent, and how many of them have no callback (the bot never
   * answered, or answered after Discord's 3 s, which the simulator refuses with 10062).
   */
  interactions(): { sent: number; unanswered: number } {
    const unanswered = this.#interactions.filter(
      (interaction) => !interaction.responses.some((response) => response.kind === 'callback'),
    ).length;
    return { sent: this.#interactions.length, unanswered };
  }

  /** Once the bot is ready (its commands registered): banned words, the example template, traffic and floods. */
  begin(): void {
    if (this.#traffic !== undefined) return;
    for (const guild of this.sim.guilds) {
      for (const word of SIMULATED_BANNED_WORDS) {
        this.#interaction({
          command: 'config',
          subcommand: 'add-word',
          options: { word },
          guild: guild.id,
          user: guild.ownerId,
        });
      }
      this.#interaction({
        command: 'template',
        subcommand: 'add',
        options: { ...SIMULATED_TEMPLATE },
        guild: guild.id,
        user: guild.ownerId,
      });
    }
    // Slash commands come from the guild owners in #flood (owners never leave): with the traffic's
    // own interactions, a member the traffic removes before the bot answers leaves discord-sim
    // without the user for the reply's interaction_metadata, which discord.js cannot parse.
    this.#traffic = this.sim.traffic({
      eventsPerSecond: this.#eventsPerSecond,
      mix: { messageCreate: 85, messageUpdate: 2, messageDelete: 4, memberAdd: 3, memberRemove: 3, interaction: 0 },
    });
    if (this.#spamEveryMs > 0) {
      this.#spamTimer = setInterval(() => this.#flood(), this.#spamEveryMs);
      this.#spamTimer.unref();
    }
  }

  /** Stops the traffic and the floods; resolves with the traffic's stats. */
  async stop(): Promise<TrafficStats | undefined> {
    if (this.#spamTimer !== undefined) clearInterval(this.#spamTimer);
    this.#spamTimer = undefined;
    return this.#traffic?.stop();
  }

  /** Stops everything and closes the simulated Discord. */
  async close(): Promise<void> {
    await this.stop();
    await this.sim.close();
  }

  /** A member of the next guild (round robin) posts six messages at once, and the guild's owner asks for /stats. */
  #flood(): void {
    if (this.sim.closed) return;
    const guilds = this.sim.guilds;
    const guild = guilds[this.#spamRound % guilds.length] as SimGuild;
    const candidates = [...guild.members.values()].filter(
      (member) => !member.user.bot && member.user.id !== guild.ownerId,
    );
    const spammer = candidates[Math.floor(this.#spamRound / guilds.length) % Math.max(1, candidates.length)];
    this.#spamRound++;
    if (spammer === undefined) return;
    const channel = guild.textChannels[1] ?? guild.textChannels[0];
    if (channel === undefined) return;
    for (let i = 0; i < 6; i++) {
      this.sim.emit.messageCreate({
        channel: channel.id,
        author: spammer.user.id,
        content: `JOIN MY SERVER discord.gg/totally-legit (${i + 1})`,
      });
    }
    this.#bursts++;
    this.#interaction({ command: 'stats', channel: channel.id, user: guild.ownerId });
  }

  #interaction(options: Parameters<DiscordSim['emit']['interaction']>[0]): void {
    this.#interactions.push(this.sim.emit.interaction(options));
  }
}
