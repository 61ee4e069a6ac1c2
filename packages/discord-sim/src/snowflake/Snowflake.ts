/** Milliseconds since the Unix epoch of the first second of 2015, Discord's snowflake epoch. */
export const DISCORD_EPOCH = 1_420_070_400_000;

const SNOWFLAKE_PATTERN = /^\d{17,20}$/;

/** Whether `value` looks like a Discord snowflake (a decimal string of 17 to 20 digits). */
export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && SNOWFLAKE_PATTERN.test(value);
}

/** The Unix time in milliseconds encoded in a snowflake. */
export function snowflakeTimestamp(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH;
}

/**
 * The shard that receives a guild's events: `(guild_id >> 22) % shard_count`, as Discord computes it.
 *
 * @example
 * ```ts
 * shardIdForGuild('81384788765712384', 2); // 0 or 1
 * ```
 */
export function shardIdForGuild(guildId: string, shardCount: number): number {
  return Number(BigInt(guildId) >> 22n) % shardCount;
}

/**
 * Generates snowflakes the way Discord does: 42 bits of milliseconds since {@link DISCORD_EPOCH},
 * 5 bits of worker id, 5 bits of process id and a 12-bit increment.
 */
export class SnowflakeGenerator {
  readonly #workerBits: bigint;
  #increment = 0;

  constructor(workerId = 1, processId = 0) {
    this.#workerBits = (BigInt(workerId & 0x1f) << 17n) | (BigInt(processId & 0x1f) << 12n);
  }

  /** A new snowflake whose timestamp is `timestampMs` (Unix milliseconds, default now). */
  next(timestampMs: number = Date.now()): string {
    const increment = this.#increment;
    this.#increment = (increment + 1) & 0xfff;
    const elapsed = BigInt(Math.max(0, Math.floor(timestampMs) - DISCORD_EPOCH));
    return ((elapsed << 22n) | this.#workerBits | BigInt(increment)).toString();
  }
}
