/**
 * Compares what an example printed with the `Output:` block its README shows.
 * @module
 */

/** The wildcard: in a line, any text; as a line of its own, any number of lines. */
export const ELLIPSIS = '…';

/** Lines without trailing whitespace, and without blank lines at the start and the end. */
export function normalizeOutput(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/^\n+/, '')
    .replace(/\n+$/, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The regular expression an expected output stands for (see {@link ELLIPSIS}). */
export function outputPattern(expected: string): RegExp {
  let source = '';
  for (const line of normalizeOutput(expected).split('\n')) {
    if (line.trim() === ELLIPSIS) source += '(?:[^\\n]*\\n)*?';
    else source += escapeRegExp(line).split(ELLIPSIS).join('[^\\n]*?') + '\\n';
  }
  return new RegExp(`^${source}$`, 'u');
}

/** Whether `actual` (what a program printed) is what `expected` shows. */
export function matchesOutput(actual: string, expected: string): boolean {
  return outputPattern(expected).test(normalizeOutput(actual) + '\n');
}
