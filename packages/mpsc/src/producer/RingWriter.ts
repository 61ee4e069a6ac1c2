import type { MessagePort } from 'node:worker_threads';
import type { FastBuffer } from '../shared/platform.js';
import { fastBuffer, isWellFormed } from '../shared/platform.js';
import type { SpillMessage } from '../shared/protocol.js';
import {
  CTL_CLOSED,
  MAX_RING_BYTES,
  RING_ACK,
  RING_DATA_OFFSET,
  RING_HEAD,
  RING_RESERVE,
  RING_TAIL,
  SLOT_SPILLED,
  slotWord,
  SPILL_STRUCT,
  SPILL_NONE,
  SPILL_RAW,
  SPILL_SWITCH,
  SPILL_WAKE,
  SPILL_V8,
  TAG_BYTES,
  TAG_F64,
  TAG_INT,
  TAG_PAD,
  TAG_SPILL,
  TAG_STR_LATIN1,
  TAG_STR_UTF16,
  TAG_STR_UTF8,
  TAG_STRING,
  TAG_STRUCT,
  TAG_V8,
  TAIL_CLOSED,
  TAIL_FLAGS,
  TAIL_SLEEPING,
} from '../shared/protocol.js';

/** Strings up to this length are written by a JS loop (latin1, or UTF-16 when they need it). */
const SHORT_STRING = 32;

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * The producer's end of its ring: writes one record per value and publishes it with a single
 * compare-and-swap of the ring's tail, which also tells it whether the queue was closed (the
 * consumer sets a flag in the tail) and whether the consumer sleeps (another flag; then it posts
 * a wake-up message on its port).
 *
 * When the ring is full it moves to a ring twice as large (up to `maxRingBytes`), and values
 * larger than a quarter of the ring (or arriving while the largest ring is full) are spilled to
 * the port; either way a SPILL marker in the old ring tells the consumer where the port takes
 * over, so this producer's order is kept.
 *
 * @internal
 */
export class RingWriter {
  readonly #control: Int32Array;
  readonly #spilled: number;
  readonly #port: MessagePort;
  readonly #maxRingBytes: number;
  #header!: Int32Array;
  #i32!: Int32Array;
  #f64!: Float64Array;
  #u8!: Uint8Array;
  #u16!: Uint16Array;
  #buf!: FastBuffer;
  #capacity = 0;
  #mask = 0;
  #maxRecord = 0;
  /** The published tail (without flags). */
  #tail = 0;
  /** Where the record being written ends; published by #publish(). */
  #next = 0;
  #head = 0;
  #spilling = false;
  /** On a ring handed over by a switch, until the consumer has seen it: it cannot flag it closed yet. */
  #unacknowledged = false;

  constructor(
    control: Int32Array,
    slot: number,
    ring: SharedArrayBuffer,
    port: MessagePort,
    maxRingBytes = MAX_RING_BYTES,
  ) {
    this.#control = control;
    this.#spilled = slotWord(slot, SLOT_SPILLED);
    this.#port = port;
    this.#maxRingBytes = maxRingBytes;
    this.#attach(ring);
  }

  #attach(ring: SharedArrayBuffer): void {
    const capacity = ring.byteLength - RING_DATA_OFFSET;
    this.#header = new Int32Array(ring, 0, RING_DATA_OFFSET / 4);
    this.#i32 = new Int32Array(ring, RING_DATA_OFFSET, capacity / 4);
    this.#f64 = new Float64Array(ring, RING_DATA_OFFSET, capacity / 8);
    this.#u8 = new Uint8Array(ring, RING_DATA_OFFSET, capacity);
    this.#u16 = new Uint16Array(ring, RING_DATA_OFFSET, capacity / 2);
    this.#buf = fastBuffer(ring, RING_DATA_OFFSET, capacity);
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    this.#maxRecord = capacity / 4;
    this.#tail = (Atomics.load(this.#header, RING_TAIL) & ~TAIL_FLAGS) >>> 0;
    this.#head = Atomics.load(this.#header, RING_HEAD) >>> 0;
  }

  /**
   * Publishes one value prepared by `prepare()`; returns false, publishing nothing, when the queue
   * is closed. Synchronous: once it returns true, the value is in a ring or posted to the
   * consumer's port, and survives this thread's death.
   */
  write(tag: number, payload: unknown): boolean {
    if ((tag === TAG_INT || tag === TAG_F64) && this.#tryWriteNumber(tag, payload as number)) return true;
    if (tag === TAG_STRING && this.#tryWriteShortLatin1(payload as string)) return true;
    if (this.#unacknowledged && !this.#openOnNewRing()) return false;
    const need = this.#worstCaseSize(tag, payload);
    if (need <= this.#maxRecord) {
      let fits = this.#fits(need);
      if (!fits && this.#capacity < this.#maxRingBytes) {
        if (!this.#grow()) return false;
        fits = true;
      }
      if (fits) {
        this.#writeRecord(tag, payload, need);
        if (!this.#publish()) return false;
        if (this.#spilling) {
          // The consumer reads the port until told to come back to the ring (where this record waits).
          this.#spilling = false;
          this.#port.postMessage([1, SPILL_NONE, null] satisfies SpillMessage);
        }
        return true;
      }
    }
    return this.#spill(tag, payload);
  }

  /**
   * The hot path for numbers: writes and publishes the record when the ring has room and nothing
   * else is going on (no spill, no new ring, no flag set by the consumer). Returns false, having
   * published nothing, otherwise: then write() takes the general path (and overwrites the
   * unpublished record).
   */
  #tryWriteNumber(tag: number, value: number): boolean {
    const size = tag === TAG_INT ? 8 : 16;
    const index = this.#fastIndex(size);
    if (index < 0) return false;
    const word = index >> 2;
    this.#i32[word] = tag;
    if (tag === TAG_INT) this.#i32[word + 1] = value;
    else this.#f64[(index >> 3) + 1] = value;
    return this.#fastPublish(size);
  }

  /** The hot path for short latin1 strings, like #tryWriteNumber. */
  #tryWriteShortLatin1(s: string): boolean {
    const length = s.length;
    if (length > SHORT_STRING) return false;
    const size = align8(4 + length);
    const index = this.#fastIndex(size);
    if (index < 0) return false;
    const u8 = this.#u8;
    const start = index + 4;
    for (let i = 0; i < length; i++) {
      const code = s.charCodeAt(i);
      if (code > 0xff) return false;
      u8[start + i] = code;
    }
    this.#i32[index >> 2] = TAG_STR_LATIN1 | (length << 4);
    return this.#fastPublish(size);
  }

  /**
   * For the hot paths: where a record of `size` bytes goes after the tail, or -1 when it does not
   * fit there without a pad (as far as the cached head tells) or something else is going on.
   */
  #fastIndex(size: number): number {
    if (this.#spilling || this.#unacknowledged) return -1;
    const tail = this.#tail;
    const index = tail & this.#mask;
    if (index + size > this.#capacity || ((tail - this.#head) >>> 0) + size + RING_RESERVE > this.#capacity) return -1;
    return index;
  }

  /** For the hot paths: publishes `size` bytes after the tail if no flag is set (the common case). */
  #fastPublish(size: number): boolean {
    const tail = this.#tail;
    const next = (tail + size) >>> 0;
    if (Atomics.compareExchange(this.#header, RING_TAIL, tail | 0, next | 0) !== (tail | 0)) return false;
    this.#tail = next;
    return true;
  }

  /**
   * On a ring handed over by a switch that the consumer has not taken up yet, the closed flag
   * cannot be in its tail: check the queue's own flag. Returns false when closed.
   */
  #openOnNewRing(): boolean {
    if (Atomics.load(this.#header, RING_ACK) !== 0) {
      this.#unacknowledged = false;
      return true;
    }
    return Atomics.load(this.#control, CTL_CLOSED) === 0;
  }

  /** Makes the bytes up to #next visible; false (nothing published) when the queue is closed. */
  #publish(): boolean {
    const header = this.#header;
    const next = this.#next | 0;
    let expected = this.#tail | 0;
    for (;;) {
      const found = Atomics.compareExchange(header, RING_TAIL, expected, next);
      if (found === expected) break;
      if ((found & TAIL_CLOSED) !== 0) return false;
      // The consumer flagged that it sleeps: publish without the flag, then wake it.
      expected = found;
    }
    this.#tail = this.#next;
    if ((expected & TAIL_SLEEPING) !== 0) {
      // A bare number: the cheapest message to clone.
      this.#port.postMessage(SPILL_WAKE);
    }
    return true;
  }

  /** Moves to a ring twice as large; the consumer finishes the old one, then follows. */
  #grow(): boolean {
    const control = this.#control;
    // Counted before the marker: a closing consumer that reads the marker must wait for the switch.
    Atomics.add(control, this.#spilled, 1);
    if (!this.#mark()) {
      Atomics.sub(control, this.#spilled, 1);
      return false;
    }
    const ring = new SharedArrayBuffer(RING_DATA_OFFSET + this.#capacity * 2);
    this.#port.postMessage([1, SPILL_SWITCH, ring] satisfies SpillMessage);
    this.#spilling = false;
    this.#unacknowledged = true;
    this.#attach(ring);
    return true;
  }

  /** Publishes a SPILL marker (once): what follows comes from the port. False when closed. */
  #mark(): boolean {
    if (this.#spilling) return true;
    // The reserve guarantees these 8 bytes are free (and contiguous: records are 8-aligned).
    this.#i32[(this.#tail & this.#mask) >> 2] = TAG_SPILL;
    this.#next = (this.#tail + 8) >>> 0;
    if (!this.#publish()) return false;
    this.#spilling = true;
    return true;
  }

  #worstCaseSize(tag: number, payload: unknown): number {
    switch (tag) {
      case TAG_F64:
        return 16;
      case TAG_STRING: {
        const s = payload as string;
        if (s.length <= SHORT_STRING) return align8(4 + 2 * s.length);
        return align8(4 + (isWellFormed(s) ? 3 : 2) * s.length);
      }
      case TAG_BYTES:
      case TAG_STRUCT:
      case TAG_V8:
        return align8(4 + (payload as Uint8Array).byteLength);
      default:
        return 8;
    }
  }

  /** Whether `need` bytes (plus a wrap-around pad, plus the SPILL reserve) are free. */
  #fits(need: number): boolean {
    const index = this.#tail & this.#mask;
    const contiguous = this.#capacity - index;
    const total = (need <= contiguous ? need : contiguous + need) + RING_RESERVE;
    if (total <= this.#capacity - ((this.#tail - this.#head) >>> 0)) return true;
    this.#head = Atomics.load(this.#header, RING_HEAD) >>> 0;
    return total <= this.#capacity - ((this.#tail - this.#head) >>> 0);
  }

  /** Writes the record after the published tail and sets #next to its end (nothing is published). */
  #writeRecord(tag: number, payload: unknown, need: number): void {
    let next = this.#tail;
    let index = next & this.#mask;
    if (need > this.#capacity - index) {
      this.#i32[index >> 2] = TAG_PAD;
      next = (next + this.#capacity - index) >>> 0;
      index = 0;
    }
    const i32 = this.#i32;
    let size = 8;
    switch (tag) {
      case TAG_INT:
        i32[index >> 2] = TAG_INT;
        i32[(index >> 2) + 1] = payload as number;
        break;
      case TAG_F64:
        i32[index >> 2] = TAG_F64;
        this.#f64[(index >> 3) + 1] = payload as number;
        size = 16;
        break;
      case TAG_STRING:
        size = this.#writeString(payload as string, index);
        break;
      case TAG_BYTES:
      case TAG_STRUCT:
      case TAG_V8: {
        const bytes = payload as Uint8Array;
        this.#u8.set(bytes, index + 4);
        i32[index >> 2] = tag | (bytes.byteLength << 4);
        size = align8(4 + bytes.byteLength);
        break;
      }
      default:
        // TAG_TRUE, TAG_FALSE, TAG_NULL: the tag is the value.
        i32[index >> 2] = tag;
    }
    this.#next = (next + size) >>> 0;
  }

  #writeString(s: string, index: number): number {
    const length = s.length;
    const start = index + 4;
    if (length <= SHORT_STRING) {
      const u8 = this.#u8;
      let i = 0;
      for (; i < length; i++) {
        const code = s.charCodeAt(i);
        if (code > 0xff) break;
        u8[start + i] = code;
      }
      if (i === length) {
        this.#i32[index >> 2] = TAG_STR_LATIN1 | (length << 4);
        return align8(4 + length);
      }
      const u16 = this.#u16;
      const start16 = start >> 1;
      for (i = 0; i < length; i++) u16[start16 + i] = s.charCodeAt(i);
      this.#i32[index >> 2] = TAG_STR_UTF16 | ((2 * length) << 4);
      return align8(4 + 2 * length);
    }
    if (isWellFormed(s)) {
      const bytes = this.#buf.utf8Write(s, start);
      this.#i32[index >> 2] = TAG_STR_UTF8 | (bytes << 4);
      return align8(4 + bytes);
    }
    // Lone surrogates would not survive UTF-8; keep the code units.
    const bytes = this.#buf.ucs2Write(s, start);
    this.#i32[index >> 2] = TAG_STR_UTF16 | (bytes << 4);
    return align8(4 + bytes);
  }

  #spill(tag: number, payload: unknown): boolean {
    if (!this.#mark()) return false;
    // Announce the message before checking for close: a consumer that closes after this sees it
    // counted and waits for it; one that closed before makes us take it back.
    const control = this.#control;
    Atomics.add(control, this.#spilled, 1);
    if (
      (Atomics.load(this.#header, RING_TAIL) & TAIL_CLOSED) !== 0 ||
      (this.#unacknowledged && Atomics.load(control, CTL_CLOSED) !== 0)
    ) {
      Atomics.sub(control, this.#spilled, 1);
      return false;
    }
    // Come back to the ring after this value if a future SPILL marker would still fit.
    this.#head = Atomics.load(this.#header, RING_HEAD) >>> 0;
    const resume = this.#capacity - ((this.#tail - this.#head) >>> 0) >= RING_RESERVE ? 1 : 0;
    const kind = tag === TAG_STRUCT ? SPILL_STRUCT : tag === TAG_V8 ? SPILL_V8 : SPILL_RAW;
    // Structured bytes are a view of the encoder's scratch buffer: post a copy of just them.
    this.#port.postMessage([
      resume,
      kind,
      tag === TAG_STRUCT ? (payload as Uint8Array).slice() : payload,
    ] satisfies SpillMessage);
    if (resume === 1) this.#spilling = false;
    return true;
  }
}
