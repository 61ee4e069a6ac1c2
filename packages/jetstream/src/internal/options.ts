import { checkInteger } from '@switchyard/core/internal';
import { InvalidJetStreamOptionError } from '../errors/errors.js';

/** Names JetStream accepts for streams, consumers and buckets: no dots, wildcards or spaces. @internal */
const NAME = /^[A-Za-z0-9_-]{1,200}$/;
/** Subject tokens: letters, digits, `_` and `-`, separated by dots. @internal */
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return `${typeof value} ${String(value)}`;
}

/** An integer option with the package's own error class. @internal */
export function integerOption(name: string, value: unknown, min: number): number {
  return checkInteger(name, value, min, false, InvalidJetStreamOptionError);
}

/** A stream, consumer or bucket name. @internal */
export function nameOption(name: string, value: unknown): string {
  if (typeof value === 'string' && NAME.test(value)) return value;
  throw new InvalidJetStreamOptionError(
    `Expected \`${name}\` to be a JetStream name (letters, digits, '_' and '-'), got ${describe(value)}.`,
  );
}

/** A subject prefix: dot-separated tokens without wildcards. @internal */
export function subjectPrefixOption(name: string, value: unknown): string {
  if (typeof value === 'string' && SUBJECT_PREFIX.test(value)) return value;
  throw new InvalidJetStreamOptionError(
    `Expected \`${name}\` to be subject tokens separated by dots (letters, digits, '_' and '-'), got ${describe(value)}.`,
  );
}

/** A NATS connection (anything with `jetstream`-ready `request` and `publish`). @internal */
export function connectionOption<T>(value: T): T {
  const candidate = value as { request?: unknown; publish?: unknown; subscribe?: unknown } | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.request !== 'function' ||
    typeof candidate.publish !== 'function' ||
    typeof candidate.subscribe !== 'function'
  ) {
    throw new InvalidJetStreamOptionError(
      `Expected \`connection\` to be a NatsConnection (from \`connect()\` of @nats-io/transport-node), got ${describe(value)}.`,
    );
  }
  return value;
}

/** An optional function option. @internal */
export function functionOption<T>(name: string, value: T): T {
  if (value !== undefined && typeof value !== 'function')
    throw new InvalidJetStreamOptionError(`Expected \`${name}\` to be a function, got ${describe(value)}.`);
  return value;
}

/** A non-empty string. @internal */
export function stringOption(name: string, value: unknown): string {
  if (typeof value === 'string' && value.length > 0) return value;
  throw new InvalidJetStreamOptionError(`Expected \`${name}\` to be a non-empty string, got ${describe(value)}.`);
}
