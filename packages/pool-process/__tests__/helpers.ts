import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { TenantId } from '@switchyard/core';
import { shardFor } from '@switchyard/core';
import { afterEach } from 'vitest';
import type { Logger } from '../src/index.js';

/** Absolute path of a fixture file. */
export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A logger that drops everything. */
export const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  details: Record<string, unknown> | undefined;
}

/** A logger that keeps every line, and can wait for one. */
export function recordingLogger(): Logger & {
  lines: LogLine[];
  next(match: (line: LogLine) => boolean): Promise<LogLine>;
} {
  const lines: LogLine[] = [];
  const waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  const add = (level: LogLine['level']) => (message: string, details?: Record<string, unknown>) => {
    const line = { level, message, details };
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  return {
    lines,
    info: add('info'),
    warn: add('warn'),
    error: add('error'),
    next: (match) => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/** A guild tenant created at `ms` after the Discord epoch (distinct ms spread over shards). */
export function guild(ms: number, low = 1): TenantId {
  return { kind: 'guild', id: ((BigInt(1_420_070_400_000 + ms) << 22n) | BigInt(low)).toString() };
}

/** The `n`-th guild tenant (from 0) that lands on worker `shard` of `count`. */
export function tenantOn(shard: number, count: number, n = 0): TenantId {
  let found = -1;
  for (let ms = 0; ; ms++) {
    const tenant = guild(ms);
    if (shardFor(tenant.id, count) === shard && ++found === n) return tenant;
  }
}

/** True while a process with this pid exists (zombies included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Waits until `predicate()` holds. Only for what no event can tell us about (processes that are
 * not our children); everything else awaits its event.
 */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Resolves with the exit code (or signal) of a child process. */
export async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}

/** Registers things to stop after each test, whether it passed or not. */
export function useCleanup(): <T extends { kill(): unknown } | { close(): unknown } | ChildProcess>(thing: T) => T {
  const things: Array<{ kill(): unknown } | { close(): unknown } | ChildProcess> = [];
  afterEach(async () => {
    const stopping = things.splice(0).reverse();
    for (const thing of stopping) {
      try {
        if ('pid' in thing && typeof (thing as ChildProcess).kill === 'function' && 'stdio' in thing) {
          const child = thing as ChildProcess;
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
            await exitOf(child);
          }
        } else if ('kill' in thing) {
          await thing.kill();
        } else {
          await thing.close();
        }
      } catch {
        // Already stopped.
      }
    }
  });
  return (thing) => {
    things.push(thing);
    return thing;
  };
}

/** Pids of this process's live children whose command line contains `pattern`. */
export function childPids(pattern: string): number[] {
  // ps is the only way to see children we did not spawn ourselves (a pool's).
  const out = execFileSync('ps', ['-o', 'pid=,stat=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length >= 3 && !parts[1]!.startsWith('Z') && parts.slice(2).join(' ').includes(pattern))
    .map((parts) => Number(parts[0]));
}
