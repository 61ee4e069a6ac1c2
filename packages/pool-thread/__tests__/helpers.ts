import { fileURLToPath } from 'node:url';
import type { TenantId, WorkerLike } from '@switchyard/core';
import { shardFor } from '@switchyard/core';
import { afterEach } from 'vitest';
import type { ThreadWorkerOptions } from '../src/index.js';
import { ThreadWorker } from '../src/index.js';

/** Absolute path of a fixture module in `__tests__/fixtures/`. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** A guild tenant; `n` picks the creation millisecond, so tenants spread over shards. */
export function guild(n: number): TenantId {
  return { kind: 'guild', id: ((BigInt(1_420_070_400_000 + n) << 22n) | 1n).toString() };
}

/** A guild tenant served by worker `worker` of a pool of `size`. */
export function guildOn(worker: number, size: number, from = 0): TenantId {
  for (let n = from; ; n++) if (shardFor(guild(n).id, size) === worker) return guild(n);
}

/** No restart delay, so crash tests do not wait for the default backoff. */
export const quickRestart = { backoff: () => 0 } as const;

const opened: WorkerLike[] = [];

/** Kills whatever a test left open. */
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((worker) => worker.kill()));
});

/** Remembers `worker` so it is killed after the test. */
export function track<W extends WorkerLike<any, any>>(worker: W): W {
  opened.push(worker);
  return worker;
}

/** Starts a ThreadWorker on the faults fixture (or `options.filename`), killed after the test. */
export async function startWorker(options: Partial<ThreadWorkerOptions> = {}): Promise<ThreadWorker<any, any>> {
  const worker = track(new ThreadWorker<any, any>({ filename: fixture('faults.mjs'), ...options }));
  await worker.ready;
  return worker;
}

/** The next `event` of `emitter`, as a promise. */
export function next<T>(
  emitter: { once(event: string, listener: (value: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, it resolved.');
}
