/**
 * A tour of @switchyard/core in one run: per-worker task queues, then a tenant-sharded pool that
 * routes guild events to workers with Discord's sharding formula.
 */
import type { TenantId } from '@switchyard/core';
import { createWorkers, defineWorker, LocalWorker, shardFor, WorkerPool } from '@switchyard/core';

function snowflake(msSinceDiscordEpoch: number, low = 0): string {
  return ((BigInt(msSinceDiscordEpoch) << 22n) | BigInt(low)).toString();
}

async function taskQueues(): Promise<void> {
  console.log('1. Task queues: three workers, each running its tasks one at a time, in order');
  const workers = createWorkers(3);
  const started = Date.now();
  const log: string[] = [];
  await Promise.all(
    workers.flatMap((worker) =>
      [1, 2, 3].map((n) =>
        worker.enqueue(
          async (id: number, task: number) => {
            await new Promise((resolve) => setTimeout(resolve, 20));
            log.push(`w${id}#${task}`);
          },
          worker.id,
          n,
        ),
      ),
    ),
  );
  console.log(`   ran ${log.length} tasks in ${Date.now() - started} ms: ${log.join(' ')}`);
  const add = workers[0]!.function((a: number, b: number) => a + b);
  console.log(`   worker 1 as a function: add(10, 5) = ${await add(10, 5)}`);
  for (const worker of workers) worker.kill();
}

async function tenantPool(): Promise<void> {
  console.log('2. Tenant-sharded pool: 4 workers, guild state kept per tenant, events in order per guild');
  const moderation = defineWorker({
    createTenant: (tenant) => ({ guild: tenant.id, messages: 0, flagged: 0 }),
    onEvent: (state, event: { content: string }, ctx) => {
      state.messages++;
      if (/spam/i.test(event.content)) state.flagged++;
      return { worker: ctx.workerId, messages: state.messages, flagged: state.flagged };
    },
  });
  const pool = await WorkerPool.create(4, (id) => new LocalWorker(moderation, { id }));
  const guilds: TenantId[] = Array.from({ length: 8 }, (_, i) => ({
    kind: 'guild',
    id: snowflake(1_000_000 + i * 997, i),
  }));
  for (const [i, guild] of guilds.entries()) {
    for (let m = 0; m < 5; m++) pool.dispatchNoWait(guild, { content: m === i % 5 ? 'buy SPAM now' : 'hello' });
  }
  for (const guild of guilds) {
    const last = await pool.dispatch(guild, { content: 'status?' });
    console.log(
      `   guild ${guild.id} -> worker ${last.worker} (shardFor = ${shardFor(guild.id, 4)}): ${last.messages} messages, ${last.flagged} flagged`,
    );
  }
  const stats = pool.stats();
  console.log(`   pool: ${stats.tenants} tenants, ${stats.handled} events handled, ${stats.failed} failed`);
  await pool.close();
}

await taskQueues();
await tenantPool();
console.log('Done. See README.md for the packages and what each one does.');
