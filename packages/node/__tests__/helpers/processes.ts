import { readFileSync } from 'node:fs';

/**
 * True while the process `pid` runs. A zombie counts as ended: in containers whose init does
 * not reap orphans, a process that exited after its parent died stays a zombie.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (error) {
    // No /proc (macOS): kill(pid, 0) succeeded, so it runs. ENOENT: it just went away.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * Resolves true once the process `pid` (not a child of this one: no 'exit' event to wait for) has
 * ended, false if it still runs after `timeoutMs`. A process may close its stdio a moment before it
 * is gone.
 */
export async function ended(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
