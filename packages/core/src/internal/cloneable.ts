import { InvalidEventError } from '../errors/errors.js';

const MAX_DEPTH = 64;

function typeName(value: unknown): string {
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'symbol') return `a symbol (${value.toString()})`;
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor ? `an instance of ${ctor}` : 'an object';
}

/**
 * Why `value` cannot be structured-cloned, or `undefined` when it can. Walks plain data fast
 * (primitives, arrays, plain objects) and asks `structuredClone` about anything else.
 */
export function whyNotCloneable(value: unknown): string | undefined {
  return walk(value, '', 0, new Set());
}

function walk(value: unknown, path: string, depth: number, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return undefined;
    case 'function':
    case 'symbol':
      return `${path || 'the value'} is ${typeName(value)}`;
  }
  if (value === null) return undefined;
  const object = value as object;
  if (seen.has(object)) return undefined;
  if (depth > MAX_DEPTH) return probe(object, path);
  const proto = Object.getPrototypeOf(object) as object | null;
  if (Array.isArray(object)) {
    seen.add(object);
    for (let i = 0; i < object.length; i++) {
      const why = walk(object[i], `${path}[${i}]`, depth + 1, seen);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (proto === Object.prototype || proto === null) {
    seen.add(object);
    for (const key of Object.keys(object)) {
      const why = walk((object as Record<string, unknown>)[key], path ? `${path}.${key}` : key, depth + 1, seen);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (object instanceof Map) {
    seen.add(object);
    for (const [k, v] of object) {
      const why = walk(k, `${path}<key>`, depth + 1, seen) ?? walk(v, `${path}<value>`, depth + 1, seen);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (object instanceof Set) {
    seen.add(object);
    for (const v of object) {
      const why = walk(v, `${path}<item>`, depth + 1, seen);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (
    ArrayBuffer.isView(object) ||
    object instanceof ArrayBuffer ||
    object instanceof Date ||
    object instanceof RegExp ||
    object instanceof Error
  )
    return undefined;
  return probe(object, path);
}

function probe(object: object, path: string): string | undefined {
  try {
    structuredClone(object);
    return undefined;
  } catch (error) {
    return `${path || 'the value'} is ${typeName(object)} that cannot be cloned (${(error as Error).message})`;
  }
}

/**
 * Throws `InvalidEventError` (`ERR_INVALID_EVENT`) unless `value` can cross a thread or process
 * boundary by structured clone: no functions, symbols, class instances with such members, ...
 *
 * @example
 * ```ts
 * assertCloneable({ type: 'x', at: new Date() }); // fine
 * assertCloneable({ reply: () => {} });          // throws: "reply is a function"
 * ```
 */
export function assertCloneable(value: unknown, what = 'The event'): void {
  const why = whyNotCloneable(value);
  if (why !== undefined) {
    throw new InvalidEventError(
      `${what} cannot be sent to a worker: ${why}. Send plain data (structured-cloneable values) instead.`,
    );
  }
}
