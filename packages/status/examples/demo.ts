/**
 * A status board over three import workers (runWorkers + wrapWithStatus) that hand their rows to
 * a tenant-sharded WorkerPool, which the board watches too.
 *
 * Run it in a terminal: `pnpm tsx examples/demo.ts` (a live board on stderr; pipe it to a file,
 * `pnpm tsx examples/demo.ts 2> demo.log`, to see the plain timestamped lines instead).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { defineWorker, LocalWorker, tenantId, WorkerPool } from '@switchyard/core';
import type { StatusBoardOptions } from '../src/index.js';
import { createStatusBoard, runWorkers, wrapWithStatus } from '../src/index.js';

/** Counts rows per guild: the work the pool does for each imported row. */
const rowCounter = defineWorker({
  createTenant: () => ({ rows: 0 }),
  onEvent: (state: { rows: number }, _row: { file: string; line: number }) => ++state.rows,
});

/** Runs the demo on a board made with `options`; resolves when the import is over. */
export async function runDemo(
  options: StatusBoardOptions = {},
  { files = 9, rowsPerFile = 6, rowDelayMs = 40 } = {},
): Promise<void> {
  using board = createStatusBoard(options);
  const pool = await WorkerPool.create(2, (id) => new LocalWorker(rowCounter, { id }));
  const watch = board.watch(pool, { intervalMs: 250, prefix: 'shard %d:' });

  const queue = Array.from({ length: files }, (_, i) => i + 1);
  const summary = board.addJob({ prefix: 'import:', initialText: 'files' });
  let imported = 0;
  let rows = 0;

  const importers = runWorkers(
    3,
    wrapWithStatus(board, async function* (job, signal) {
      for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
        const file = `guild-${n}.csv`;
        const guild = tenantId('guild', (BigInt(n) << 22n) + 81384788765712384n); // one guild per file
        for (let line = 1; line <= rowsPerFile; line++) {
          job.update(`${file} row ${line}/${rowsPerFile}`);
          await sleep(rowDelayMs, undefined, { signal });
          await pool.dispatch(guild, { file, line }, { signal });
        }
        yield rowsPerFile;
      }
    }),
  );
  for await (const count of importers) {
    rows += count;
    summary.progress(++imported, files);
  }
  summary.close(`imported ${rows} rows from ${files} files`);
  watch.stop(); // a last reading of the pool, before closing it drops its tenants
  await pool.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runDemo();
}
