import type { GatewayConnection } from './GatewayConnection.js';

/** What tests can see of a gateway session (one IDENTIFY, possibly resumed many times). */
export interface GatewaySessionInfo {
  /** The `session_id` sent in READY. */
  readonly id: string;
  readonly shardId: number;
  readonly shardCount: number;
  readonly intents: number;
  /** Whether a WebSocket currently carries this session. */
  readonly connected: boolean;
  /** The sequence number of the last dispatch of this session. */
  readonly sequence: number;
  /** How many times the session was resumed. */
  readonly resumeCount: number;
  /** Unix ms of the IDENTIFY. */
  readonly identifiedAt: number;
}

/**
 * One gateway session: a shard's sequence of dispatches, kept in a ring of pre-serialized frames so
 * a RESUME can replay what the client missed.
 */
export class GatewaySession implements GatewaySessionInfo {
  readonly id: string;
  readonly shardId: number;
  readonly shardCount: number;
  readonly intents: number;
  readonly largeThreshold: number;
  readonly identifiedAt = Date.now();
  sequence = 0;
  resumeCount = 0;
  connection: GatewayConnection | null = null;
  /** Unix ms when the session lost its connection; `null` while connected. */
  disconnectedAt: number | null = null;
  invalidated = false;
  readonly #frames: string[];
  readonly #capacity: number;

  constructor(
    id: string,
    shardId: number,
    shardCount: number,
    intents: number,
    largeThreshold: number,
    capacity: number,
  ) {
    this.id = id;
    this.shardId = shardId;
    this.shardCount = shardCount;
    this.intents = intents;
    this.largeThreshold = largeThreshold;
    this.#capacity = capacity;
    this.#frames = new Array<string>(capacity);
  }

  get connected(): boolean {
    return this.connection !== null;
  }

  /** Numbers, frames, keeps and (when connected and ready) sends one dispatch. `json` is the serialized `d`. */
  push(event: string, json: string): void {
    const seq = ++this.sequence;
    const frame = `{"op":0,"t":"${event}","s":${seq},"d":${json}}`;
    this.#frames[seq % this.#capacity] = frame;
    this.connection?.send(frame);
  }

  /**
   * The frames after `sequence`, oldest first; `null` when some of them are no longer kept (the
   * client must identify again), `undefined` when `sequence` is ahead of the session (invalid seq).
   */
  framesAfter(sequence: number): string[] | null | undefined {
    if (sequence > this.sequence || sequence < 0) return undefined;
    if (this.sequence - sequence > this.#capacity) return null;
    const frames: string[] = [];
    for (let seq = sequence + 1; seq <= this.sequence; seq++) frames.push(this.#frames[seq % this.#capacity] as string);
    return frames;
  }

  toJSON(): GatewaySessionInfo {
    return {
      id: this.id,
      shardId: this.shardId,
      shardCount: this.shardCount,
      intents: this.intents,
      connected: this.connected,
      sequence: this.sequence,
      resumeCount: this.resumeCount,
      identifiedAt: this.identifiedAt,
    };
  }
}
