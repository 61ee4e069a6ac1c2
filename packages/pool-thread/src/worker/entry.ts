/**
 * The thread entry piscina loads in every worker thread of a `ThreadWorker`
 * (`@switchyard/pool-thread/worker`). It exports the task handler only; the user's module is
 * loaded by the `init` task, and everything else is in {@link ThreadHost}.
 */
import { workerData } from 'node:worker_threads';
import { ProtocolError } from '@switchyard/core';
import type { BatchResult, InitResult, ThreadStatsTuple, ThreadTask } from '../protocol.js';
import { ThreadHost } from './ThreadHost.js';

let host: ThreadHost | undefined;

/**
 * Piscina's handler (`name: 'handleTask'`): `init` loads the definition and runs `startup`,
 * `batch` hands a batch of items to the tenant runtime, `close` closes it gracefully.
 * Not async on purpose: a batch's items are enqueued synchronously, in arrival order.
 */
export function handleTask(task: ThreadTask): Promise<InitResult | BatchResult | ThreadStatsTuple> {
  switch (task.type) {
    case 'batch':
      if (host === undefined)
        return Promise.reject(new ProtocolError('A batch arrived before the worker thread was initialised.'));
      return host.batch(task);
    case 'init':
      if (host !== undefined) return Promise.reject(new ProtocolError('The worker thread was initialised twice.'));
      return ThreadHost.start(task, workerData).then(({ host: started, result }) => {
        host = started;
        return result;
      });
    case 'close':
      return host === undefined ? Promise.resolve([0, 0, 0, 0] as const) : host.close();
    default:
      return Promise.reject(
        new ProtocolError(`Unknown task type ${JSON.stringify((task as { type?: unknown }).type)}.`),
      );
  }
}
