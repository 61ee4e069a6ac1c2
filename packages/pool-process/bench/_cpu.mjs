import { readFileSync } from 'node:fs';
import { createProcessPool } from '../dist/index.js';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const tenants = Array.from({ length: 64 }, (_, i) => ({ kind: 'guild', id: ((BigInt(1_420_070_400_000 + i * 7919) << 22n) | 1n).toString() }));
const pool = await createProcessPool({ workers: 2, module: new URL('./fixtures/trivial.mjs', import.meta.url).pathname, hub: { logger: silent, localSocket: process.env.TCP ? false : true }, maxBufferedEvents: 1_000_000, maxInFlight: 1_000_000 });
const ticks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10_000; }; // µs (100 Hz)
const mode = process.argv[2] ?? 'nowait';
const res = [];
for (let r = 0; r < 8; r++) {
  const N = 200_000;
  const c0 = process.cpuUsage(); const w0 = pool.workers.map((w) => ticks(w.pid));
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
  const c = process.cpuUsage(c0); const w = pool.workers.map((w, i) => ticks(w.pid) - w0[i]);
  const master = (c.user + c.system) / N, workers = w.reduce((a, b) => a + b, 0) / N;
  if (r >= 2) res.push([master, workers]);
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log(mode, 'cpu µs/event master', med(res.map((x) => x[0])).toFixed(2), 'workers', med(res.map((x) => x[1])).toFixed(2));
await pool.close();
