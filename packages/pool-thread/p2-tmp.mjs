import { createThreadPool } from './dist/index.js';
const WORKER = new URL('./bench/fixtures/worker.mjs', import.meta.url);
const tenants = Array.from({ length: 256 }, (_, i) => ({ kind: 'guild', id: ((BigInt(1_420_070_400_000 + i) << 22n) | 1n).toString() }));
const young = Number(process.argv[3] ?? 0);
const pool = await createThreadPool({ workers: 2, filename: WORKER, ...(young ? { resourceLimits: { maxYoungGenerationSizeMb: young } } : {}) });
const mode = process.argv[2];
const t0 = performance.now(); let done = 0;
while (performance.now() < t0 + 3000) {
  if (mode === 'nowait') { for (let i = 0; i < 20000; i++) pool.dispatchNoWait(tenants[i & 63], 1); await Promise.all(tenants.slice(0, 64).map((t) => pool.dispatch(t, 0))); done += 20000; }
  else { const d = performance.now() + 500; await Promise.all(Array.from({ length: 64 }, async (_, c) => { while (performance.now() < d) { await pool.dispatch(tenants[c], 1); done++; } })); }
}
console.log(mode, Math.round(done / ((performance.now() - t0) / 1000)));
await pool.close();
