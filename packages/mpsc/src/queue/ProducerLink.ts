import { deserialize as v8Deserialize } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import { ProtocolError } from '@switchyard/core';
import type { FastBuffer } from '../shared/platform.js';
import { fastBuffer } from '../shared/platform.js';
import type { SpillMessage } from '../shared/protocol.js';
import {
  RING_DATA_OFFSET,
  RING_HEAD,
  RING_TAIL,
  SLOT_STATE,
  slotWord,
  SPILL_JSON,
  SPILL_NONE,
  SPILL_SWITCH,
  SPILL_V8,
  STATE_COUNT_MASK,
  TAG_BYTES,
  TAG_F64,
  TAG_FALSE,
  TAG_INT,
  TAG_JSON,
  TAG_NULL,
  TAG_PAD,
  TAG_SPILL,
  TAG_STR_LATIN1,
  TAG_STR_UTF16,
  TAG_STR_UTF8,
  TAG_TRUE,
  TAG_V8,
} from '../shared/protocol.js';
import type { Deque } from './Deque.js';

function deserialize(bytes: Uint8Array): unknown {
  return v8Deserialize(bytes);
}

/**
 * The consumer's end of one producer: reads its ring in batches, takes its spilled values from
 * the port in order, and knows whether it has anything pending.
 *
 * @internal
 */
export class ProducerLink {
  /** The producer slot in the queue's control block. */
  readonly slot: number;
  readonly port: MessagePort;
  readonly #control: Int32Array;
  readonly #state: number;
  #header!: Int32Array;
  #i32!: Int32Array;
  #f64!: Float64Array;
  #u8!: Uint8Array;
  #buf!: FastBuffer;
  #capacity = 0;
  #mask = 0;
  #head = 0;
  /** Values taken from this producer (ring and port). */
  #read = 0;
  /** After a SPILL marker: values come from the port until one says to resume. */
  #spilling = false;

  constructor(control: Int32Array, slot: number, ring: SharedArrayBuffer, port: MessagePort) {
    this.slot = slot;
    this.port = port;
    this.#control = control;
    this.#state = slotWord(slot, SLOT_STATE);
    this.#attach(ring);
  }

  #attach(ring: SharedArrayBuffer): void {
    const capacity = ring.byteLength - RING_DATA_OFFSET;
    this.#header = new Int32Array(ring, 0, RING_DATA_OFFSET / 4);
    this.#i32 = new Int32Array(ring, RING_DATA_OFFSET, capacity / 4);
    this.#f64 = new Float64Array(ring, RING_DATA_OFFSET, capacity / 8);
    this.#u8 = new Uint8Array(ring, RING_DATA_OFFSET, capacity);
    this.#buf = fastBuffer(ring, RING_DATA_OFFSET, capacity);
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    this.#head = Atomics.load(this.#header, RING_HEAD) >>> 0;
  }

  /** Values taken from this producer so far. */
  get read(): number {
    return this.#read;
  }

  /** Values this producer has published that the consumer has not taken yet. */
  pending(): number {
    const published = Atomics.load(this.#control, this.#state) >>> 1;
    const pending = (published - this.#read) & STATE_COUNT_MASK;
    // The count lags the ring by a moment, and a producer killed after posting a spilled value
    // but before counting it leaves the count one short: never report a negative.
    return pending > STATE_COUNT_MASK >>> 1 ? 0 : pending;
  }

  /** True while the producer is between its closed check and publishing. */
  busy(): boolean {
    return (Atomics.load(this.#control, this.#state) & 1) !== 0;
  }

  /**
   * Moves up to `max` values from the ring into `out`; stops at a SPILL marker (the next values
   * come from the port). Returns how many values moved.
   */
  pump(out: Deque<unknown>, max: number): number {
    if (this.#spilling) return 0;
    const tail = Atomics.load(this.#header, RING_TAIL) >>> 0;
    let head = this.#head;
    if (head === tail) return 0;
    const i32 = this.#i32;
    const mask = this.#mask;
    let count = 0;
    while (head !== tail && count < max) {
      const index = head & mask;
      const word = i32[index >> 2]!;
      const length = word >>> 4;
      let size = 8;
      switch (word & 15) {
        case TAG_INT:
          out.push(i32[(index >> 2) + 1]);
          break;
        case TAG_F64:
          out.push(this.#f64[(index >> 3) + 1]);
          size = 16;
          break;
        case TAG_STR_LATIN1:
          out.push(this.#buf.latin1Slice(index + 4, index + 4 + length));
          size = (length + 11) & ~7;
          break;
        case TAG_STR_UTF8:
          out.push(this.#buf.utf8Slice(index + 4, index + 4 + length));
          size = (length + 11) & ~7;
          break;
        case TAG_STR_UTF16:
          out.push(this.#buf.ucs2Slice(index + 4, index + 4 + length));
          size = (length + 11) & ~7;
          break;
        case TAG_JSON:
          out.push(JSON.parse(this.#buf.utf8Slice(index + 4, index + 4 + length)));
          size = (length + 11) & ~7;
          break;
        case TAG_BYTES:
          out.push(this.#u8.slice(index + 4, index + 4 + length));
          size = (length + 11) & ~7;
          break;
        case TAG_V8:
          // Copy first: v8.deserialize makes typed arrays that view the bytes it was given.
          out.push(deserialize(this.#u8.slice(index + 4, index + 4 + length)));
          size = (length + 11) & ~7;
          break;
        case TAG_TRUE:
          out.push(true);
          break;
        case TAG_FALSE:
          out.push(false);
          break;
        case TAG_NULL:
          out.push(null);
          break;
        case TAG_PAD:
          head = (head + this.#capacity - index) >>> 0;
          continue;
        case TAG_SPILL:
          head = (head + 8) >>> 0;
          this.#spilling = true;
          Atomics.store(this.#header, RING_HEAD, head | 0);
          this.#head = head;
          this.#read += count;
          return count;
        default:
          throw new ProtocolError(`Corrupt record (tag ${word & 15}) in the ring of producer ${this.slot}.`);
      }
      head = (head + size) >>> 0;
      count++;
    }
    Atomics.store(this.#header, RING_HEAD, head | 0);
    this.#head = head;
    this.#read += count;
    return count;
  }

  /**
   * Takes one message from the producer's port into `out`, after the ring records that precede
   * it. Returns how many values moved.
   */
  takeSpill(message: SpillMessage, out: Deque<unknown>): number {
    let moved = 0;
    // The producer published a SPILL marker before posting: read up to it.
    while (!this.#spilling) {
      const n = this.pump(out, Number.MAX_SAFE_INTEGER);
      moved += n;
      if (n === 0 && !this.#spilling) throw new ProtocolError(`Producer ${this.slot} spilled a value without a SPILL marker.`);
    }
    const [resume, kind, payload] = message;
    if (kind === SPILL_SWITCH) {
      this.#attach(payload as SharedArrayBuffer);
    } else if (kind !== SPILL_NONE) {
      out.push(kind === SPILL_JSON ? JSON.parse(payload as string) : kind === SPILL_V8 ? deserialize(payload as Uint8Array) : payload);
      this.#read++;
      moved++;
    }
    if (resume === 1) this.#spilling = false;
    return moved;
  }

  /** After the producer is gone (its port closed): takes everything left in the ring. */
  drainRemains(out: Deque<unknown>): number {
    this.#spilling = false;
    let moved = 0;
    for (;;) {
      const n = this.pump(out, Number.MAX_SAFE_INTEGER);
      moved += n;
      if (n === 0 && !this.#spilling) return moved;
      this.#spilling = false;
    }
  }
}
