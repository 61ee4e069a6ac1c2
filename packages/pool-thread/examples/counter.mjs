// Run: pnpm --filter @switchyard/pool-thread build && node packages/pool-thread/examples/counter.mjs
import { createThreadPool } from '@switchyard/pool-thread';

const pool = await createThreadPool({
  workers: 2,
  filename: new URL('./counter-worker.mjs', import.meta.url),
  restart: { backoff: (failures) => Math.min(failures, 5) * 1000 },
});
pool.on('crash', ({ workerId, cause }) => console.warn(`worker ${workerId} crashed:`, cause));
pool.on('dispatchError', ({ tenant, error }) => console.warn(`event for ${tenant.id} failed:`, error));

const guild = { kind: 'guild', id: '81384788765712384' };
console.log(await pool.dispatch(guild, { type: 'remember', text: 'hello' }));
for (let i = 0; i < 1000; i++) pool.dispatchNoWait(guild, { type: 'tick' }); // one message to the thread
console.log(await pool.dispatch(guild, { type: 'tick' })); // { guild: '8138…', seen: 1002, last: 'hello' }
console.log(
  pool.workers
    .map((worker) => worker.stats())
    .map(({ id, state, tenants, handled }) => ({ id, state, tenants, handled })),
);
await pool.close();
