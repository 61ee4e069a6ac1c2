// A node module: its functions run on the node's own workers, one at a time per worker.
import { defineNode } from '@switchyard/node';

export const mailer = defineNode((node) => {
  const [smtp, audit] = node.workers(2);
  const outbox = [];
  return {
    // Runs on `smtp`: sends are serialised, in call order.
    send: smtp.function(async (to, subject) => {
      outbox.push({ to, subject });
      return { id: outbox.length, to };
    }),
    // Runs on `audit`, concurrently with sends.
    count: audit.function(() => outbox.length),
    where: audit.function(() => (process.send === undefined ? 'a worker thread' : `process ${process.pid}`)),
  };
});
