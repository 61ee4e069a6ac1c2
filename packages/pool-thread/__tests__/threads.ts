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
 * Records the watched resources created from now on (a `why-is-node-running`-style leak check).
 * `leftovers()` stops recording new ones and lists those not destroyed.
 */
export function watchResources(): { leftovers(): Promise<string[]>; stop(): void } {
  const live = new Map<number, string>();
  let recording = true;
  const hook = createHook({
    init(id, type) {
      if (recording && WATCHED.has(type)) live.set(id, type);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return {
    async leftovers() {
      recording = false;
      // Node destroys a Worker's native handle and its ports a turn or two after `exit`: wait for
      // those destroy hooks (bounded in turns, not time); a real leak never gets them.
      for (let turn = 0; turn < 100 && live.size > 0; turn++)
        await new Promise<void>((resolve) => setImmediate(resolve));
      return [...live.values()];
    },
    stop: () => hook.disable(),
  };
}
