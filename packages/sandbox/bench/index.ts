/**
 * What a sandboxed script costs next to a plain JS handler doing the same work, measured in the
 * same run. Run: `pnpm build && pnpm bench` (uses the built package, as workers do).
 *
 * - Per call: `runScript` on a `LocalWorker` whose engine is `createScriptEngine()` against
 *   `dispatch` to a `LocalWorker` whose `onEvent` does the same work in plain JS. One call in
 *   flight, callers spread round-robin over 200 tenants (every tenant's runtime created and its
 *   script compiled before the clock starts), small events (two numbers) and large ones (an
 *   array of 200 objects, ~13 KB of JSON, summed by the script). "Batched" is the best a user can
 *   do by hand with the sandbox: one script call handles 100 events at once (cost per event).
 * - Per idle tenant: creating 200 runtimes (each its own WebAssembly instance with a 16 MiB
 *   memory), time per runtime and resident memory per runtime once idle.
 * - A stuck tenant: on one worker thread, how long a one-line script of tenant B waits behind
 *   tenant A's `while (true) {}` with the default 100 ms CPU limit (7 rounds; A's runtime is
 *   created again before each round, after its limit error).
 * - The memory trap: a script retaining 200 strings of 1 MiB under `setMemoryLimit(16 MiB)` with
 *   quickjs-emscripten's default (shared, growable) module, and the same script under this
 *   engine's default limit.
 *
 * Sides alternate, RUNS times each after a warm-up; figures are medians, the ratio is the median
 * of per-pair ratios so load changes on a shared machine hit both sides.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TenantId } from '@switchyard/core';
import { defineWorker, LocalWorker } from '@switchyard/core';
import { createThreadPool } from '@switchyard/pool-thread';
import { createScriptEngine } from '@switchyard/sandbox';
import * as releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import type { QuickJSSyncVariant } from 'quickjs-emscripten-core';
import { newQuickJSWASMModuleFromVariant } from 'quickjs-emscripten-core';

const RUNS = Number(process.env.RUNS ?? 5);
const TENANTS = 200;
const CALLS = Number(process.env.CALLS ?? 4000);

const tenants: TenantId[] = Array.from({ length: TENANTS }, (_, i) => ({
  kind: 'guild',
  id: ((BigInt(1_420_070_400_000 + i) << 22n) | 1n).toString(),
}));

interface Small {
  kind: 'small';
  a: number;
  b: number;
}
interface Large {
  kind: 'large';
  items: Array<{ id: string; name: string; score: number; tags: string[] }>;
}
interface Batch {
  kind: 'batch';
  events: Small[];
}
type BenchEvent = Small | Large | Batch;

const SCRIPT = `
  if (event.kind === 'small') return event.a + event.b;
  if (event.kind === 'large') { let total = 0; for (const item of event.items) total += item.score; return total; }
  return event.events.map((e) => e.a + e.b);
`;

function plain(event: BenchEvent): unknown {
  if (event.kind === 'small') return event.a + event.b;
  if (event.kind === 'large') {
    let total = 0;
    for (const item of event.items) total += item.score;
    return total;
  }
  return event.events.map((e) => e.a + e.b);
}

const large: Large = {
  kind: 'large',
  items: Array.from({ length: 200 }, (_, i) => ({
    id: String(1_000_000 + i),
    name: `member-${i}`,
    score: i,
    tags: ['a', 'b'],
  })),
};
const batch: Batch = { kind: 'batch', events: Array.from({ length: 100 }, (_, i) => ({ kind: 'small', a: i, b: 1 })) };

// Generous CPU limits: this measures speed; GC pauses on a busy machine count as CPU time.
const engine = createScriptEngine({ maxRuntimes: TENANTS + 10, cpuTimeMs: 10_000 });
const sandboxed = new LocalWorker(
  defineWorker({ createTenant: () => ({}), onEvent: (_s, _e: BenchEvent) => null as unknown, scriptEngine: engine }),
);
const native = new LocalWorker(
  defineWorker({ createTenant: () => ({}), onEvent: (_s, event: BenchEvent) => plain(event) }),
);

/** Nanoseconds per call of `calls` one-at-a-time calls spread over the tenants. */
async function time(calls: number, call: (tenant: TenantId, i: number) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call(tenants[i % TENANTS]!, i);
  return Number(process.hrtime.bigint() - start) / calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function compare(name: string, event: BenchEvent, calls: number, perCall = 1): Promise<void> {
  const runScript = (tenant: TenantId): Promise<unknown> =>
    sandboxed.runScript(tenant, 'bench', SCRIPT, event as never);
  const dispatch = (tenant: TenantId): Promise<unknown> => native.dispatch(tenant, event);
  // Warm-up: every tenant's runtime exists and has the script compiled, the JIT has settled.
  await time(Math.max(TENANTS * 2, calls), runScript);
  await time(Math.max(TENANTS * 2, calls), dispatch);
  const sandbox: number[] = [];
  const js: number[] = [];
  const ratios: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const s = await time(calls, runScript);
    const p = await time(calls, dispatch);
    sandbox.push(s / perCall);
    js.push(p / perCall);
    ratios.push(s / p);
  }
  console.log(
    `| ${name} | ${(median(sandbox) / 1000).toFixed(1)} µs | ${(median(js) / 1000).toFixed(2)} µs | ${median(ratios).toFixed(1)}x |`,
  );
}

async function idleCost(): Promise<void> {
  const idle = createScriptEngine({ maxRuntimes: 1000, cpuTimeMs: 10_000 });
  const worker = new LocalWorker(
    defineWorker({ createTenant: () => ({}), onEvent: (_s, _e: unknown) => null, scriptEngine: idle }),
  );
  // One runtime first: the compiled module and its warm-up are per thread, not per tenant.
  await worker.runScript({ kind: 'user', id: '1' }, 'x', 'return 1', null);
  global.gc?.();
  await sleep(100);
  const before = process.memoryUsage();
  const times: number[] = [];
  for (const tenant of tenants) {
    const start = process.hrtime.bigint();
    await worker.runScript(tenant, 'x', 'return 1', null);
    times.push(Number(process.hrtime.bigint() - start));
  }
  global.gc?.();
  await sleep(100);
  const after = process.memoryUsage();
  const stats = idle.stats();
  console.log(`\nIdle tenants: ${TENANTS} runtimes created (first call: create + compile + run)`);
  console.log(`| median time per new runtime | ${(median(times) / 1e6).toFixed(2)} ms |`);
  console.log(
    `| resident memory per idle runtime (RSS) | ${((after.rss - before.rss) / TENANTS / 1024).toFixed(0)} KiB |`,
  );
  console.log(`| JS heap per idle runtime | ${((after.heapUsed - before.heapUsed) / TENANTS / 1024).toFixed(1)} KiB |`);
  console.log(
    `| WebAssembly memory reserved per runtime | ${(stats.memoryBytes / stats.runtimes / 1048576).toFixed(0)} MiB |`,
  );
  await worker.close();
}

async function memoryTrap(): Promise<void> {
  let variant = releaseSync as unknown as { default?: unknown; importFFI?: unknown };
  while (variant.importFFI === undefined && variant.default !== undefined) variant = variant.default as typeof variant;
  const module = await newQuickJSWASMModuleFromVariant(variant as QuickJSSyncVariant);
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(16 * 1024 * 1024);
  const context = runtime.newContext();
  const code = 'globalThis.keep = []; for (let i = 0; i < 200; i++) keep.push("x".repeat(1 << 20) + i); keep.length';
  const result = context.evalCode(code);
  const outcome = result.error === undefined ? `returned ${context.getNumber(result.value)}` : 'threw';
  (result.error ?? result.value).dispose();
  const held = module.getWasmMemory().buffer.byteLength;
  console.log('\nMemory trap: 200 strings of 1 MiB retained under a 16 MiB limit');
  console.log(
    `| quickjs-emscripten default module, setMemoryLimit(16 MiB) | ${outcome} | ${(held / 1048576).toFixed(0)} MiB held |`,
  );
  const error = await sandboxed
    .runScript({ kind: 'user', id: '2' }, 'trap', code.replace(/ keep.length$/, ' return keep.length'), null as never)
    .then(
      () => 'returned',
      (e: { code: string }) => e.code,
    );
  const ours = engine.stats();
  console.log(
    `| @switchyard/sandbox, maxMemoryBytes 16 MiB | ${error} | at most ${(16).toFixed(0)} MiB held (runtimes now hold ${(ours.memoryBytes / ours.runtimes / 1048576).toFixed(0)} MiB each) |`,
  );
  context.dispose();
  runtime.dispose();
}

async function stuckTenant(): Promise<void> {
  const pool = await createThreadPool({ workers: 1, filename: new URL('./stuck-worker.mjs', import.meta.url) });
  const [a, b] = [tenants[0]!, tenants[1]!];
  await pool.runScript(a, 'warm', 'return 1', null);
  await pool.runScript(b, 'warm', 'return 1', null);
  const delays: number[] = [];
  for (let round = 0; round < 7; round++) {
    const stuck = pool.runScript(a, 'spin', 'while (true) {}', null).catch((error: { code: string }) => error.code);
    const start = performance.now();
    await pool.runScript(b, 'quick', 'return 1', null);
    delays.push(performance.now() - start);
    await stuck;
  }
  await pool.close();
  console.log("\nStuck tenant: B behind A's while (true) {} on one worker thread, cpuTimeMs 100 (7 rounds)");
  console.log(`| B's wait, median | ${median(delays).toFixed(0)} ms | max | ${Math.max(...delays).toFixed(0)} ms |`);
}

if (process.env.ONLY === 'stuck') {
  await stuckTenant();
  process.exit(0);
}

console.log(`Per call (median of ${RUNS} runs of ${CALLS} calls, one in flight, ${TENANTS} tenants round-robin)`);
console.log('| case | sandbox | plain JS handler | ratio |');
console.log('|---|---|---|---|');
await compare('small event (2 numbers)', { kind: 'small', a: 1, b: 2 }, CALLS);
await compare('large event (~13 KB JSON)', large, Math.ceil(CALLS / 4));
await compare('batched: 100 small events per call (per event)', batch, Math.ceil(CALLS / 10), 100);
await stuckTenant();
await memoryTrap();
await idleCost();
await sandboxed.close();
await native.close();
