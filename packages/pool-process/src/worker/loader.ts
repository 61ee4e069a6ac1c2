/**
 * A generic worker entry: `SWITCHYARD_WORKER_MODULE=/path/to/definition.js node loader.js --worker-id 0`.
 * It imports the module, finds its `defineWorker()` definition (its default export, an export named
 * `worker`, or its only definition) and runs it with `runWorkerProcess`. `createProcessPool({ module })`
 * spawns it.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findWorkerDefinition } from '@switchyard/core';
import { ENV_MODULE } from '../protocol/protocol.js';
import { runWorkerProcess } from './runWorkerProcess.js';

const target = process.env[ENV_MODULE];
if (target === undefined || target.length === 0) {
  console.error(`[switchyard loader] ${ENV_MODULE} must name the module that exports the worker definition.`);
  process.exit(2);
}
const specifier = target.startsWith('file:') || !isAbsolute(target) ? target : pathToFileURL(target).href;
const module = (await import(specifier)) as Record<string, unknown>;
runWorkerProcess(findWorkerDefinition(module, target));
