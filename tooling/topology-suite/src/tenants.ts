import type { TenantId } from '@switchyard/core';
import { shardFor } from '@switchyard/core';

/** Guild ids created at different milliseconds, so they spread over shards. */
export function guild(ms: number, low = 1): TenantId {
  return { kind: 'guild', id: ((BigInt(1_420_070_400_000 + ms) << 22n) | BigInt(low)).toString() };
}

/** A guild served by worker `index` of a pool of `size`. */
export function guildOn(index: number, size: number): TenantId {
  for (let ms = 0; ; ms++) if (shardFor(guild(ms).id, size) === index) return guild(ms);
}
