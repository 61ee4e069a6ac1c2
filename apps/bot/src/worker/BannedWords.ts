function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds banned words in messages: whole words only ("ass" does not match "class"), any case,
 * and a phrase matches across any run of whitespace.
 *
 * @example
 * ```ts
 * new BannedWords(['free nitro']).find('get FREE  Nitro here'); // 'free nitro'
 * ```
 */
export class BannedWords {
  readonly words: readonly string[];
  readonly #pattern: RegExp | undefined;

  constructor(words: readonly string[]) {
    this.words = [...words];
    if (words.length === 0) return;
    const alternatives = [...words]
      .sort((a, b) => b.length - a.length)
      .map((word) => word.split(' ').map(escape).join('\\s+'));
    this.#pattern = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}_])`, 'iu');
  }

  /** The banned word `content` contains (lower case, as configured), or `undefined`. */
  find(content: string): string | undefined {
    const match = this.#pattern?.exec(content);
    if (match === null || match === undefined) return undefined;
    const found = match[0].toLowerCase().replace(/\s+/g, ' ');
    return this.words.find((word) => word === found) ?? found;
  }
}
