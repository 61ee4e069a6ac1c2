import { StatusInvalidArgumentError } from '../errors/errors.js';
import { formatPrefix } from '../format/formatPrefix.js';
import { describeValue, oneLine } from './describe.js';

/**
 * Validates a {@link PrefixFormat} and returns the function that turns an id into a prefix.
 * @internal
 */
export function compilePrefix(prefix: unknown, name: string): (id: number) => string {
  if (typeof prefix === 'function') {
    return (id) => {
      const out: unknown = prefix(id);
      if (typeof out !== 'string')
        throw new StatusInvalidArgumentError(`Expected \`${name}\` to return a string, got ${describeValue(out)}.`);
      return oneLine(out);
    };
  }
  if (typeof prefix !== 'string') {
    throw new StatusInvalidArgumentError(
      `Expected \`${name}\` to be a string template or a function (id) => string, got ${describeValue(prefix)}.`,
    );
  }
  formatPrefix(prefix, 1); // throws now for a bad template rather than later in a worker
  return (id) => oneLine(formatPrefix(prefix, id));
}
