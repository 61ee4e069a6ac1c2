import { readFileSync } from 'node:fs';

/** CPU time (µs, user + system) this process used so far, all its threads included. */
export function selfCpuUs(): number {
  const used = process.cpuUsage();
  return used.user + used.system;
}

const TICKS_PER_SECOND = 100;

/**
 * CPU time (µs) process `pid` used so far, from `/proc/<pid>/stat` (Linux); 0 where there is no
 * `/proc` or the process is gone, so other systems report this process's CPU only.
 */
export function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident memory (bytes) of process `pid` from `/proc/<pid>/status`; 0 where unknown. */
export function processRssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}
