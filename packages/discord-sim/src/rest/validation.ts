import type { RouteResult } from './responses.js';
import { apiError, ApiErrorCode } from './responses.js';

/** A path into a request body, e.g. `['data', 'embeds', 0, 'title']`. */
export type FieldPath = readonly (string | number)[];

const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
/** `IS_COMPONENTS_V2`: the message is made of layout components instead of content and embeds. */
const COMPONENTS_V2 = 1 << 15;
const SELECT_TYPES: ReadonlySet<number> = new Set([3, 5, 6, 7, 8]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Collects form errors and answers them as Discord does: one `400` with code `50035` and every
 * error nested under the path of its field (`{ data: { content: { _errors: [{ code, message }] } } }`).
 */
export class FormErrors {
  readonly #errors: Record<string, unknown> = {};
  #count = 0;

  get empty(): boolean {
    return this.#count === 0;
  }

  add(path: FieldPath, code: string, message: string): void {
    this.#count++;
    let cursor = this.#errors;
    for (const part of path) {
      const key = String(part);
      let next = cursor[key] as Record<string, unknown> | undefined;
      if (next === undefined) {
        next = {};
        cursor[key] = next;
      }
      cursor = next;
    }
    const list = (cursor._errors as { code: string; message: string }[] | undefined) ?? [];
    list.push({ code, message });
    cursor._errors = list;
  }

  /** A string field: required or not, of `min` to `max` characters. Returns the string (or undefined). */
  string(
    path: FieldPath,
    value: unknown,
    options: { required?: boolean; min?: number; max: number },
  ): string | undefined {
    if (value === undefined || value === null) {
      if (options.required === true) this.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.add(path, 'BASE_TYPE_STRING', 'Must be a string.');
      return undefined;
    }
    const min = options.min ?? 0;
    if (value.length < min || value.length > options.max) {
      if (min > 0 && options.required === true && value.length === 0)
        this.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
      else if (min > 0) this.add(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${options.max} in length.`);
      else this.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${options.max} or fewer in length.`);
    }
    return value;
  }

  /** An array field of at most `max` (at least `min`) items. Returns the array (or `[]`). */
  array(path: FieldPath, value: unknown, options: { required?: boolean; min?: number; max: number }): unknown[] {
    if (value === undefined || value === null) {
      if (options.required === true) this.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
      return [];
    }
    if (!Array.isArray(value)) {
      this.add(path, 'BASE_TYPE_ARRAY', 'Must be an array.');
      return [];
    }
    const min = options.min ?? 0;
    if (value.length > options.max || value.length < min) {
      if (min > 0) this.add(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${options.max} in length.`);
      else this.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${options.max} or fewer in length.`);
    }
    return value;
  }

  /** An integer field within `min`..`max`. */
  integer(
    path: FieldPath,
    value: unknown,
    options: { required?: boolean; min: number; max: number },
  ): number | undefined {
    if (value === undefined || value === null) {
      if (options.required === true) this.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.add(path, 'NUMBER_TYPE_COERCE', `Value "${String(value)}" is not int.`);
      return undefined;
    }
    if (value < options.min)
      this.add(path, 'NUMBER_TYPE_MIN', `int value should be greater than or equal to ${options.min}.`);
    else if (value > options.max)
      this.add(path, 'NUMBER_TYPE_MAX', `int value should be less than or equal to ${options.max}.`);
    return value;
  }

  /** The `400 50035 Invalid Form Body` answer, or `undefined` when nothing was wrong. */
  result(): RouteResult | undefined {
    if (this.#count === 0) return undefined;
    return apiError(400, ApiErrorCode.InvalidFormBody, 'Invalid Form Body', this.#errors);
  }
}

/** The characters of an embed that count towards Discord's 6,000 per message. */
function embedSize(embed: Record<string, unknown>): number {
  const text = (value: unknown): number => (typeof value === 'string' ? value.length : 0);
  let size = text(embed.title) + text(embed.description);
  if (isRecord(embed.footer)) size += text(embed.footer.text);
  if (isRecord(embed.author)) size += text(embed.author.name);
  if (Array.isArray(embed.fields)) {
    for (const field of embed.fields) if (isRecord(field)) size += text(field.name) + text(field.value);
  }
  return size;
}

/** Checks embeds as Discord documents them: every field's limit, 25 fields, 10 embeds, 6,000 characters in all. */
export function checkEmbeds(errors: FormErrors, path: FieldPath, value: unknown): void {
  const embeds = errors.array(path, value, { max: 10 });
  let total = 0;
  for (const [index, raw] of embeds.entries()) {
    const at = [...path, index];
    if (!isRecord(raw)) {
      errors.add(at, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      continue;
    }
    errors.string([...at, 'title'], raw.title, { max: 256 });
    errors.string([...at, 'description'], raw.description, { max: 4096 });
    errors.string([...at, 'url'], raw.url, { max: 2048 });
    errors.integer([...at, 'color'], raw.color, { min: 0, max: 0xffffff });
    if (raw.footer !== undefined && raw.footer !== null) {
      const footer = isRecord(raw.footer) ? raw.footer : {};
      errors.string([...at, 'footer', 'text'], footer.text, { required: true, min: 1, max: 2048 });
    }
    if (raw.author !== undefined && raw.author !== null) {
      const author = isRecord(raw.author) ? raw.author : {};
      errors.string([...at, 'author', 'name'], author.name, { required: true, min: 1, max: 256 });
    }
    const fields = errors.array([...at, 'fields'], raw.fields, { max: 25 });
    for (const [fieldIndex, field] of fields.entries()) {
      const fieldPath = [...at, 'fields', fieldIndex];
      const entry = isRecord(field) ? field : {};
      errors.string([...fieldPath, 'name'], entry.name, { required: true, min: 1, max: 256 });
      errors.string([...fieldPath, 'value'], entry.value, { required: true, min: 1, max: 1024 });
    }
    total += embedSize(raw);
  }
  if (total > 6000) errors.add(path, 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
}

/** Checks one button (type 2). */
function checkButton(
  errors: FormErrors,
  at: FieldPath,
  button: Record<string, unknown>,
  ids: Map<string, FieldPath>,
): void {
  const style = errors.integer([...at, 'style'], button.style, { required: true, min: 1, max: 6 });
  errors.string([...at, 'label'], button.label, { max: 80 });
  if (style === 5) {
    errors.string([...at, 'url'], button.url, { required: true, min: 1, max: 512 });
    if (button.custom_id !== undefined)
      errors.add([...at, 'custom_id'], 'BUTTON_COMPONENT_CUSTOM_ID_FORBIDDEN', 'A link button cannot have a custom id');
  } else if (style === 6) {
    errors.string([...at, 'sku_id'], button.sku_id, { required: true, min: 1, max: 20 });
  } else if (style !== undefined) {
    checkCustomId(errors, at, button.custom_id, ids);
    if (button.url !== undefined)
      errors.add([...at, 'url'], 'BUTTON_COMPONENT_URL_FORBIDDEN', 'Only link buttons can have a url');
    if (button.label === undefined && button.emoji === undefined)
      errors.add([...at, 'label'], 'BASE_TYPE_REQUIRED', 'This field is required');
  }
}

function checkCustomId(errors: FormErrors, at: FieldPath, value: unknown, ids: Map<string, FieldPath>): void {
  const customId = errors.string([...at, 'custom_id'], value, { required: true, min: 1, max: 100 });
  if (customId === undefined) return;
  if (ids.has(customId))
    errors.add([...at, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
  else ids.set(customId, at);
}

/** Checks one select menu (types 3, 5, 6, 7, 8). */
function checkSelect(
  errors: FormErrors,
  at: FieldPath,
  select: Record<string, unknown>,
  ids: Map<string, FieldPath>,
): void {
  checkCustomId(errors, at, select.custom_id, ids);
  errors.string([...at, 'placeholder'], select.placeholder, { max: 150 });
  const min = errors.integer([...at, 'min_values'], select.min_values, { min: 0, max: 25 });
  const max = errors.integer([...at, 'max_values'], select.max_values, { min: 1, max: 25 });
  if (min !== undefined && max !== undefined && min > max)
    errors.add([...at, 'min_values'], 'SELECT_COMPONENT_MIN_VALUES_TOO_LARGE', 'min_values cannot exceed max_values');
  if (select.type === 3) {
    const options = errors.array([...at, 'options'], select.options, { required: true, min: 1, max: 25 });
    const values = new Set<string>();
    for (const [index, raw] of options.entries()) {
      const option = isRecord(raw) ? raw : {};
      const optionPath = [...at, 'options', index];
      errors.string([...optionPath, 'label'], option.label, { required: true, min: 1, max: 100 });
      const value = errors.string([...optionPath, 'value'], option.value, { required: true, min: 1, max: 100 });
      errors.string([...optionPath, 'description'], option.description, { max: 100 });
      if (value !== undefined) {
        if (values.has(value))
          errors.add(
            [...optionPath, 'value'],
            'SELECT_COMPONENT_OPTION_VALUE_DUPLICATED',
            'Option values must be unique',
          );
        values.add(value);
      }
    }
    if (options.length > 0 && (min ?? 1) > options.length)
      errors.add([...at, 'min_values'], 'BASE_TYPE_MAX', `Must be at most the number of options (${options.length}).`);
  }
}

/** Checks a component anywhere in a message (rows, and the layout components of Components V2). */
function checkComponent(
  errors: FormErrors,
  at: FieldPath,
  raw: unknown,
  ids: Map<string, FieldPath>,
  topLevel: boolean,
  v2: boolean,
): void {
  if (!isRecord(raw)) {
    errors.add(at, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    return;
  }
  const type = raw.type;
  if (topLevel && !v2 && type !== 1) {
    errors.add(
      [...at, 'type'],
      'COMPONENT_LAYOUT_REQUIRES_COMPONENTS_V2',
      'Top-level components other than action rows need the IS_COMPONENTS_V2 flag',
    );
    return;
  }
  switch (type) {
    case 1: {
      const children = errors.array([...at, 'components'], raw.components, { required: true, min: 1, max: 5 });
      const selects = children.filter((child) => isRecord(child) && SELECT_TYPES.has(child.type as number)).length;
      for (const [index, child] of children.entries()) {
        const childPath = [...at, 'components', index];
        if (selects > 0 && children.length > 1 && index > 0) {
          errors.add(childPath, 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'The specified component exceeds the maximum width');
          continue;
        }
        if (!isRecord(child) || !(child.type === 2 || SELECT_TYPES.has(child.type as number))) {
          errors.add(
            [...childPath, 'type'],
            'COMPONENT_TYPE_INVALID',
            'Action rows can only hold buttons and select menus',
          );
          continue;
        }
        checkComponent(errors, childPath, child, ids, false, v2);
      }
      return;
    }
    case 2:
      checkButton(errors, at, raw, ids);
      return;
    case 3:
    case 5:
    case 6:
    case 7:
    case 8:
      checkSelect(errors, at, raw, ids);
      return;
    default:
      if (!v2) {
        errors.add([...at, 'type'], 'COMPONENT_TYPE_INVALID', 'Invalid component type');
        return;
      }
      // Layout components of Components V2: walk what may hold interactive ones.
      if (Array.isArray(raw.components)) {
        for (const [index, child] of raw.components.entries())
          checkComponent(errors, [...at, 'components', index], child, ids, false, v2);
      }
      if (raw.accessory !== undefined) checkComponent(errors, [...at, 'accessory'], raw.accessory, ids, false, v2);
  }
}

/** Checks a message's components: 5 action rows (40 components with IS_COMPONENTS_V2), their buttons and selects. */
export function checkComponents(errors: FormErrors, path: FieldPath, value: unknown, flags: number): void {
  const v2 = (flags & COMPONENTS_V2) !== 0;
  const components = errors.array(path, value, { max: v2 ? 40 : 5 });
  const ids = new Map<string, FieldPath>();
  for (const [index, component] of components.entries())
    checkComponent(errors, [...path, index], component, ids, true, v2);
}

/** Checks `allowed_mentions`. */
export function checkAllowedMentions(errors: FormErrors, path: FieldPath, value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) {
    errors.add(path, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    return;
  }
  const parse = errors.array([...path, 'parse'], value.parse, { max: 3 });
  for (const [index, item] of parse.entries()) {
    if (item !== 'roles' && item !== 'users' && item !== 'everyone')
      errors.add(
        [...path, 'parse', index],
        'BASE_TYPE_CHOICES',
        "Value must be one of ('roles', 'users', 'everyone').",
      );
  }
  const users = errors.array([...path, 'users'], value.users, { max: 100 });
  const roles = errors.array([...path, 'roles'], value.roles, { max: 100 });
  if (parse.includes('users') && users.length > 0) {
    errors.add(
      path,
      'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
      'parse:["users"] and users: [ids...] are mutually exclusive.',
    );
  }
  if (parse.includes('roles') && roles.length > 0) {
    errors.add(
      path,
      'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
      'parse:["roles"] and roles: [ids...] are mutually exclusive.',
    );
  }
}

/** Checks the fields of a message body (sends, edits, interaction replies, follow-ups); `prefix` is e.g. `['data']`. */
export function checkMessage(errors: FormErrors, body: Record<string, unknown>, prefix: FieldPath = []): void {
  errors.string([...prefix, 'content'], body.content, { max: 2000 });
  checkEmbeds(errors, [...prefix, 'embeds'], body.embeds);
  checkComponents(errors, [...prefix, 'components'], body.components, typeof body.flags === 'number' ? body.flags : 0);
  checkAllowedMentions(errors, [...prefix, 'allowed_mentions'], body.allowed_mentions);
  if (typeof body.flags === 'number' && (body.flags & COMPONENTS_V2) !== 0) {
    if (typeof body.content === 'string' && body.content.length > 0)
      errors.add(
        [...prefix, 'content'],
        'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2',
        'The content field cannot be used when using MessageFlags.IS_COMPONENTS_V2',
      );
    if (Array.isArray(body.embeds) && body.embeds.length > 0)
      errors.add(
        [...prefix, 'embeds'],
        'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2',
        'The embeds field cannot be used when using MessageFlags.IS_COMPONENTS_V2',
      );
  }
}

/** Checks the `data` of an autocomplete result (callback type 8): at most 25 choices. */
export function checkAutocompleteResult(errors: FormErrors, data: Record<string, unknown>): void {
  const choices = errors.array(['data', 'choices'], data.choices, { required: true, max: 25 });
  for (const [index, raw] of choices.entries()) {
    const choice = isRecord(raw) ? raw : {};
    const at = ['data', 'choices', index];
    errors.string([...at, 'name'], choice.name, { required: true, min: 1, max: 100 });
    if (typeof choice.value === 'string') errors.string([...at, 'value'], choice.value, { max: 100 });
    else if (typeof choice.value !== 'number')
      errors.add([...at, 'value'], 'BASE_TYPE_REQUIRED', 'This field is required');
  }
}

/** Checks one input of a modal (a text input, or a select in a label). */
function checkModalInput(
  errors: FormErrors,
  at: FieldPath,
  raw: unknown,
  inLabel: boolean,
  ids: Map<string, FieldPath>,
): void {
  if (!isRecord(raw)) {
    errors.add(at, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    return;
  }
  if (raw.type === 4) {
    checkCustomId(errors, at, raw.custom_id, ids);
    errors.integer([...at, 'style'], raw.style, { required: true, min: 1, max: 2 });
    if (!inLabel) errors.string([...at, 'label'], raw.label, { required: true, min: 1, max: 45 });
    const min = errors.integer([...at, 'min_length'], raw.min_length, { min: 0, max: 4000 });
    const max = errors.integer([...at, 'max_length'], raw.max_length, { min: 1, max: 4000 });
    if (min !== undefined && max !== undefined && min > max)
      errors.add([...at, 'min_length'], 'BASE_TYPE_MAX', 'min_length cannot exceed max_length');
    errors.string([...at, 'value'], raw.value, { max: 4000 });
    errors.string([...at, 'placeholder'], raw.placeholder, { max: 100 });
    return;
  }
  if (inLabel && SELECT_TYPES.has(raw.type as number)) {
    checkSelect(errors, at, raw, ids);
    return;
  }
  errors.add([...at, 'type'], 'COMPONENT_TYPE_INVALID', 'Invalid component type for a modal');
}

/** Checks the `data` of a modal (callback type 9): custom id, title, 1 to 5 rows or labels of inputs. */
export function checkModal(errors: FormErrors, data: Record<string, unknown>): void {
  errors.string(['data', 'custom_id'], data.custom_id, { required: true, min: 1, max: 100 });
  errors.string(['data', 'title'], data.title, { required: true, min: 1, max: 45 });
  const components = errors.array(['data', 'components'], data.components, { required: true, min: 1, max: 5 });
  const ids = new Map<string, FieldPath>();
  for (const [index, raw] of components.entries()) {
    const at = ['data', 'components', index];
    const component = isRecord(raw) ? raw : {};
    if (component.type === 1) {
      const inner = errors.array([...at, 'components'], component.components, { required: true, min: 1, max: 1 });
      for (const [innerIndex, input] of inner.entries())
        checkModalInput(errors, [...at, 'components', innerIndex], input, false, ids);
    } else if (component.type === 18) {
      errors.string([...at, 'label'], component.label, { required: true, min: 1, max: 45 });
      errors.string([...at, 'description'], component.description, { max: 100 });
      checkModalInput(errors, [...at, 'component'], component.component, true, ids);
    } else if (component.type !== 10) {
      errors.add([...at, 'type'], 'COMPONENT_TYPE_INVALID', 'Invalid component type for a modal');
    }
  }
}

/** Checks the options of a command (or of a subcommand / group), recursively. */
function checkCommandOptions(errors: FormErrors, path: FieldPath, value: unknown, depth: number): void {
  const options = errors.array(path, value, { max: 25 });
  const names = new Set<string>();
  let optionalSeen = false;
  let subcommands = 0;
  for (const [index, raw] of options.entries()) {
    const at = [...path, index];
    if (!isRecord(raw)) {
      errors.add(at, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      continue;
    }
    const type = errors.integer([...at, 'type'], raw.type, { required: true, min: 1, max: 11 });
    const name = errors.string([...at, 'name'], raw.name, { required: true, min: 1, max: 32 });
    if (name !== undefined && (!COMMAND_NAME.test(name) || name !== name.toLowerCase()))
      errors.add([...at, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    if (name !== undefined) {
      if (names.has(name))
        errors.add([...at, 'name'], 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', 'Option names must be unique');
      names.add(name);
    }
    errors.string([...at, 'description'], raw.description, { required: true, min: 1, max: 100 });
    if (type === 1 || type === 2) {
      subcommands++;
      if (raw.required === true)
        errors.add(
          [...at, 'required'],
          'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
          'Subcommands cannot be required',
        );
      if ((type === 2 && depth > 0) || (type === 1 && depth > 1))
        errors.add(
          [...at, 'type'],
          'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
          'Subcommands cannot be nested this deep',
        );
      if (type === 2) {
        const inner = errors.array([...at, 'options'], raw.options, { max: 25 });
        for (const [innerIndex, child] of inner.entries()) {
          if (!isRecord(child) || child.type !== 1)
            errors.add(
              [...at, 'options', innerIndex, 'type'],
              'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
              'A subcommand group can only hold subcommands',
            );
        }
      }
      checkCommandOptions(errors, [...at, 'options'], raw.options, depth + (type === 2 ? 1 : 2));
      continue;
    }
    if (raw.required === true && optionalSeen) {
      errors.add(
        at,
        'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
        'Required options must be placed before non-required options',
      );
    }
    if (raw.required !== true) optionalSeen = true;
    if (raw.choices !== undefined) {
      if (type !== 3 && type !== 4 && type !== 10)
        errors.add(
          [...at, 'choices'],
          'APPLICATION_COMMAND_OPTION_CHOICES_INVALID',
          'Only string, integer and number options can have choices',
        );
      if (raw.autocomplete === true)
        errors.add(
          [...at, 'autocomplete'],
          'APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES',
          'Autocomplete cannot be used with choices',
        );
      const choices = errors.array([...at, 'choices'], raw.choices, { max: 25 });
      for (const [choiceIndex, choiceRaw] of choices.entries()) {
        const choice = isRecord(choiceRaw) ? choiceRaw : {};
        const choicePath = [...at, 'choices', choiceIndex];
        errors.string([...choicePath, 'name'], choice.name, { required: true, min: 1, max: 100 });
        if (type === 3) errors.string([...choicePath, 'value'], choice.value, { required: true, min: 1, max: 100 });
        else if (typeof choice.value !== 'number' || (type === 4 && !Number.isInteger(choice.value)))
          errors.add(
            [...choicePath, 'value'],
            'NUMBER_TYPE_COERCE',
            `Value "${String(choice.value)}" is not ${type === 4 ? 'int' : 'number'}.`,
          );
      }
    }
    if (type === 3) {
      errors.integer([...at, 'min_length'], raw.min_length, { min: 0, max: 6000 });
      errors.integer([...at, 'max_length'], raw.max_length, { min: 1, max: 6000 });
    }
  }
  if (subcommands > 0 && subcommands < options.length)
    errors.add(path, 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Options cannot be mixed with subcommands');
}

/** Checks an application command body; `path` is `[]` for one command, `[index]` inside a bulk overwrite. */
export function checkCommand(
  errors: FormErrors,
  path: FieldPath,
  body: Record<string, unknown>,
  existing: boolean,
): void {
  const type = errors.integer([...path, 'type'], body.type, { min: 1, max: 4 }) ?? 1;
  const name = errors.string([...path, 'name'], body.name, { required: !existing, min: 1, max: 32 });
  if (name !== undefined && type === 1 && (!COMMAND_NAME.test(name) || name !== name.toLowerCase()))
    errors.add([...path, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
  if (type === 1) {
    errors.string([...path, 'description'], body.description, { required: !existing, min: 1, max: 100 });
  } else if (typeof body.description === 'string' && body.description.length > 0) {
    errors.add(
      [...path, 'description'],
      'APPLICATION_COMMAND_INVALID_DESCRIPTION',
      'User and message commands cannot have a description',
    );
  }
  if (type !== 1 && body.options !== undefined && Array.isArray(body.options) && body.options.length > 0) {
    errors.add(
      [...path, 'options'],
      'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
      'Only chat input commands can have options',
    );
  } else {
    checkCommandOptions(errors, [...path, 'options'], body.options, 0);
  }
  if (body.default_member_permissions !== undefined && body.default_member_permissions !== null) {
    if (typeof body.default_member_permissions !== 'string' || !/^\d{1,20}$/.test(body.default_member_permissions))
      errors.add([...path, 'default_member_permissions'], 'NUMBER_TYPE_COERCE', 'Value is not a permission bitfield.');
  }
}
