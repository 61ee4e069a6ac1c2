import { deserialize as v8Deserialize } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import { ProtocolError } from '@switchyard/core';
import type { FastBuffer } from '../shared/platform.js';
import { shortLatin1 } from '../shared/latin1.js';
import { fastBuffer } from '../shared/platform.js';
import type { SpillMessage } from '../shared/protocol.js';
import {
  RING_ACK,
  RING_DATA_OFFSET,
  RING_HEAD,
  RING_TAIL,
  SLOT_SENT,
  SLOT_SPILLED,
  slotWord,
  SPILL_STRUCT,
  SPILL_NONE,
  SPILL_SWITCH,
  SPILL_V8,
  TAG_BYTES,
  TAG_F64,
  TAG_FALSE,
  TAG_INT,
  TAG_NULL,
  TAG_PAD,
  TAG_SPILL,
  TAG_STR_LATIN1,
  TAG_STR_UTF16,
  TAG_STR_UTF8,
  TAG_STRUCT,
  TAG_TRUE,
  TAG_V8,
  TAIL_CLOSED,
  TAIL_FLAGS,
  TAIL_SLEEPING,
} from '../shared/protocol.js';
import type { ByteSource } from '../codec/StructDecoder.js';
import { byteSource, StructDecoder } from '../codec/StructDecoder.js';
import type { Deque } from './Deque.js';

/** Bytes of records one pump decodes at most (see pump()). */
const PULL_BYTES = 64 * 1024;

/** Where decoded values go: the queue's ready buffer or a recvMany result. */
export interface Sink {
  push(value: unknown): unknown;
}

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
  readonly #spilled: number;
  readonly #sent: number;
  #header!: Int32Array;
  #i32!: Int32Array;
  #f64!: Float64Array;
  #u8!: Uint8Array;
  #buf!: FastBuffer;
  /** The ring's bytes for the decoder of plain data. */
  #source!: ByteSource;
  /** Knows the shapes this producer defined (they outlive ring switches). */
  readonly #decoder: StructDecoder;
  #capacity = 0;
  #mask = 0;
  #head = 0;
  /** Values taken from this producer (ring and port). */
  #read = 0;
  /** Values dropped because they could not be decoded (one per record or message known to hold one). */
  #dropped = 0;
  /** Port messages taken that the producer counted in SLOT_SPILLED. */
  #spillsTaken = 0;
  /** After a SPILL marker: values come from the port until one says to resume. */
  #spilling = false;
  #closed = false;
  #sleeping = false;

  /** Told of a record or spilled value that cannot be decoded (it is dropped; reading goes on after it). */
  readonly #onCorrupt: (error: ProtocolError) => void;

  constructor(
    control: Int32Array,
    slot: number,
    ring: SharedArrayBuffer,
    port: MessagePort,
    onCorrupt: (error: ProtocolError) => void,
  ) {
    this.slot = slot;
    this.port = port;
    this.#onCorrupt = onCorrupt;
    this.#control = control;
    this.#spilled = slotWord(slot, SLOT_SPILLED);
    this.#sent = slotWord(slot, SLOT_SENT);
    this.#decoder = new StructDecoder(slot);
    this.#attach(ring);
  }

  #attach(ring: SharedArrayBuffer): void {
    const capacity = ring.byteLength - RING_DATA_OFFSET;
    const header = new Int32Array(ring, 0, RING_DATA_OFFSET / 4);
    this.#header = header;
    this.#i32 = new Int32Array(ring, RING_DATA_OFFSET, capacity / 4);
    this.#f64 = new Float64Array(ring, RING_DATA_OFFSET, capacity / 8);
    this.#u8 = new Uint8Array(ring, RING_DATA_OFFSET, capacity);
    this.#buf = fastBuffer(ring, RING_DATA_OFFSET, capacity);
    // The views above, and a DataView for the decoder's unaligned numbers.
    this.#source = { u8: this.#u8, buf: this.#buf, view: new DataView(ring, RING_DATA_OFFSET, capacity) };
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    this.#head = Atomics.load(header, RING_HEAD) >>> 0;
    // Flags first, then the acknowledgement: from then on the producer trusts the tail's flags.
    if (this.#closed) Atomics.or(header, RING_TAIL, TAIL_CLOSED);
    if (this.#sleeping) Atomics.or(header, RING_TAIL, TAIL_SLEEPING);
    Atomics.store(header, RING_ACK, 1);
  }

  /** Values taken from this producer so far. */
  get read(): number {
    return this.#read;
  }

  /** Spilled values (and ring switches) posted by the producer that have not arrived yet. */
  inFlight(): number {
    const pending = Atomics.load(this.#control, this.#spilled) - this.#spillsTaken;
    return pending > 0 ? pending : 0;
  }

  /**
   * Values the producer published that were not taken yet: in its ring (also behind a SPILL
   * marker, or in a ring it switched to) or still on their way through the port.
   */
  unread(): number {
    const pending = (Atomics.load(this.#control, this.#sent) - this.#read - this.#dropped) | 0;
    return pending > 0 ? pending : 0;
  }

  /** Nothing left to read in the ring and nothing in flight on the port (meaningful once closed). */
  drained(): boolean {
    return this.#publishedTail() === this.#head && this.inFlight() === 0;
  }

  /** Flags the ring closed: the producer's next publish fails. */
  close(): void {
    this.#closed = true;
    Atomics.or(this.#header, RING_TAIL, TAIL_CLOSED);
  }

  /**
   * Flags (or unflags) that the consumer sleeps: the producer's next publish clears the flag and
   * posts a wake-up. Flagging is always done (the producer may have cleared the flag since).
   */
  sleep(sleeping: boolean): void {
    if (!sleeping && !this.#sleeping) return;
    this.#sleeping = sleeping;
    if (sleeping) Atomics.or(this.#header, RING_TAIL, TAIL_SLEEPING);
    else Atomics.and(this.#header, RING_TAIL, ~TAIL_SLEEPING);
  }

  /**
   * Moves up to `max` values from the ring into `out`; stops at a SPILL marker (the next values
   * come from the port), and once it has moved values and passed PULL_BYTES of the ring. Returns
   * how many values moved; 0 only when nothing can be read now.
   *
   * A record that cannot be decoded (only a broken producer writes one) is dropped and reported to
   * `onCorrupt`; the values before it are delivered once and the next call goes on after it. A
   * record whose header is unreadable drops everything published so far (the next record boundary
   * known for certain is the published tail).
   */
  pump(out: Sink, max: number): number {
    if (this.#spilling) return 0;
    const tail = this.#publishedTail();
    let head = this.#head;
    if (head === tail) return 0;
    // A batch of large values is decoded into objects that all live until the batch is handed
    // over: past PULL_BYTES of the ring, stop (at a record boundary), so that they die young.
    const limit = (head + PULL_BYTES) >>> 0;
    const i32 = this.#i32;
    const mask = this.#mask;
    let count = 0;
    /** While a record that may fail to decode is decoded: where it ends. */
    let skip = -1;
    try {
      read: while (head !== tail && count < max) {
        if (count > 0 && (head - limit) >>> 0 < 0x80000000) break;
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
            out.push(shortLatin1(this.#u8, index + 4, length) ?? this.#buf.latin1Slice(index + 4, index + 4 + length));
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
          case TAG_STRUCT:
            size = (length + 11) & ~7;
            skip = (head + size) >>> 0;
            out.push(this.#decoder.decode(this.#source, index + 4, index + 4 + length));
            break;
          case TAG_BYTES:
            out.push(this.#u8.slice(index + 4, index + 4 + length));
            size = (length + 11) & ~7;
            break;
          case TAG_V8:
            size = (length + 11) & ~7;
            skip = (head + size) >>> 0;
            // Copy first: v8.deserialize makes typed arrays that view the bytes it was given.
            out.push(deserialize(this.#u8.slice(index + 4, index + 4 + length)));
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
            break read;
          default:
            throw new ProtocolError(
              `Corrupt record (tag ${word & 15}) in the ring of producer ${this.slot}; ${(tail - head) >>> 0} bytes of records dropped.`,
            );
        }
        head = (head + size) >>> 0;
        count++;
      }
    } catch (error) {
      head = skip !== -1 ? skip : tail;
      if (skip !== -1) this.#dropped++;
      this.#reportCorrupt(error, `in the ring of producer ${this.slot}`);
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
    moved += this.pumpAll(out);
    if (!this.#spilling) {
      // A broken producer: take the message anyway rather than lose it or stall.
      this.#onCorrupt(new ProtocolError(`Producer ${this.slot} spilled a value without a SPILL marker.`));
    }
    const [resume, kind, payload] = message;
    if (kind === SPILL_SWITCH) {
      this.#spillsTaken++;
      this.#attach(payload as SharedArrayBuffer);
    } else if (kind !== SPILL_NONE) {
      this.#spillsTaken++;
      try {
        out.push(
          kind === SPILL_STRUCT
            ? this.#decodeSpilled(payload as Uint8Array)
            : kind === SPILL_V8
              ? deserialize(payload as Uint8Array)
              : payload,
        );
        this.#read++;
        moved++;
      } catch (error) {
        this.#dropped++;
        this.#reportCorrupt(error, `spilled by producer ${this.slot}`);
      }
    }
    if (resume === 1) this.#spilling = false;
    return moved;
  }

  /** The tail without its flags. */
  #publishedTail(): number {
    return (Atomics.load(this.#header, RING_TAIL) & ~TAIL_FLAGS) >>> 0;
  }

  /** Tells the queue of a value that could not be decoded (a decoder's ProtocolError, or wraps what else was thrown). */
  #reportCorrupt(error: unknown, where: string): void {
    this.#onCorrupt(
      error instanceof ProtocolError
        ? error
        : new ProtocolError(`Corrupt value ${where}; it was dropped.`, { cause: error }),
    );
  }

  #decodeSpilled(bytes: Uint8Array): unknown {
    return this.#decoder.decode(byteSource(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.byteLength);
  }

  /** Takes every record published so far, up to a SPILL marker. Returns how many values moved. */
  pumpAll(out: Sink): number {
    let moved = 0;
    while (!this.#spilling && this.#head !== this.#publishedTail()) {
      moved += this.pump(out, Number.MAX_SAFE_INTEGER);
    }
    return moved;
  }

  /** After the producer is gone (its port closed): takes everything left in the ring. */
  drainRemains(out: Deque<unknown>): number {
    // Every message it posted has arrived (a port's 'close' comes after them); a count it raised
    // just before dying, without posting, is void.
    this.#spillsTaken = Atomics.load(this.#control, this.#spilled);
    let moved = 0;
    do {
      // A SPILL marker whose message never came (it died in between): what follows is in the ring.
      this.#spilling = false;
      moved += this.pumpAll(out);
    } while (this.#spilling);
    return moved;
  }
}
