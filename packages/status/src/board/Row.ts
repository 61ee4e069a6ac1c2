/** What a row tells its board. Implemented by `StatusBoard` with a closure. @internal */
export type RowHost = (row: Row) => void;

/**
 * One line of the board: a fixed prefix and a text that changes. Setting the same text again is
 * free; a different text tells the board, which redraws later (throttled). @internal
 */
export class Row {
  readonly prefix: string;
  #text: string;
  /** The text last written in plain (non-TTY) mode, to print only rows that changed. */
  printed: string | undefined = undefined;
  readonly #host: RowHost;

  constructor(prefix: string, text: string, host: RowHost) {
    this.prefix = prefix;
    this.#text = text;
    this.#host = host;
  }

  get text(): string {
    return this.#text;
  }

  set(text: string): void {
    if (text === this.#text) return;
    this.#text = text;
    this.#host(this);
  }
}
