// Run from packages/status after `pnpm build`: node examples/quickstart.mjs
// A live board on a terminal; timestamped lines when stderr is a file or a pipe (2> log.txt).
import { setTimeout as sleep } from 'node:timers/promises';
import { createStatusBoard, runWorkers, wrapWithStatus } from '@switchyard/status';

const tables = ['users', 'orders', 'invoices', 'products', 'reviews', 'sessions', 'audit_log'];
const total = tables.length;

const board = createStatusBoard(); // writes to process.stderr
const overall = board.addJob({ prefix: 'migrate:', initialText: 'tables' });
try {
  // Three workers share the list of tables; each reports on its own row ("worker  1:" ...).
  const copied = runWorkers(
    3,
    wrapWithStatus(board, async function* (job, signal) {
      for (let table = tables.shift(); table !== undefined; table = tables.shift()) {
        job.update(`copying ${table}`);
        await sleep(20 * table.length, undefined, { signal }); // the real work goes here
        yield { table, rows: 100 * table.length };
      }
    }),
  );
  let done = 0;
  let rows = 0;
  for await (const result of copied) {
    rows += result.rows;
    overall.progress(++done, total);
  }
  overall.close(`copied ${rows} rows from ${done} tables`);
} finally {
  board.close(); // draws the final state and leaves it printed
}
