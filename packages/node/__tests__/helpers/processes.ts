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
