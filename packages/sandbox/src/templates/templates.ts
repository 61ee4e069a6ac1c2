import type { TenantKv } from '@switchyard/core';
import { InvalidArgumentError } from '@switchyard/core';
import type { ConsoleEntry } from '../engine/options.js';
import { TEMPLATE_KEY_PREFIX } from './keys.js';

/**
 * A tenant's template: a script (the body of an async function of `(event, ctx)`) run on every
 * event whose type is in `events` (`'*'` matches every event).
 */
export interface Template {
  /** 1 to 64 letters, digits, `-` or `_`; unique per tenant. */
  name: string;
  /** The script's code. */
  code: string;
  /** The event types it runs on: 1 to 32 non-empty strings of at most 64 characters, or `'*'`. */
  events: string[];
}

/** What one template did with one event: its result or its error, and what it printed. */
export type TemplateOutcome =
  | { name: string; ok: true; value: unknown; console: ConsoleEntry[] }
  | { name: string; ok: false; error: { code: string; message: string }; console: ConsoleEntry[] };

const NAME = /^[\w-]{1,64}$/;

/**
 * Checks that `value` is a {@link Template} and returns a clean copy (only its three fields).
 * Throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) saying what is wrong.
 */
export function validateTemplate(value: unknown): Template {
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError(
      `Expected a template { name, code, events }, got ${value === null ? 'null' : typeof value}.`,
    );
  }
  const { name, code, events } = value as Partial<Template>;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidArgumentError(
      `Expected the template's \`name\` to be 1 to 64 letters, digits, - or _, got ${JSON.stringify(name) ?? typeof name}.`,
    );
  }
  if (typeof code !== 'string' || code.trim().length === 0) {
    throw new InvalidArgumentError(`Expected the template's \`code\` to be a non-empty string.`);
  }
  if (
    !Array.isArray(events) ||
    events.length === 0 ||
    events.length > 32 ||
    !events.every((type) => typeof type === 'string' && type.length > 0 && type.length <= 64)
  ) {
    throw new InvalidArgumentError(
      `Expected the template's \`events\` to be 1 to 32 event types (strings of 1 to 64 characters), got ${JSON.stringify(events) ?? typeof events}.`,
    );
  }
  return { name, code, events: [...new Set(events)] };
}

/** Stores `template` in a tenant's storage, replacing the one of the same name. */
export async function saveTemplate(kv: TenantKv, template: Template): Promise<void> {
  const clean = validateTemplate(template);
  await kv.set(`${TEMPLATE_KEY_PREFIX}${clean.name}`, clean);
}

/** Removes a tenant's template; resolves `true` when it existed. */
export async function removeTemplate(kv: TenantKv, name: string): Promise<boolean> {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidArgumentError(
      `Expected a template name (1 to 64 letters, digits, - or _), got ${JSON.stringify(name)}.`,
    );
  }
  return kv.delete(`${TEMPLATE_KEY_PREFIX}${name}`);
}

/** A tenant's templates, ordered by name. Stored values that are not templates are skipped. */
export async function listTemplates(kv: TenantKv): Promise<Template[]> {
  const entries = await kv.list(TEMPLATE_KEY_PREFIX);
  const templates: Template[] = [];
  for (const [, value] of entries) {
    try {
      templates.push(validateTemplate(value));
    } catch {
      // Not written by saveTemplate(); ignore it rather than fail every event.
    }
  }
  return templates;
}

/** True when `template` runs on events of `type`. */
export function templateMatches(template: Template, type: string): boolean {
  return template.events.includes(type) || template.events.includes('*');
}
