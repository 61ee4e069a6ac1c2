#!/usr/bin/env node
// Runs the test suite while extra CPU-bound loops compete for the machine, the way a busy CI
// machine or a developer's laptop would, and stops exactly the loops it started.
//
//   pnpm test:load                       # 3 busy loops, `pnpm test` once
//   pnpm test:load --loops 8 --runs 10   # 8 loops, 10 consecutive runs (stops at the first failure)
//   pnpm test:load -- pnpm --filter @switchyard/pool-process test
//
// Prints one line per run (duration, load average, exit code) and exits with the first failing
// run's exit code, or 0 when every run passed.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: {
    loops: { type: 'string', default: '3' },
    runs: { type: 'string', default: '1' },
    'keep-going': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

function count(name, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`Expected --${name} to be an integer >= 0, got ${JSON.stringify(text)}.`);
    process.exit(2);
  }
  return value;
}

const loops = count('loops', values.loops);
const runs = Math.max(1, count('runs', values.runs));
const command = positionals.length > 0 ? positionals : ['pnpm', 'test'];

/** One busy loop: a child process spinning on the CPU until it is killed. */
const busy = Array.from({ length: loops }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
const stopBusy = () => {
  for (const child of busy) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.on('exit', stopBusy);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopBusy();
    process.exit(130);
  });
}

const results = [];
let failed = 0;
for (let run = 1; run <= runs; run++) {
  const started = Date.now();
  const before = loadavg()[0];
  const code = await new Promise((resolve) => {
    // TURBO_FORCE: every run runs every test; a turbo cache hit would only replay the last logs.
    const child = spawn(command[0], command.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, TURBO_FORCE: 'true' },
    });
    child.once('error', (error) => {
      console.error(`Could not start ${command.join(' ')}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const line = `run ${run}/${runs}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds} s with ${loops} busy loops (load average ${before.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after)`;
  results.push(line);
  console.log(`\n[test:load] ${line}\n`);
  if (code !== 0) {
    failed ||= code;
    if (!values['keep-going']) break;
  }
}

stopBusy();
console.log('[test:load] summary');
for (const line of results) console.log(`[test:load]   ${line}`);
process.exit(failed);
