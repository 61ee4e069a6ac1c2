import type { NodeRequest, NodeResponse } from '../protocol/protocol.js';

/** Where a spawned node runs. */
export type NodeTopology = 'thread' | 'process';

/**
 * The seam between a {@link RemoteNodeHandle} and the thread or process it talks to: sends
 * requests, ends the other side. Small enough to implement in a test.
 * @internal
 */
export interface NodeTransport {
  readonly topology: NodeTopology;
  /** The process id (process topology), when running. */
  readonly pid: number | undefined;
  /** The worker thread id (thread topology), when running. */
  readonly threadId: number | undefined;
  /** Sends one request; rejects (with the runtime's error) when the other side ends first. */
  request(request: NodeRequest): Promise<NodeResponse>;
  /** Ends the other side at once; requests in flight reject. Resolves once it is gone. */
  kill(): Promise<void>;
  /** Waits (at most the transport's close timeout) for requests in flight, then ends the other side. */
  close(): Promise<void>;
}

/** What a transport reports to its owner. @internal */
export interface TransportCallbacks {
  /** The other side ended without `kill()`/`close()` being called (at most once). */
  onCrash(cause: Error): void;
}
