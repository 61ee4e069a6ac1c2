import type { Connection } from '../protocol/Connection.js';

/** The hub method a `ProcessWorker` registers itself with. @internal */
export const attachWorker = Symbol('switchyard.hub.attachWorker');
/** The hub method `createHub()` starts listening with. @internal */
export const startListening = Symbol('switchyard.hub.startListening');
/**
 * The hub method a `ProcessWorker` calls before it spawns a process: a fresh key for that process
 * (one incarnation), accepted for one connection; everything issued before for the id stops working.
 * @internal
 */
export const issueCredential = Symbol('switchyard.hub.issueCredential');

/** What the hub knows about an authenticated connection. @internal */
export interface ConnectionInfo {
  /** The process id the worker announced (`x-switchyard-pid`), when it did. */
  pid: number | undefined;
  /** `address:port` of the peer. */
  remoteAddress: string;
}

/** The master-side owner of one worker id's connections. @internal */
export interface AttachedWorker {
  /** An authenticated connection for the worker id arrived; set `connection.handlers` now. */
  connected(connection: Connection, info: ConnectionInfo): void;
}
