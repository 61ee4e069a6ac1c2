/**
 * The process side of `spawnNode(url, { topology: 'process' })`: started by `child_process.fork`
 * with the module's URL as its only argument and an IPC channel using `serialization: 'advanced'`.
 * It answers each {@link IpcRequest} with an {@link IpcResponse} of the same id, and exits when
 * the channel closes (the parent closed the node, or died), so a node process never outlives
 * its parent.
 * @module
 */
import type { IpcResponse } from '../protocol/protocol.js';
import { isIpcRequest } from '../protocol/protocol.js';
import { ModuleHost } from './ModuleHost.js';

const url = process.argv[2];
if (typeof process.send !== 'function' || url === undefined) {
  process.stderr.write(
    '@switchyard/node: this file is the worker side of spawnNode(); it must be started by spawnNode({ topology: "process" }).\n',
  );
  process.exit(1);
}

const host = new ModuleHost(url);

process.on('message', (message: unknown) => {
  if (!isIpcRequest(message)) return;
  void host.handle(message.request).then((response) => {
    const answer: IpcResponse = { id: message.id, response };
    // The callback swallows a send failure: the channel only fails when the parent is gone, and
    // then 'disconnect' ends this process.
    process.send?.(answer, undefined, {}, () => {});
  });
});

process.once('disconnect', () => {
  process.exit(0);
});
