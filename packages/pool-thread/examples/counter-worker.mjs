// What a user writes: a defineWorker() definition. It runs unchanged in a LocalWorker, a thread
// (here) or a process.
import { defineWorker } from '@switchyard/core';

export const worker = defineWorker({
  startup(ctx) {
    console.log(`thread for worker ${ctx.workerId} is up`);
  },
  createTenant: (tenant) => ({ tenant, seen: 0 }),
  async onEvent(state, event, ctx) {
    state.seen++;
    if (event.type === 'remember') await ctx.kv.set('last', event.text);
    return { guild: state.tenant.id, seen: state.seen, last: await ctx.kv.get('last') };
  },
});
