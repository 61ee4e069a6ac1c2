import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import type { MachineInfo } from './results.js';

/** The machine this process runs on; `loadAfter` is filled in at the end of the run. */
export function machineInfo(loadBefore: readonly number[], loadAfter: readonly number[]): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    totalMemoryBytes: totalmem(),
    platform: process.platform,
    arch: process.arch,
    osRelease: release(),
    node: process.version,
    v8: process.versions.v8,
    loadBefore,
    loadAfter,
  };
}

/** The 1, 5 and 15 minute load averages, rounded to two decimals. */
export function loadAverages(): number[] {
  return loadavg().map((n) => Math.round(n * 100) / 100);
}

/** The checked-out commit (short) and whether the tree has changes; `unknown` outside git. */
export function gitState(cwd: string): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=10', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8' });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
