import { bounded, runCheck } from './checks.js';
import { processCpuUs, selfCpuUs } from './cpu.js';
import type { BenchError } from './errors.js';
import { RunTimeoutError } from './errors.js';
import type { ContenderRecord, GroupRecord, Histogram, RoundRecord, ScenarioRecord } from './results.js';
import type { ContenderPlan, ContenderRun, GroupPlan, RunOutput, ScenarioPlan } from './Scenario.js';
import type { Spread } from './stats.js';
import { percentiles, rotation, roundRatios, spread } from './stats.js';

/** How a group is run. */
export interface RunSettings {
  /** Timed rounds per contender. */
  readonly rounds: number;
  /** Length of one timed run (ms), times the group's `msFactor`. */
  readonly ms: number;
  /** Length of the untimed warm-up run each contender makes first. */
  readonly warmupMs: number;
  /** Bound of one answer check. */
  readonly checkTimeoutMs: number;
}

/** Bound of a contender's `close()`: one that takes longer is reported and left behind. */
export const CLOSE_BOUND_MS = 5_000;

/** Bound of one run of `ms`: far above what a working contender takes, on a loaded machine too. */
export const runBoundMs = (ms: number): number => Math.max(30_000, 20 * ms);

const boundedRun = (live: Live, ms: number): Promise<RunOutput> =>
  bounded(
    live.run.run(ms),
    runBoundMs(ms),
    () =>
      new RunTimeoutError(
        `${live.plan.name} did not finish a ${ms} ms run within ${runBoundMs(ms)} ms (an answer was lost or it stalled).`,
      ),
  );

/** Where the runner reports what it is doing (the live progress display). */
export interface ProgressSink {
  group(scenario: ScenarioPlan, group: GroupPlan): void;
  step(label: string, plannedMs: number): void;
  log(line: string): void;
}

interface Live {
  readonly plan: ContenderPlan;
  readonly run: ContenderRun;
  readonly rounds: RoundRecord[];
  readonly samples: number[];
  metrics?: Record<string, number>;
}

/** Log-scale bucket bounds for latency histograms: 8 per decade from 1 µs to 10 s. */
export const HISTOGRAM_BOUNDS_US: readonly number[] = Array.from({ length: 7 * 8 + 1 }, (_, i) =>
  Number((10 ** (i / 8)).toPrecision(3)),
);

/** Buckets `samples` (µs) over {@link HISTOGRAM_BOUNDS_US}; the last bucket also holds what is above it. */
export function histogram(samples: ArrayLike<number>): Histogram {
  const counts = new Array<number>(HISTOGRAM_BOUNDS_US.length).fill(0);
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i]!;
    let bucket = HISTOGRAM_BOUNDS_US.findIndex((bound) => value <= bound);
    if (bucket === -1) bucket = counts.length - 1;
    counts[bucket]!++;
  }
  return { boundsUs: HISTOGRAM_BOUNDS_US, counts };
}

const asError = (error: unknown): { code: string; message: string } => ({
  code: typeof (error as BenchError)?.code === 'string' ? (error as BenchError).code : 'ERR_UNKNOWN',
  message: error instanceof Error ? error.message : String(error),
});

const finiteSpread = (values: ReadonlyArray<number | null>): Spread | null => {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length === 0 ? null : spread(finite);
};

async function timedRun(live: Live, ms: number, round: number, position: number): Promise<RoundRecord> {
  const pids = live.run.pids?.() ?? [];
  const cpuBefore = selfCpuUs() + pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
  const started = performance.now();
  const output = await boundedRun(live, ms);
  const wallMs = performance.now() - started;
  const cpuUs = selfCpuUs() + pids.reduce((sum, pid) => sum + processCpuUs(pid), 0) - cpuBefore;
  const record: RoundRecord = {
    round,
    position,
    ops: output.ops,
    wallMs,
    cpuUs,
    perSecond: (output.ops * 1000) / wallMs,
    cpuUsPerOp: output.ops > 0 ? cpuUs / output.ops : null,
    ...(output.latenciesUs === undefined ? {} : { latencyUs: percentiles(output.latenciesUs) }),
  };
  if (output.latenciesUs !== undefined) {
    for (let i = 0; i < output.latenciesUs.length; i++) live.samples.push(output.latenciesUs[i]!);
  }
  return record;
}

/**
 * Runs one group: starts each contender, checks its answer, warms every one up, then runs
 * `rounds` rounds in which each contender runs once, in an order rotated every round, and closes
 * them. A contender whose start or check fails is recorded as failed (with the error) and not
 * timed; the others go on.
 */
export async function runGroup(group: GroupPlan, settings: RunSettings, progress: ProgressSink): Promise<GroupRecord> {
  const ms = settings.ms * (group.msFactor ?? 1);
  const warmupMs = settings.warmupMs * (group.msFactor ?? 1);
  const failed = new Map<ContenderPlan, { code: string; message: string }>();
  const alive: Live[] = [];
  /** Takes a contender out after a failed run: closed, its rounds dropped, recorded as failed. */
  const drop = async (live: Live, error: unknown): Promise<void> => {
    alive.splice(alive.indexOf(live), 1);
    failed.set(live.plan, asError(error));
    progress.log(`✗ ${group.title} / ${live.plan.name}: ${asError(error).message}`);
    await bounded(live.run.close(), CLOSE_BOUND_MS, () => new Error('close timed out')).catch(() => undefined);
  };
  try {
    for (const plan of group.contenders) {
      progress.step(`starting ${plan.name}`, 0);
      let run: ContenderRun | undefined;
      try {
        run = await plan.start();
        await runCheck(plan.name, () => run!.check(), settings.checkTimeoutMs);
        alive.push({ plan, run, rounds: [], samples: [] });
      } catch (error) {
        failed.set(plan, asError(error));
        progress.log(`✗ ${group.title} / ${plan.name}: ${asError(error).message}`);
        if (run !== undefined) {
          await bounded(run.close(), CLOSE_BOUND_MS, () => new Error('close timed out')).catch(() => undefined);
        }
      }
    }
    for (const live of [...alive]) {
      progress.step(`warm-up: ${live.plan.name}`, warmupMs);
      try {
        await boundedRun(live, warmupMs);
      } catch (error) {
        await drop(live, error);
      }
      live.samples.length = 0;
    }
    for (let round = 0; round < settings.rounds; round++) {
      const order = rotation(alive, round);
      for (const [position, live] of order.entries()) {
        progress.step(`round ${round + 1}/${settings.rounds}: ${live.plan.name}`, ms);
        try {
          live.rounds.push(await timedRun(live, ms, round, position));
        } catch (error) {
          await drop(live, error);
        }
      }
    }
    for (const live of alive) {
      if (live.run.metrics !== undefined) live.metrics = await live.run.metrics();
    }
  } finally {
    for (const live of alive) {
      progress.step(`closing ${live.plan.name}`, 0);
      await bounded(
        live.run.close(),
        CLOSE_BOUND_MS,
        () => new Error(`did not close within ${CLOSE_BOUND_MS} ms`),
      ).catch((error: unknown) =>
        progress.log(`! ${group.title} / ${live.plan.name}: close failed: ${asError(error).message}`),
      );
    }
  }

  const reference = alive.find((live) => live.plan.name === group.reference);
  const contenders: ContenderRecord[] = group.contenders.map((plan) => {
    const live = alive.find((l) => l.plan === plan);
    const base = {
      name: plan.name,
      kind: plan.kind,
      ...(plan.series === undefined ? {} : { series: plan.series }),
      ...(plan.x === undefined ? {} : { x: plan.x }),
    };
    if (live === undefined) {
      return {
        ...base,
        status: 'failed' as const,
        error: failed.get(plan)!,
        rounds: [],
        perSecond: null,
        cpuUsPerOp: null,
        ratio: null,
      };
    }
    const ratio =
      reference === undefined
        ? null
        : roundRatios(
            live.rounds.map((r) => r.perSecond),
            reference.rounds.map((r) => r.perSecond),
          );
    return {
      ...base,
      status: 'ok' as const,
      rounds: live.rounds,
      perSecond: finiteSpread(live.rounds.map((r) => r.perSecond)),
      cpuUsPerOp: finiteSpread(live.rounds.map((r) => r.cpuUsPerOp)),
      ratio: ratio === null || Number.isNaN(ratio.median) ? null : ratio,
      ...(group.kind === 'latency' && live.samples.length > 0
        ? { latencyUs: percentiles(live.samples), histogram: histogram(live.samples) }
        : {}),
      ...(live.metrics === undefined ? {} : { metrics: live.metrics }),
    };
  });
  return {
    id: group.id,
    title: group.title,
    ...(group.note === undefined ? {} : { note: group.note }),
    kind: group.kind,
    unit: group.unit,
    reference: group.reference,
    contenders,
  };
}

/** Runs every group of a scenario, one after the other. */
export async function runScenario(
  scenario: ScenarioPlan,
  settings: RunSettings,
  progress: ProgressSink,
): Promise<ScenarioRecord> {
  const started = performance.now();
  const groups: GroupRecord[] = [];
  for (const group of scenario.groups) {
    progress.group(scenario, group);
    groups.push(await runGroup(group, settings, progress));
  }
  return {
    id: scenario.id,
    title: scenario.title,
    description: scenario.description,
    durationMs: performance.now() - started,
    groups,
  };
}
