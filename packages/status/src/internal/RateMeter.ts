/**
 * Measures a rate from a growing counter: the change over the most recent `windowMs`, using the
 * newest sample at least `windowMs` old as the base. No rate is given before the samples span a
 * tenth of the window. @internal
 */
export class RateMeter {
  readonly #windowMs: number;
  readonly #times: number[] = [];
  readonly #values: number[] = [];
  /** The rate last measured, `undefined` before it could be measured. */
  rate: number | undefined = undefined;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Records `value` at `now` (ms) and returns the rate per second, or `undefined` before two samples. */
  sample(now: number, value: number): number | undefined {
    const last = this.#values.length - 1;
    if (last >= 0 && (value < this.#values[last]! || now < this.#times[last]!)) {
      // The counter was reset (or the clock went back): start measuring again.
      this.#times.length = 0;
      this.#values.length = 0;
      this.rate = undefined;
    }
    const count = this.#times.length;
    if (count >= 2 && now - this.#times[count - 2]! < this.#windowMs / 16) {
      // Close to the previous sample: move the newest one rather than growing (bounded memory).
      this.#times[count - 1] = now;
      this.#values[count - 1] = value;
    } else {
      this.#times.push(now);
      this.#values.push(value);
    }
    while (this.#times.length > 2 && now - this.#times[1]! >= this.#windowMs) {
      this.#times.shift();
      this.#values.shift();
    }
    const elapsed = now - this.#times[0]!;
    // Over too short a time a rate is noise (two workers finishing in the same millisecond).
    if (elapsed < this.#windowMs / 10) return this.rate;
    this.rate = ((value - this.#values[0]!) * 1000) / elapsed;
    return this.rate;
  }

  /** How many samples are kept (bounded: about 18 whatever the call rate). */
  get samples(): number {
    return this.#times.length;
  }
}
