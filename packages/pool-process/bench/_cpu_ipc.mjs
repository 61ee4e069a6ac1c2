import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { shardFor, tenantKey } from '@switchyard/core';
const tenants = Array.from({ length: 64 }, (_, i) => ({ kind: 'guild', id: ((BigInt(1_420_070_400_000 + i * 7919) << 22n) | 1n).toString() }));
const children = [0, 1].map((i) => fork(new URL('./fixtures/ipc-child.mjs', import.meta.url).pathname, [String(i)], { execArgv: [] }));
const pending = new Map(); let ids = 0;
for (const c of children) c.on('message', (m) => { const r = pending.get(m[1]); pending.delete(m[1]); r?.(m[2]); });
await Promise.all(children.map((c) => new Promise((r) => c.once('spawn', r))));
const dispatch = (t) => new Promise((resolve) => { const id = ++ids; pending.set(id, resolve); children[shardFor(t.id, 2)].send(['d', id, tenantKey(t), { type: 'inc' }]); });
const ticks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10_000; };
const mode = process.argv[2] ?? 'nowait';
const res = [];
for (let r = 0; r < 8; r++) {
  const N = 200_000;
  const c0 = process.cpuUsage(); const w0 = children.map((c) => ticks(c.pid));
  if (mode === 'nowait') {
    for (let i = 0; i < N; i++) {
      const t = tenants[i % 64]; children[shardFor(t.id, 2)].send(['n', 0, tenantKey(t), { type: 'inc' }]);
      if (i % 10_000 === 9_999) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(tenants.map((t) => dispatch(t)));
  } else {
    let sent = 0;
    const lane = async () => { while (sent < N) await dispatch(tenants[sent++ % 64]); };
    await Promise.all(Array.from({ length: Number(mode) }, lane));
  }
  const c = process.cpuUsage(c0); const w = children.map((ch, i) => ticks(ch.pid) - w0[i]);
  if (r >= 2) res.push([(c.user + c.system) / N, w.reduce((a, b) => a + b, 0) / N]);
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log('IPC', mode, 'cpu µs/event master', med(res.map((x) => x[0])).toFixed(2), 'workers', med(res.map((x) => x[1])).toFixed(2));
for (const c of children) c.disconnect();
