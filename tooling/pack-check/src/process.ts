/**
 * Runs a command with a bound, its stdout and stderr merged in the order it wrote them.
 * @module
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How a command ended. */
export interface RunResult {
  /** The exit code, or `null` when it was killed (by the timeout or a signal). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr together, in the order written (both go to one file). */
  readonly output: string;
  readonly timedOut: boolean;
  readonly ms: number;
}

/** Options of {@link run}. */
export interface RunOptions {
  readonly cwd: string;
  /** @default process.env without the npm_/pnpm_ variables a package manager script sets */
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (with its whole process group) after this long. */
  readonly timeoutMs: number;
}

/**
 * The environment for child commands: this process' own, less what `pnpm run` adds (npm would
 * warn about pnpm's `npm_config_*` settings), without colours.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|FORCE_COLOR$|INIT_CWD$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/**
 * Runs `command args` in its own process group. Both output streams go to one file, so the merged
 * output keeps the order a terminal would show. When the command exits, whatever it left running
 * in its group is killed; on timeout the whole group is.
 */
export async function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'pack-check-run-'));
  const file = join(scratch, 'output');
  const fd = openSync(file, 'w');
  const started = performance.now();
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
      },
    ).finally(() => clearTimeout(timer));
    killGroup();
    return { code, signal, output: readFileSync(file, 'utf8'), timedOut, ms: performance.now() - started };
  } finally {
    closeSync(fd);
    rmSync(scratch, { recursive: true, force: true });
  }
}
