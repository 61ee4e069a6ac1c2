import { Writable } from 'node:stream';

/** A writable that records every chunk written to it, as a string. */
export class RecordingStream extends Writable {
  readonly chunks: string[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    callback();
  }

  /** Everything written so far. */
  get text(): string {
    return this.chunks.join('');
  }
}

/** A stream that says it is a terminal, as `process.stderr` does on a TTY. */
export class FakeTty extends RecordingStream {
  readonly isTTY = true;
  columns = 80;
  rows = 24;

  /** Changes the size and emits 'resize', as a terminal stream does. */
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

/** Removes the ANSI escape sequences log-update writes (cursor moves, erases, sync output). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001B\[\??[\d;]*[A-Za-z]/g, '');
}

/**
 * The smallest terminal that understands what log-update writes: printable characters, `\n`,
 * `\r`, cursor up/down/column (`A`, `B`, `G`), erase line (`2K`) and erase to end of line (`K`).
 * Private modes (`?25l`, `?2026h`) are ignored. Anything else throws, so that an unexpected
 * sequence fails the test rather than being rendered wrong.
 */
export class VirtualTerminal {
  readonly #lines: string[][] = [[]];
  #row = 0;
  #col = 0;

  write(data: string): void {
    const chars = Array.from(data);
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      if (ch === '\u001B') {
        const rest = chars.slice(i, i + 16).join('');
        // eslint-disable-next-line no-control-regex
        const match = /^\u001B\[(\?)?(\d*)([A-Za-z])/.exec(rest);
        if (match === null) throw new Error(`Unexpected escape sequence ${JSON.stringify(rest)}`);
        i += match[0].length - 1;
        const [, isPrivate, digits, command] = match;
        if (isPrivate !== undefined) continue;
        const n = digits === '' ? 1 : Number(digits);
        switch (command) {
          case 'A':
            this.#row = Math.max(0, this.#row - n);
            break;
          case 'B':
            this.#row += n;
            this.#ensureRow();
            break;
          case 'G':
            this.#col = n - 1;
            break;
          case 'K':
            if (digits === '2') this.#lines[this.#row] = [];
            else if (digits === '' || digits === '0')
              this.#lines[this.#row]!.length = Math.min(this.#lines[this.#row]!.length, this.#col);
            else throw new Error(`Unexpected erase ${JSON.stringify(match[0])}`);
            break;
          default:
            throw new Error(`Unexpected escape sequence ${JSON.stringify(match[0])}`);
        }
      } else if (ch === '\n') {
        this.#row++;
        this.#col = 0;
        this.#ensureRow();
      } else if (ch === '\r') {
        this.#col = 0;
      } else {
        const line = this.#lines[this.#row]!;
        while (line.length < this.#col) line.push(' ');
        line[this.#col] = ch;
        this.#col++;
      }
    }
  }

  /** The visible lines, without trailing empty lines. */
  get screen(): string[] {
    const lines = this.#lines.map((line) => line.join('').trimEnd());
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines;
  }

  /** The row the cursor is on (from 0). */
  get cursorRow(): number {
    return this.#row;
  }

  #ensureRow(): void {
    while (this.#lines.length <= this.#row) this.#lines.push([]);
  }
}

/** Replays every chunk written to `stream` on a fresh terminal and returns the screen. */
export function screenOf(stream: RecordingStream): string[] {
  const terminal = new VirtualTerminal();
  for (const chunk of stream.chunks) terminal.write(chunk);
  return terminal.screen;
}

/** The screen after each chunk (each chunk log-update writes is one frame). */
export function framesOf(stream: RecordingStream): string[][] {
  const terminal = new VirtualTerminal();
  return stream.chunks.map((chunk) => {
    terminal.write(chunk);
    return terminal.screen;
  });
}

/** A promise with its resolve function outside, to release a worker from a test. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
