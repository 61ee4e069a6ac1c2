/** What one timed run of a contender returns. */
export interface RunOutput {
  /** Operations completed. */
  readonly ops: number;
  /** Latency groups: one sample per operation, in µs. */
  readonly latenciesUs?: ArrayLike<number>;
}

/** A started contender. */
export interface ContenderRun {
  /**
   * Asks a known input and throws `CheckFailedError` (see `expectAnswer`) unless the answer is
   * right. Runs before any timing; a contender that fails it is not timed.
   */
  check(): Promise<void>;
  /** Runs for about `ms` milliseconds (closed loop) and says how much it did. */
  run(ms: number): Promise<RunOutput>;
  /** Child processes whose CPU time counts for this contender (this process's threads always count). */
  pids?(): readonly number[];
  /** Extra figures measured after the last round (memory and the like), named with their unit. */
  metrics?(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** A contender before it starts. */
export interface ContenderPlan {
  readonly name: string;
  readonly kind: 'switchyard' | 'peer';
  readonly series?: string;
  readonly x?: number;
  start(): Promise<ContenderRun>;
}

/** Contenders measured side by side in interleaved rounds; only one group's contenders are alive at a time. */
export interface GroupPlan {
  readonly id: string;
  readonly title: string;
  readonly note?: string;
  readonly kind: 'throughput' | 'latency';
  readonly unit: string;
  /** Name of the contender ratios are computed against (a Switchyard one). */
  readonly reference: string;
  readonly contenders: readonly ContenderPlan[];
  /** Multiplies the run's `--ms` for this group (long setups, slow operations); default 1. */
  readonly msFactor?: number;
}

export interface ScenarioPlan {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly groups: readonly GroupPlan[];
}

/** What a scenario factory is told about the run. */
export interface ScenarioContext {
  readonly quick: boolean;
}

/** A scenario module's export: builds the plan (nothing starts until the runner starts a contender). */
export type ScenarioFactory = (context: ScenarioContext) => ScenarioPlan;
