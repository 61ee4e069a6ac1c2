import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

/**
 * Remembers a spawned worker process so that it is killed when the master exits (normally or
 * through `process.exit()`). A master killed with SIGKILL runs no code: its children notice the
 * closed parent pipe and their lost connection and exit on their own.
 * @internal
 */
export function trackChild(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', killAll);
  }
  live.add(child);
}

/** Forgets a worker process that exited. @internal */
export function untrackChild(child: ChildProcess): void {
  live.delete(child);
}
