import { parseArgs } from 'node:util';
import { InvalidOptionError } from './errors.js';

/** The bench app's command line. */
export interface BenchOptions {
  /**
   * Every scenario, few and short rounds: a smoke test that each contender answers correctly (CI).
   * Its figures say nothing about speed.
   * @default false
   */
  quick: boolean;
  /**
   * Scenario ids to run (`--only threads,mpsc`).
   * @default every scenario
   */
  only: string[];
  /**
   * Timed rounds per contender.
   * @default 5 (1 with `--quick`)
   */
  rounds: number;
  /**
   * Length of one timed run, in ms.
   * @default 400 (60 with `--quick`)
   */
  ms: number;
  /**
   * Where results go.
   * @default `apps/bench/results`
   */
  out: string;
  /**
   * Print the usage and exit.
   * @default false
   */
  help: boolean;
}

export const USAGE = `Usage: pnpm bench [--quick] [--only <ids>] [--rounds <n>] [--ms <n>] [--out <dir>]

  --quick          every scenario, 1 short round: checks that every contender answers (not speed)
  --only <ids>     comma-separated scenario ids: %IDS%
  --rounds <n>     timed rounds per contender (default 5; 1 with --quick)
  --ms <n>         length of one timed run in ms (default 400; 60 with --quick)
  --out <dir>      where results/<date>-<commit>.{json,html} go (default apps/bench/results)`;

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(`Expected \`--${name}\` to be an integer >= 1, got ${JSON.stringify(raw)}.`);
  }
  return value;
}

/** Parses the command line; unknown options, bad numbers and unknown scenario ids are refused with `InvalidOptionError`. */
export function parseOptions(
  args: readonly string[],
  scenarioIds: readonly string[],
  defaultOut: string,
): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        rounds: { type: 'string' },
        ms: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new InvalidOptionError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  const quick = values.quick === true;
  const only =
    values.only === undefined
      ? []
      : values.only
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  for (const id of only) {
    if (!scenarioIds.includes(id)) {
      throw new InvalidOptionError(
        `Expected \`--only\` to name scenarios among ${scenarioIds.join(', ')}, got ${JSON.stringify(id)}.`,
      );
    }
  }
  return {
    quick,
    only,
    rounds: positiveInteger('rounds', values.rounds, quick ? 1 : 5),
    ms: positiveInteger('ms', values.ms, quick ? 60 : 400),
    out: values.out ?? defaultOut,
    help: values.help === true,
  };
}
