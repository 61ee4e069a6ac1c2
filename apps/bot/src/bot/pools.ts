import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KvStore, WorkerLike } from '@switchyard/core';
import { findWorkerDefinition, LocalWorker, WorkerPool } from '@switchyard/core';
import { createProcessPool } from '@switchyard/pool-process';
import { createThreadPool } from '@switchyard/pool-thread';
import type { BotEvent, Decision } from '../protocol.js';
import type { BotTopology } from './config.js';
import type { BotLogger } from './logger.js';

/** One of the bot's workers, whatever the topology. */
export type BotWorker = WorkerLike<BotEvent, Decision>;

/** The pool of workers the bot dispatches to, sharded by guild. */
export type BotPool = WorkerPool<BotWorker>;

/** What {@link createBotPool} needs. */
export interface BotPoolOptions {
  readonly topology: BotTopology;
  readonly workers: number;
  /** The worker module (a `defineWorker` definition exported as `worker`). */
  readonly workerFilename: string | URL;
  /** The workers' `ctx.kv`, served from the main thread. */
  readonly store: KvStore;
  /** Where the process topology's hub reports connections and refusals. */
  readonly logger: BotLogger;
}

function toUrl(file: string | URL): URL {
  return typeof file === 'string' ? (file.startsWith('file:') ? new URL(file) : pathToFileURL(file)) : file;
}

/**
 * Starts the bot's workers: worker threads (`@switchyard/pool-thread`), worker processes
 * (`@switchyard/pool-process`, whose environment holds only the variables it inherits by default,
 * so neither the token nor the database credentials), or `LocalWorker`s in this thread.
 */
export async function createBotPool(options: BotPoolOptions): Promise<BotPool> {
  const { topology, workers, workerFilename, store, logger } = options;
  switch (topology) {
    case 'thread':
      return (await createThreadPool({ workers, filename: workerFilename, store })) as unknown as BotPool;
    case 'process':
      return (await createProcessPool<BotEvent, Decision>({
        workers,
        module: fileURLToPath(toUrl(workerFilename)),
        store,
        hub: {
          logger: {
            info: (message) => logger.info(`hub: ${message}`),
            warn: (message) => logger.warn(`hub: ${message}`),
            error: (message) => logger.error(`hub: ${message}`),
          },
        },
      })) as unknown as BotPool;
    case 'local': {
      const url = toUrl(workerFilename);
      const definition = findWorkerDefinition((await import(url.href)) as Record<string, unknown>, url.href);
      return WorkerPool.create(workers, (id) => new LocalWorker(definition, { id, store })) as Promise<BotPool>;
    }
  }
}
