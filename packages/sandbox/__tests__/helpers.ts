import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KvStore, TenantId, WorkerDefinition, WorkerLike } from '@switchyard/core';
import { defineWorker, LocalWorker, shardFor, WorkerPool } from '@switchyard/core';
import { createProcessPool } from '@switchyard/pool-process';
import { createThreadPool } from '@switchyard/pool-thread';
import { afterEach } from 'vitest';
import type { ScriptEngineOptions } from '../src/index.js';
import { createScriptEngine } from '../src/index.js';

/** Absolute path of a fixture module. */
export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A guild tenant created `ms` after the Discord epoch. */
export function guild(ms: number): TenantId {
  return { kind: 'guild', id: ((BigInt(1_420_070_400_000 + ms) << 22n) | 1n).toString() };
}

/** The `n`-th guild tenant (from 0) served by worker `shard` of `count`. */
export function guildOn(shard: number, count: number, n = 0): TenantId {
  let found = -1;
  for (let ms = 0; ; ms++) {
    const tenant = guild(ms);
    if (shardFor(tenant.id, count) === shard && ++found === n) return tenant;
  }
}

const opened: WorkerLike<any, any>[] = [];

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((worker) => worker.kill()));
});

/** Remembers `worker` so that it is killed after the test. */
export function track<W extends WorkerLike<any, any>>(worker: W): W {
  opened.push(worker);
  return worker;
}

/** The error `promise` rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, it resolved.');
}

/**
 * A LocalWorker whose definition runs scripts with an engine made from `options`. The CPU limit
 * defaults to 2 s here (not 100 ms): the limit counts GC pauses and preemption, and tests that
 * expect success must not fail on a loaded machine.
 */
export function localWorker(options: ScriptEngineOptions = {}, store?: KvStore) {
  const engine = createScriptEngine({ cpuTimeMs: 2000, ...options });
  const worker = new LocalWorker(
    defineWorker({
      createTenant: () => ({}),
      onEvent: (_state, _event: unknown) => engine.stats(),
      scriptEngine: engine,
    }),
    store === undefined ? {} : { store },
  );
  track(worker);
  return { engine, worker };
}

export type Topology = 'local' | 'thread' | 'process';

/** A pool of `workers` running the scripts fixture on `topology`, killed after the test. */
export async function scriptsPool(topology: Topology, workers: number, store?: KvStore): Promise<WorkerLike<any, any>> {
  const storeOption = store === undefined ? {} : { store };
  if (topology === 'thread') {
    return track(await createThreadPool({ workers, filename: fixture('scripts.mjs'), ...storeOption }));
  }
  if (topology === 'process') {
    return track(
      await createProcessPool({
        workers,
        module: fixture('scripts.mjs'),
        hub: { heartbeatMs: 30_000, logger: { info: () => undefined, warn: () => undefined, error: () => undefined } },
        stdio: 'ignore',
        ...storeOption,
      }),
    );
  }
  const { worker } = (await import(pathToFileURL(fixture('scripts.mjs')).href)) as { worker: WorkerDefinition };
  const pool = new WorkerPool(
    Array.from({ length: workers }, (_, id) => new LocalWorker(worker, { id, ...storeOption })),
  );
  return track(pool);
}
