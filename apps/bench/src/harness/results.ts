import { InvalidResultsError } from './errors.js';
import type { Percentiles, Spread } from './stats.js';

/** The `schema` field of every results file this version writes. */
export const RESULTS_SCHEMA = 'switchyard-bench/1';

/** The machine a run was measured on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemoryBytes: number;
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
  readonly node: string;
  readonly v8: string;
  /** 1, 5 and 15 minute load averages before the first scenario. */
  readonly loadBefore: readonly number[];
  /** The same after the last one. */
  readonly loadAfter: readonly number[];
}

/** One timed run of one contender. */
export interface RoundRecord {
  /** 0-based round number; rounds of one group ran interleaved, in a rotated order. */
  readonly round: number;
  /** Position of this contender in the round's order (0 = first). */
  readonly position: number;
  /** Operations completed (events, tasks, messages). */
  readonly ops: number;
  readonly wallMs: number;
  /** CPU time of this process (all threads) plus the contender's child processes. */
  readonly cpuUs: number;
  readonly perSecond: number;
  /** `null` when the round completed no operation. */
  readonly cpuUsPerOp: number | null;
  /** For latency groups: this round's percentiles, in µs. */
  readonly latencyUs?: Percentiles;
}

/** Latency samples bucketed on a log scale: `counts[i]` samples were ≤ `boundsUs[i]` (and above the previous bound). */
export interface Histogram {
  readonly boundsUs: readonly number[];
  readonly counts: readonly number[];
}

/** One contender of a group, with every raw round. */
export interface ContenderRecord {
  readonly name: string;
  /** Switchyard itself, or what a user would pick instead (including what they could do by hand). */
  readonly kind: 'switchyard' | 'peer';
  /** For curves (scaling): the line this point belongs to, and its x. */
  readonly series?: string;
  readonly x?: number;
  readonly status: 'ok' | 'failed';
  /** Why a failed contender was not timed (setup or answer check). */
  readonly error?: { readonly code: string; readonly message: string };
  readonly rounds: readonly RoundRecord[];
  /** Over the rounds; `null` when there were none. */
  readonly perSecond: Spread | null;
  readonly cpuUsPerOp: Spread | null;
  /** Per-round ratio of this contender's operations/s to the group's reference contender's. */
  readonly ratio: Spread | null;
  /** Latency groups: percentiles over every round's samples (µs), and their histogram. */
  readonly latencyUs?: Percentiles;
  readonly histogram?: Histogram;
  /** Extra figures (memory and the like), named with their unit: `heapBytesPerTenant`. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** Contenders measured side by side, in interleaved rounds. */
export interface GroupRecord {
  readonly id: string;
  readonly title: string;
  readonly note?: string;
  readonly kind: 'throughput' | 'latency';
  /** What an operation is: `events`, `tasks`, `messages`. */
  readonly unit: string;
  /** The contender ratios are computed against. */
  readonly reference: string;
  readonly contenders: readonly ContenderRecord[];
}

export interface ScenarioRecord {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly durationMs: number;
  readonly groups: readonly GroupRecord[];
}

/** What `results/<date>-<commit>.json` holds. */
export interface BenchResults {
  readonly schema: typeof RESULTS_SCHEMA;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly commit: string;
  /** Whether the working tree had uncommitted changes when the run started. */
  readonly dirty: boolean;
  readonly options: {
    readonly quick: boolean;
    readonly rounds: number;
    readonly ms: number;
    readonly warmupMs: number;
    readonly only: readonly string[];
  };
  readonly machine: MachineInfo;
  readonly scenarios: readonly ScenarioRecord[];
}

type Check = (value: unknown, path: string) => void;

const fail = (path: string, message: string): never => {
  throw new InvalidResultsError(path, message);
};
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const string: Check = (value, path) => {
  if (typeof value !== 'string') fail(path, `expected a string, got ${typeof value}`);
};
const number: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(path, `expected a finite number, got ${String(value)}`);
};
const boolean: Check = (value, path) => {
  if (typeof value !== 'boolean') fail(path, `expected a boolean, got ${typeof value}`);
};
const oneOf =
  (...allowed: readonly string[]): Check =>
  (value, path) => {
    if (!allowed.includes(value as string)) fail(path, `expected one of ${allowed.join(', ')}, got ${String(value)}`);
  };
const array =
  (item: Check): Check =>
  (value, path) => {
    if (!Array.isArray(value)) return fail(path, 'expected an array');
    value.forEach((element, i) => item(element, `${path}[${i}]`));
  };
const nullable =
  (check: Check): Check =>
  (value, path) => {
    if (value !== null) check(value, path);
  };
const record =
  (item: Check): Check =>
  (value, path) => {
    if (!isObject(value)) return fail(path, 'expected an object');
    for (const [key, element] of Object.entries(value)) item(element, `${path}.${key}`);
  };
/** An object with these fields (`?` suffix: optional); unknown fields are refused. */
const shape =
  (fields: Readonly<Record<string, Check>>): Check =>
  (value, path) => {
    if (!isObject(value)) return fail(path, 'expected an object');
    for (const [spec, check] of Object.entries(fields)) {
      const optional = spec.endsWith('?');
      const key = optional ? spec.slice(0, -1) : spec;
      if (!(key in value) || value[key] === undefined) {
        if (!optional) fail(`${path}.${key}`, 'missing');
        continue;
      }
      check(value[key], `${path}.${key}`);
    }
    const known = new Set(Object.keys(fields).map((spec) => spec.replace(/\?$/, '')));
    for (const key of Object.keys(value)) if (!known.has(key)) fail(`${path}.${key}`, 'unknown field');
  };

const spreadCheck = shape({ median: number, min: number, max: number });
const percentilesCheck = shape({ p50: number, p90: number, p99: number, p999: number, max: number, count: number });
const roundCheck = shape({
  round: number,
  position: number,
  ops: number,
  wallMs: number,
  cpuUs: number,
  perSecond: number,
  cpuUsPerOp: nullable(number),
  'latencyUs?': percentilesCheck,
});
const contenderCheck = shape({
  name: string,
  kind: oneOf('switchyard', 'peer'),
  'series?': string,
  'x?': number,
  status: oneOf('ok', 'failed'),
  'error?': shape({ code: string, message: string }),
  rounds: array(roundCheck),
  perSecond: nullable(spreadCheck),
  cpuUsPerOp: nullable(spreadCheck),
  ratio: nullable(spreadCheck),
  'latencyUs?': percentilesCheck,
  'histogram?': shape({ boundsUs: array(number), counts: array(number) }),
  'metrics?': record(number),
});
const groupCheck = shape({
  id: string,
  title: string,
  'note?': string,
  kind: oneOf('throughput', 'latency'),
  unit: string,
  reference: string,
  contenders: array(contenderCheck),
});
const resultsCheck = shape({
  schema: oneOf(RESULTS_SCHEMA),
  startedAt: string,
  finishedAt: string,
  commit: string,
  dirty: boolean,
  options: shape({ quick: boolean, rounds: number, ms: number, warmupMs: number, only: array(string) }),
  machine: shape({
    cpuModel: string,
    cores: number,
    totalMemoryBytes: number,
    platform: string,
    arch: string,
    osRelease: string,
    node: string,
    v8: string,
    loadBefore: array(number),
    loadAfter: array(number),
  }),
  scenarios: array(
    shape({ id: string, title: string, description: string, durationMs: number, groups: array(groupCheck) }),
  ),
});

/**
 * Checks that `value` (a parsed results file) matches {@link BenchResults}, field by field, and
 * that each group's reference names one of its contenders; throws {@link InvalidResultsError}
 * (`ERR_BENCH_INVALID_RESULTS`) naming the first offending path.
 */
export function validateResults(value: unknown): BenchResults {
  resultsCheck(value, '$');
  const results = value as BenchResults;
  results.scenarios.forEach((scenario, s) =>
    scenario.groups.forEach((group, g) => {
      if (!group.contenders.some((c) => c.name === group.reference)) {
        fail(`$.scenarios[${s}].groups[${g}].reference`, `names no contender of the group: ${group.reference}`);
      }
    }),
  );
  return results;
}
