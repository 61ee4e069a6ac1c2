import { createHook } from 'node:async_hooks';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

// Start libuv's thread pool now, so that it does not appear in the middle of a count.
await readFile(new URL(import.meta.url));

/** How many OS threads this process runs (Linux): each worker thread is one of them. */
export function osThreads(): number {
  return readdirSync('/proc/self/task').length;
}

/** Async resources that hold the event loop or a thread, as async_hooks names them. */
const WATCHED = new Set(['WORKER', 'MESSAGEPORT', 'Timeout', 'Immediate', 'FILEHANDLE', 'TCPWRAP', 'PIPEWRAP']);

/**
 * Records the watched resources created from now on; `alive()` lists those not destroyed yet
 * (a `why-is-node-running`-style leak check).
 */
export function watchResources(): { alive(): string[]; stop(): void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (WATCHED.has(type)) live.set(id, type);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return { alive: () => [...live.values()], stop: () => hook.disable() };
}
