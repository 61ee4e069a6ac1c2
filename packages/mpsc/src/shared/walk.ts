import { InvalidValueError } from '../errors/MpscError.js';

/**
 * What the two walks over a value to be sent share: the check done in the defining thread
 * (`assertSendable` in values.ts) and the encoder of plain data for producer threads
 * (`src/codec/StructEncoder.ts`).
 *
 * @internal
 */

/** Nesting deeper than this is left to the structured-clone algorithm itself. */
export const MAX_DEPTH = 64;

/** The error for a function or a symbol inside a value. */
export function uncloneable(what: string): InvalidValueError {
  return new InvalidValueError(
    `Cannot send ${what}: queue values must be structured-cloneable (see structuredClone()).`,
  );
}

/** Objects met in one walk are searched linearly up to this many (values usually hold a handful), then in a Set. */
const SMALL_WALK = 32;

/**
 * The objects met during one walk over a value, to find shared references and cycles. `clear()`
 * after each walk lets go of them.
 */
export class SeenObjects {
  readonly #small: (object | undefined)[] = [];
  #count = 0;
  readonly #set = new Set<object>();

  /** Records `value`; false when it was met before in this walk. */
  add(value: object): boolean {
    const small = this.#small;
    const count = this.#count++;
    if (count < SMALL_WALK) {
      for (let i = 0; i < count; i++) if (small[i] === value) return false;
      small[count] = value;
      if (count + 1 === SMALL_WALK) for (const object of small) this.#set.add(object!);
      return true;
    }
    if (this.#set.has(value)) return false;
    this.#set.add(value);
    return true;
  }

  /** Forgets every object (emptying the array slot by slot: `length = 0` is a slow runtime call). */
  clear(): void {
    const count = this.#count;
    if (count >= SMALL_WALK) this.#set.clear();
    for (let i = 0; i < count && i < SMALL_WALK; i++) this.#small[i] = undefined;
    this.#count = 0;
  }
}
