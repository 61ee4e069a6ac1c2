import { StatusInvalidArgumentError } from '../errors/errors.js';

/** A row prefix: a printf-like template formatted with the worker id, or a function of the id. */
export type PrefixFormat = string | ((id: number) => string);

const SPEC = /%(-?)(0?)(\d*)([d%])|%/g;

/**
 * Formats `template` with `id` the way printf formats an integer: `%d` is the id, `%2d` pads it
 * with spaces to 2 characters, `%02d` pads with zeros, `%-2d` pads on the right, and `%%` is a
 * percent sign. Any other `%` sequence is rejected.
 *
 * @throws {@link StatusInvalidArgumentError} when the template holds an unsupported `%` sequence.
 *
 * @example
 * ```ts
 * formatPrefix('worker %2d:', 3); // 'worker  3:'
 * formatPrefix('w%03d', 7);       // 'w007'
 * ```
 */
export function formatPrefix(template: string, id: number): string {
  return template.replace(SPEC, (match, left: string, zero: string, width: string, kind: string | undefined) => {
    if (kind === undefined) {
      throw new StatusInvalidArgumentError(
        `Expected the prefix template to use only %d, %Nd, %0Nd, %-Nd and %%, got ${JSON.stringify(template)}.`,
      );
    }
    if (kind === '%') {
      if (match !== '%%')
        throw new StatusInvalidArgumentError(
          `Expected \`%%\` without flags in the prefix template, got ${JSON.stringify(match)}.`,
        );
      return '%';
    }
    const digits = String(Math.trunc(id));
    const size = width === '' ? 0 : Number(width);
    if (left === '-') return digits.padEnd(size, ' ');
    if (zero === '0' && digits.startsWith('-')) return `-${digits.slice(1).padStart(size - 1, '0')}`;
    return digits.padStart(size, zero === '0' ? '0' : ' ');
  });
}
