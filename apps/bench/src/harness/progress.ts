import { renderProgressBar } from '@switchyard/status';
import type { ProgressSink, RunSettings } from './runner.js';
import type { GroupPlan, ScenarioPlan } from './Scenario.js';

/** Rough cost of starting and checking one contender (pools, processes), for the time-left estimate. */
const SETUP_ESTIMATE_MS = 700;

/** Planned milliseconds of a group under `settings`: warm-up and rounds of each contender, plus setup. */
export function plannedGroupMs(group: GroupPlan, settings: RunSettings): number {
  const factor = group.msFactor ?? 1;
  return group.contenders.length * ((settings.warmupMs + settings.rounds * settings.ms) * factor + SETUP_ESTIMATE_MS);
}

const clock = (ms: number): string => {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
};

/**
 * The live progress display on stderr: on a TTY one line redrawn in place (scenario, group,
 * round, a bar and the time left, estimated from the plan and scaled by how fast the run goes);
 * elsewhere (CI logs) a line per group.
 */
export class Progress implements ProgressSink {
  readonly #out: NodeJS.WriteStream;
  readonly #settings: RunSettings;
  readonly #totalMs: number;
  readonly #started = performance.now();
  #doneMs = 0;
  #currentMs = 0;
  #groupIndex = 0;
  readonly #groupCount: number;
  #label = '';
  #groupTitle = '';
  #timer: NodeJS.Timeout | undefined;
  #pendingGroupMs = 0;
  #lastStepMs = 0;

  constructor(scenarios: readonly ScenarioPlan[], settings: RunSettings, out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#settings = settings;
    const groups = scenarios.flatMap((s) => s.groups);
    this.#groupCount = groups.length;
    this.#totalMs = groups.reduce((sum, g) => sum + plannedGroupMs(g, settings), 0);
    if (out.isTTY) {
      this.#timer = setInterval(() => this.#draw(), 250);
      this.#timer.unref();
    }
  }

  /** What is running now: `scenario › group │ step`. */
  get current(): string {
    return `${this.#groupTitle} │ ${this.#label}`;
  }

  /** Planned length of the whole run, in ms. */
  get plannedMs(): number {
    return this.#totalMs;
  }

  group(scenario: ScenarioPlan, group: GroupPlan): void {
    this.#doneMs += this.#pendingGroupMs;
    this.#currentMs = 0;
    this.#lastStepMs = 0;
    this.#groupIndex++;
    this.#groupTitle = `${scenario.title} › ${group.title}`;
    if (!this.#out.isTTY) this.#out.write(`[${this.#groupIndex}/${this.#groupCount}] ${this.#groupTitle}\n`);
    this.#pendingGroupMs = plannedGroupMs(group, this.#settings);
  }

  step(label: string, plannedMs: number): void {
    this.#label = label;
    // What the previous step planned is done now; setup counts as a share of the group's plan.
    this.#currentMs = Math.min(this.#pendingGroupMs, this.#currentMs + this.#lastStepMs);
    this.#lastStepMs = plannedMs === 0 ? SETUP_ESTIMATE_MS : plannedMs;
    if (!this.#out.isTTY && process.env.BENCH_VERBOSE === '1') {
      this.#out.write(`  ${((performance.now() - this.#started) / 1000).toFixed(1)}s ${label}\n`);
    }
    this.#draw();
  }

  log(line: string): void {
    this.#clear();
    this.#out.write(`${line}\n`);
    this.#draw();
  }

  /** Stops redrawing and clears the line. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
  }

  #clear(): void {
    if (this.#out.isTTY) this.#out.write('\r\x1b[K');
  }

  #draw(): void {
    if (!this.#out.isTTY || this.#timer === undefined) return;
    const elapsed = performance.now() - this.#started;
    const done = Math.min(this.#totalMs, this.#doneMs + this.#currentMs);
    const left = done > 0 ? (elapsed / done) * (this.#totalMs - done) : this.#totalMs;
    const width = Math.max(20, (this.#out.columns ?? 100) - 1);
    const bar = renderProgressBar(this.#groupIndex, this.#groupCount, undefined, 16).replace(/ -\/s$/, '');
    const line = `${bar} ~${clock(left)} left │ ${this.#groupTitle} │ ${this.#label}`;
    this.#out.write(`\r\x1b[K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
  }
}
