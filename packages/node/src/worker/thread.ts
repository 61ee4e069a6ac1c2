/**
 * The thread side of `spawnNode(url, { topology: 'thread' })`: piscina's task file. piscina
 * calls {@link handle} with each request; the module's URL arrives as `workerData`.
 * @module
 */
import { workerData } from 'node:worker_threads';
import type { NodeResponse, ThreadWorkerData } from '../protocol/protocol.js';
import { ModuleHost } from './ModuleHost.js';

const host = new ModuleHost((workerData as ThreadWorkerData).url);

/** Answers one request from the main thread (never rejects: failures travel as `{ ok: false }`). */
export function handle(request: unknown): Promise<NodeResponse> {
  return host.handle(request);
}
