import { InvalidSimOptionError } from '../errors/errors.js';
import type { SimEngine } from '../sim/SimEngine.js';
import type { GuildState } from '../world/GuildState.js';
import type { ApiCommandOptionDefinition, ApiUser } from '../world/types.js';
import type { GuildRef } from './resolve.js';
import { resolveGuild } from './resolve.js';
import type { ScenarioEvents } from './ScenarioEvents.js';

/** The kinds of event `sim.traffic()` generates. */
export type TrafficEventKind =
  'messageCreate' | 'messageUpdate' | 'messageDelete' | 'memberAdd' | 'memberRemove' | 'interaction';

/** Options of `sim.traffic()`. */
export interface TrafficOptions {
  /** Which guilds get events (round robin, so every shard gets its share), or how many of the first guilds. @default every guild */
  guilds?: readonly GuildRef[] | number;
  /** Target rate. @default 100 */
  eventsPerSecond?: number;
  /** How long to run; `Infinity` runs until `stop()`. @default Infinity */
  durationMs?: number;
  /** Relative weights of the event kinds. @default { messageCreate: 85, messageDelete: 4, messageUpdate: 2, memberAdd: 3, memberRemove: 3, interaction: 3 } */
  mix?: Partial<Record<TrafficEventKind, number>>;
  /** Message contents to pick from. @default a mix of chatter, links, mentions and obvious spam */
  contents?: readonly string[];
  /** The slash command `interaction` events run. @default the first registered global command, else `ping` */
  command?: string;
  /** Stops the run when aborted (`done` then resolves with the stats so far). @default none */
  signal?: AbortSignal;
}

/** What a traffic run did. */
export interface TrafficStats {
  /** Events generated. */
  readonly sent: number;
  readonly byKind: Readonly<Record<TrafficEventKind, number>>;
  /** Dispatches that reached a gateway session (an event reaches every session of its shard). */
  readonly delivered: number;
  readonly elapsedMs: number;
  /** `sent` per second of `elapsedMs`. */
  readonly eventsPerSecond: number;
}

/** A running traffic generator. */
export interface TrafficRun {
  /** Resolves when `durationMs` has passed, `stop()` was called, the signal aborted or the simulator closed. */
  readonly done: Promise<TrafficStats>;
  /** Stops generating; resolves with the final stats. */
  stop(): Promise<TrafficStats>;
  /** The stats so far. */
  stats(): TrafficStats;
}

const KINDS: readonly TrafficEventKind[] = [
  'messageCreate',
  'messageUpdate',
  'messageDelete',
  'memberAdd',
  'memberRemove',
  'interaction',
];
const DEFAULT_MIX: Record<TrafficEventKind, number> = {
  messageCreate: 85,
  messageUpdate: 2,
  messageDelete: 4,
  memberAdd: 3,
  memberRemove: 3,
  interaction: 3,
};
const DEFAULT_CONTENTS = [
  'hello everyone',
  'gm',
  'anyone up for a game tonight?',
  'lol',
  'did you see the patch notes?',
  'brb',
  'that build is so broken',
  'check this out https://example.com/clip/123',
  'FREE NITRO https://discord-gift.example/claim',
  'buy cheap followers at http://spam.example',
  'thanks!',
  'can a mod help me with a role?',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'what time is the event?',
];
const TICK_MS = 10;
const RECENT = 256;

interface RecentMessage {
  guild: GuildState;
  channelId: string;
  messageId: string;
}

/** Generates a steady mix of events at a target rate, spread over guilds (and so over shards). */
export class Traffic implements TrafficRun {
  readonly done: Promise<TrafficStats>;
  readonly #engine: SimEngine;
  readonly #events: ScenarioEvents;
  readonly #guilds: GuildState[];
  readonly #rate: number;
  readonly #durationMs: number;
  readonly #cumulative: number[];
  readonly #contents: readonly string[];
  readonly #command: string;
  readonly #signal: AbortSignal | undefined;
  readonly #byKind: Record<TrafficEventKind, number> = {
    messageCreate: 0,
    messageUpdate: 0,
    messageDelete: 0,
    memberAdd: 0,
    memberRemove: 0,
    interaction: 0,
  };
  readonly #recent: RecentMessage[] = [];
  readonly #joined: { guild: GuildState; userId: string }[] = [];
  readonly #onAbort = (): void => this.#finish();
  #resolve!: (stats: TrafficStats) => void;
  #timer: NodeJS.Timeout | null = null;
  #start = 0;
  #end: number | null = null;
  #sent = 0;
  #delivered = 0;
  #guildCursor = 0;

  constructor(engine: SimEngine, events: ScenarioEvents, options: TrafficOptions) {
    this.#engine = engine;
    this.#events = events;
    const rate = options.eventsPerSecond ?? 100;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)
      throw new InvalidSimOptionError(`Expected \`eventsPerSecond\` to be a finite number > 0, got ${String(rate)}.`);
    const durationMs = options.durationMs ?? Number.POSITIVE_INFINITY;
    if (typeof durationMs !== 'number' || Number.isNaN(durationMs) || durationMs < 0)
      throw new InvalidSimOptionError(
        `Expected \`durationMs\` to be a number >= 0 or Infinity, got ${String(durationMs)}.`,
      );
    this.#rate = rate;
    this.#durationMs = durationMs;

    const { world } = engine;
    const guilds = options.guilds;
    if (guilds === undefined) this.#guilds = [...world.guildList];
    else if (typeof guilds === 'number') this.#guilds = world.guildList.slice(0, guilds);
    else this.#guilds = guilds.map((guild) => resolveGuild(world, guild));
    if (this.#guilds.length === 0)
      throw new InvalidSimOptionError('Expected `guilds` to select at least one guild, got none.');

    const mix = {
      ...DEFAULT_MIX,
      ...(options.mix === undefined ? {} : Object.fromEntries(KINDS.map((kind) => [kind, options.mix?.[kind] ?? 0]))),
    };
    let total = 0;
    this.#cumulative = KINDS.map((kind) => {
      const weight = mix[kind];
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
        throw new InvalidSimOptionError(`Expected \`mix.${kind}\` to be a finite number >= 0, got ${String(weight)}.`);
      total += weight;
      return total;
    });
    if (total <= 0) throw new InvalidSimOptionError('Expected `mix` to give at least one event kind a weight > 0.');
    this.#cumulative = this.#cumulative.map((value) => value / total);
    this.#contents = options.contents ?? DEFAULT_CONTENTS;
    if (this.#contents.length === 0)
      throw new InvalidSimOptionError('Expected `contents` to hold at least one string.');
    this.#command = options.command ?? world.globalCommands.values().next().value?.name ?? 'ping';
    this.#signal = options.signal;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Starts the clock; the first events go out on the first tick. */
  start(): this {
    this.#start = performance.now();
    if (this.#signal?.aborted) {
      this.#finish();
      return this;
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
    return this;
  }

  #tick(): void {
    const elapsed = Math.min(performance.now() - this.#start, this.#durationMs);
    // Catch up at most one second's worth after a stall, rather than bursting without bound.
    const due = Math.min(Math.floor((elapsed * this.#rate) / 1000) - this.#sent, Math.ceil(this.#rate));
    for (let i = 0; i < due; i++) this.#one();
    if (elapsed >= this.#durationMs) this.#finish();
  }

  #one(): void {
    const roll = this.#engine.world.prng.next();
    let index = 0;
    while (index < KINDS.length - 1 && roll >= (this.#cumulative[index] as number)) index++;
    const guild = this.#guilds[this.#guildCursor] as GuildState;
    this.#guildCursor = (this.#guildCursor + 1) % this.#guilds.length;
    let kind = KINDS[index] as TrafficEventKind;
    let delivered: number;
    switch (kind) {
      case 'messageDelete':
      case 'messageUpdate': {
        const recent = this.#takeRecent(kind === 'messageDelete');
        if (recent) {
          delivered =
            kind === 'messageDelete'
              ? this.#engine.publishMessageDelete(recent.channelId, recent.messageId, recent.guild)
              : this.#update(recent);
          break;
        }
        kind = 'messageCreate';
        delivered = this.#message(guild);
        break;
      }
      case 'memberAdd': {
        const member = this.#engine.world.addMember(guild, {}, Date.now());
        this.#joined.push({ guild, userId: member.user.id });
        delivered = this.#engine.publishMemberAdd(guild, member);
        break;
      }
      case 'memberRemove': {
        const removed = this.#removeMember(guild);
        if (removed === null) {
          kind = 'messageCreate';
          delivered = this.#message(guild);
        } else {
          delivered = removed;
        }
        break;
      }
      case 'interaction':
        delivered = this.#interaction(guild);
        break;
      default:
        delivered = this.#message(guild);
    }
    this.#byKind[kind]++;
    this.#sent++;
    this.#delivered += delivered;
  }

  #message(guild: GuildState): number {
    const { world } = this.#engine;
    const channels = guild.textChannels;
    if (channels.length === 0 || guild.humanIds.length === 0) return 0;
    const channel = world.prng.pick(channels);
    const author = world.users.get(world.prng.pick(guild.humanIds)) as ApiUser;
    const message = world.createMessage({ channel, guild, author, content: world.prng.pick(this.#contents) });
    if (this.#recent.length >= RECENT)
      this.#recent[world.prng.int(RECENT)] = { guild, channelId: channel.id, messageId: message.id };
    else this.#recent.push({ guild, channelId: channel.id, messageId: message.id });
    return this.#engine.publishMessage(message, guild);
  }

  #takeRecent(remove: boolean): RecentMessage | undefined {
    const recent = this.#recent;
    while (recent.length > 0) {
      const index = this.#engine.world.prng.int(recent.length);
      const candidate = recent[index] as RecentMessage;
      const alive = this.#engine.world.getMessage(candidate.channelId, candidate.messageId) !== undefined;
      if (remove || !alive) {
        recent[index] = recent[recent.length - 1] as RecentMessage;
        recent.pop();
      }
      if (alive) return candidate;
    }
    return undefined;
  }

  #update(recent: RecentMessage): number {
    const message = this.#engine.world.getMessage(recent.channelId, recent.messageId);
    if (!message) return 0;
    message.content = `${message.content} (edited)`;
    message.edited_timestamp = new Date().toISOString().replace('Z', '+00:00');
    return this.#engine.publishMessageUpdate(message, recent.guild);
  }

  /** Removes a member this run added (and forgets its user), else any member but the owner and bots. */
  #removeMember(guild: GuildState): number | null {
    const { world } = this.#engine;
    const joined = this.#joined.shift();
    if (joined) {
      const member = joined.guild.removeMember(joined.userId);
      if (!member) return null;
      world.users.delete(joined.userId);
      return this.#engine.publishMemberRemove(joined.guild, member.user);
    }
    const candidates = guild.humanIds.filter((id) => id !== guild.ownerId);
    if (candidates.length === 0) return null;
    const member = guild.removeMember(world.prng.pick(candidates));
    return member ? this.#engine.publishMemberRemove(guild, member.user) : null;
  }

  #interaction(guild: GuildState): number {
    const { world } = this.#engine;
    if (guild.textChannels.length === 0 || guild.humanIds.length === 0) return 0;
    const command = [...guild.commands.values(), ...world.globalCommands.values()].find(
      (candidate) => candidate.name === this.#command && candidate.type === 1,
    );
    const options: Record<string, string | number | boolean> = {};
    for (const option of command?.options ?? []) {
      if (option.required === true) {
        const value = this.#optionValue(guild, option);
        if (value !== undefined) options[option.name] = value;
      }
    }
    this.#events.interaction({ command: this.#command, guild, channel: world.prng.pick(guild.textChannels), options });
    return this.#events.lastDelivered;
  }

  #optionValue(guild: GuildState, option: ApiCommandOptionDefinition): string | number | boolean | undefined {
    const { prng } = this.#engine.world;
    switch (option.type) {
      case 3:
        return 'generated by discord-sim';
      case 4:
        return 1;
      case 5:
        return false;
      case 6:
      case 9:
        return prng.pick(guild.humanIds);
      case 7:
        return prng.pick(guild.textChannels).id;
      case 8:
        return prng.pick(guild.roles).id;
      case 10:
        return 1.5;
      default:
        return undefined;
    }
  }

  stats(): TrafficStats {
    const elapsedMs = (this.#end ?? performance.now()) - this.#start;
    return {
      sent: this.#sent,
      byKind: { ...this.#byKind },
      delivered: this.#delivered,
      elapsedMs,
      eventsPerSecond: elapsedMs > 0 ? (this.#sent * 1000) / elapsedMs : 0,
    };
  }

  #finish(): void {
    if (this.#end !== null) return;
    this.#end = performance.now();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#resolve(this.stats());
  }

  stop(): Promise<TrafficStats> {
    this.#finish();
    return this.done;
  }
}
