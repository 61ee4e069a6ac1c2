#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { BenchError } from './harness/errors.js';
import { writeResults } from './harness/files.js';
import { gitState, loadAverages, machineInfo } from './harness/machine.js';
import { parseOptions, USAGE } from './harness/options.js';
import { Progress } from './harness/progress.js';
import type { BenchResults, ScenarioRecord } from './harness/results.js';
import { RESULTS_SCHEMA } from './harness/results.js';
import type { RunSettings } from './harness/runner.js';
import { runScenario } from './harness/runner.js';
import { groupTable } from './harness/table.js';
import { SCENARIOS } from './scenarios/index.js';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Set once main settled (see the 'exit' listener). */
let finished = false;

async function main(): Promise<number> {
  const ids = SCENARIOS.map((s) => s.id);
  const options = parseOptions(process.argv.slice(2), ids, `${APP_DIR}results`);
  if (options.help) {
    // (nothing started)
    console.log(USAGE.replace('%IDS%', ids.join(', ')));
    return 0;
  }
  const context = { quick: options.quick };
  const plans = SCENARIOS.filter((s) => options.only.length === 0 || options.only.includes(s.id)).map((s) =>
    s.create(context),
  );
  const settings: RunSettings = {
    rounds: options.rounds,
    ms: options.ms,
    warmupMs: options.quick ? Math.min(options.ms, 60) : Math.max(options.ms, 300),
    checkTimeoutMs: 30_000,
  };
  const git = gitState(APP_DIR);
  const loadBefore = loadAverages();
  const startedAt = new Date().toISOString();
  const progress = new Progress(plans, settings);
  // A promise no one will settle and nothing else to wait for: Node would exit silently with 0.
  // That means a contender lost an answer; say which one and fail.
  process.once('exit', () => {
    if (finished) return;
    progress.close();
    console.error(`\nThe event loop emptied while waiting for: ${progress.current}. A contender lost an answer.`);
    process.exitCode = 1;
  });
  console.log(
    `Switchyard bench at ${git.commit}${git.dirty ? ' (uncommitted changes)' : ''}: ${plans.length} scenarios, ` +
      `${settings.rounds} rounds of ${settings.ms} ms${options.quick ? ' (--quick: checks answers, not speed)' : ''}, ` +
      `about ${Math.ceil(progress.plannedMs / 60_000)} min planned, load ${loadBefore.join(' ')}`,
  );
  const scenarios: ScenarioRecord[] = [];
  try {
    for (const plan of plans) {
      const record = await runScenario(plan, settings, progress);
      scenarios.push(record);
      progress.close();
      console.log(`\n== ${record.title} (${(record.durationMs / 1000).toFixed(0)} s)`);
      for (const group of record.groups) console.log(`\n${groupTable(group)}`);
    }
  } finally {
    progress.close();
  }
  const results: BenchResults = {
    schema: RESULTS_SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    commit: git.commit,
    dirty: git.dirty,
    options: {
      quick: options.quick,
      rounds: settings.rounds,
      ms: settings.ms,
      warmupMs: settings.warmupMs,
      only: options.only,
    },
    machine: machineInfo(loadBefore, loadAverages()),
    scenarios,
  };
  const files = await writeResults(options.out, results);

  console.log(`\nresults: ${files.json}\nreport:  ${files.html}`);
  const failed = scenarios.flatMap((s) =>
    s.groups.flatMap((g) =>
      g.contenders.filter((c) => c.status === 'failed').map((c) => `${s.id} › ${g.title} › ${c.name}`),
    ),
  );
  if (failed.length > 0) {
    console.error(`\n${failed.length} contender(s) failed their start or answer check:\n  ${failed.join('\n  ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    finished = true;
    if (error instanceof BenchError) {
      console.error(
        `${error.code}: ${error.message}\n\n${USAGE.replace('%IDS%', SCENARIOS.map((s) => s.id).join(', '))}`,
      );
    } else {
      console.error(error);
    }
    process.exitCode = 1;
  },
);
