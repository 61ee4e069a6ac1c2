import { createProcessPool } from '../dist/index.js';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const tenants = Array.from({ length: 64 }, (_, i) => ({ kind: 'guild', id: ((BigInt(1_420_070_400_000 + i * 7919) << 22n) | 1n).toString() }));
const pool = await createProcessPool({ workers: 2, module: new URL('./fixtures/trivial.mjs', import.meta.url).pathname, hub: { logger: silent }, maxBufferedEvents: 1_000_000, maxInFlight: 1_000_000, execArgv: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [] });
const mode = process.argv[2] ?? 'nowait';
for (let r = 0; r < 6; r++) {
  const t0 = performance.now();
  const N = 200_000;
  if (mode === 'nowait') {
    for (let i = 0; i < N; i++) {
      pool.dispatchNoWait(tenants[i % 64], { type: 'inc' });
      if (i % 10_000 === 9_999) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(tenants.map((t) => pool.dispatch(t, { type: 'inc' })));
  } else {
    let sent = 0;
    const lane = async () => { while (sent < N) await pool.dispatch(tenants[sent++ % 64], { type: 'inc' }); };
    await Promise.all(Array.from({ length: Number(mode) }, lane));
  }
  console.log(mode, Math.round(N / ((performance.now() - t0) / 1000)));
}
await pool.close();
