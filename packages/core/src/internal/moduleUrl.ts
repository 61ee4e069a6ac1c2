import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../errors/errors.js';

/**
 * The one rule for modules a worker loads: a path (relative to the working directory) or a
 * `file:` URL (string or `URL`) of an existing file. Returns its `file:` URL.
 * @internal
 */
export function moduleUrl(
  value: unknown,
  name: string,
  ErrorClass: new (message: string) => Error = InvalidArgumentError,
): URL {
  let url: URL;
  if (value instanceof URL) url = value;
  else if (typeof value === 'string' && value.startsWith('file:')) url = new URL(value);
  else if (typeof value === 'string' && value.length > 0) url = pathToFileURL(resolvePath(value));
  else
    throw new ErrorClass(
      `Expected \`${name}\` to be a path or a file: URL of a module, got ${value === '' ? '""' : typeof value}.`,
    );
  if (url.protocol !== 'file:')
    throw new ErrorClass(`Expected \`${name}\` to be a file: URL, got ${url.protocol} (${url.href}).`);
  if (!existsSync(fileURLToPath(url)))
    throw new ErrorClass(`Expected \`${name}\` to name an existing file, got ${fileURLToPath(url)}.`);
  return url;
}
