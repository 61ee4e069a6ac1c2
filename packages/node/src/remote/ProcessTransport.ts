import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { IpcRequest, NodeRequest, NodeResponse } from '../protocol/protocol.js';
import { isIpcResponse } from '../protocol/protocol.js';
import type { NodeTransport, TransportCallbacks } from './NodeTransport.js';
import { allSettledWithin } from './settle.js';

const processEntry = fileURLToPath(new URL('../worker/process.js', import.meta.url));

/** Options of {@link ProcessTransport}. @internal */
export interface ProcessTransportOptions {
  url: string;
  env: NodeJS.ProcessEnv | undefined;
  execArgv: string[] | undefined;
  closeTimeoutMs: number;
}

interface PendingRequest {
  resolve: (response: NodeResponse) => void;
  reject: (error: Error) => void;
  /** Settles (never rejects) when the request does. */
  settled: Promise<unknown>;
}

/**
 * One child process started with `child_process.fork` (`serialization: 'advanced'`, so values
 * cross as structured clones), requests matched to answers by a counter id. The IPC channel only
 * holds the parent's event loop open while requests are in flight, like piscina's threads; the
 * child exits when the channel closes, so it never outlives its parent.
 * @internal
 */
export class ProcessTransport implements NodeTransport {
  readonly topology = 'process';
  readonly #child: ChildProcess;
  readonly #callbacks: TransportCallbacks;
  readonly #closeTimeoutMs: number;
  readonly #pending = new Map<number, PendingRequest>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #ending = false;
  #exitedFlag = false;
  #lastError: Error | undefined;

  constructor(options: ProcessTransportOptions, callbacks: TransportCallbacks) {
    this.#callbacks = callbacks;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    this.#child = fork(processEntry, [options.url], {
      serialization: 'advanced',
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }),
    });
    let markExited!: () => void;
    this.#exited = new Promise((resolve) => (markExited = resolve));
    this.#child.on('message', (message: unknown) => {
      if (!isIpcResponse(message)) return;
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      this.#updateRef();
      pending.resolve(message.response);
    });
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.#exitedFlag) return;
      this.#exitedFlag = true;
      const how = signal !== null ? `signal ${signal}` : code !== null ? `code ${code}` : 'an error';
      const error = new Error(
        `The node process exited with ${how}.`,
        this.#lastError === undefined ? {} : { cause: this.#lastError },
      );
      if (!this.#ending) {
        this.#ending = true;
        this.#callbacks.onCrash(error);
      }
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const request of pending) request.reject(error);
      markExited();
    };
    // 'error': the process could not be spawned or killed, or a message could not be sent.
    this.#child.on('error', (error) => {
      this.#lastError = error;
      if (this.#child.pid === undefined) onExit(null, null);
    });
    this.#child.once('exit', onExit);
    this.#child.unref();
    this.#updateRef();
  }

  get pid(): number | undefined {
    return this.#exitedFlag ? undefined : this.#child.pid;
  }

  get threadId(): undefined {
    return undefined;
  }

  request(request: NodeRequest): Promise<NodeResponse> {
    if (this.#exitedFlag)
      return Promise.reject(
        new Error('The node process has exited.', this.#lastError === undefined ? {} : { cause: this.#lastError }),
      );
    const id = this.#nextId++;
    const message: IpcRequest = { id, request };
    let entry!: PendingRequest;
    const promise = new Promise<NodeResponse>((resolve, reject) => {
      entry = { resolve, reject, settled: Promise.resolve() };
    });
    entry.settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.set(id, entry);
    this.#updateRef();
    const fail = (error: Error): void => {
      if (this.#pending.get(id) !== entry) return;
      this.#pending.delete(id);
      this.#updateRef();
      entry.reject(error);
    };
    try {
      this.#child.send(message, (error) => {
        if (error != null) fail(error);
      });
    } catch (error) {
      fail(error as Error);
    }
    return promise;
  }

  async kill(): Promise<void> {
    this.#ending = true;
    if (this.#exitedFlag) return;
    // Hold the event loop until the 'exit' event: someone awaits it.
    this.#child.ref();
    this.#child.kill('SIGKILL');
    await this.#exited;
  }

  async close(): Promise<void> {
    this.#ending = true;
    if (this.#exitedFlag) return;
    this.#child.ref();
    const started = performance.now();
    if (
      await allSettledWithin(
        [...this.#pending.values()].map((pending) => pending.settled),
        this.#closeTimeoutMs,
      )
    ) {
      // The child exits on 'disconnect'; the rest of the timeout still bounds the wait.
      if (this.#child.connected) this.#child.disconnect();
      const left = Math.max(0, this.#closeTimeoutMs - (performance.now() - started));
      if (await allSettledWithin([this.#exited], left)) return;
    }
    this.#child.kill('SIGKILL');
    await this.#exited;
  }

  /** Holds the parent's event loop open only while requests are in flight. */
  #updateRef(): void {
    const channel = this.#child.channel;
    if (channel == null) return;
    if (this.#pending.size > 0) channel.ref();
    else channel.unref();
  }
}
