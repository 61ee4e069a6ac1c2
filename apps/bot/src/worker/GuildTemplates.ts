/**
 * A guild's templates in its worker: `/template add|remove|list|test`, and running the matching
 * templates after the moderator has decided on a message or a join. A template returns actions of
 * the kinds the bot already carries out; they are appended to the decision, so they go through
 * the same ordered action runner and audit log. A failing template posts its error to the guild's
 * template log channel (at most one post a minute per guild) and never affects other guilds.
 */
import type { TenantContext } from '@switchyard/core';
import type { Template, TemplateOutcome } from '@switchyard/sandbox';
import {
  createScriptEngine,
  listTemplates,
  removeTemplate,
  RESERVED_KEY_PREFIX,
  saveTemplate,
  validateTemplate,
} from '@switchyard/sandbox';
import type { BotAction, BotEvent, CommandEvent, Decision, MemberJoinEvent, MessageEvent } from '../protocol.js';

/** The events templates can run on: the ones whose decisions the bot carries out. */
export const TEMPLATE_EVENTS = ['message', 'memberJoin'] as const;

/** How many templates a guild may have. */
export const MAX_TEMPLATES = 10;

/** Where a guild's template errors go: a key scripts cannot reach. */
export const TEMPLATE_LOG_CHANNEL_KEY = `${RESERVED_KEY_PREFIX}template-log-channel`;

/** At most one error post per guild per this many ms. */
export const TEMPLATE_ERROR_POST_INTERVAL_MS = 60_000;

const MAX_TIMEOUT_MS = 28 * 24 * 60 * 60 * 1000;
const SNOWFLAKE = /^[0-9]{1,20}$/;

/** The script engine of the bot's workers (one per worker thread). */
export const templateEngine = createScriptEngine({ cpuTimeMs: 100, wallTimeMs: 5000, maxConsoleBytes: 4096 });

interface GuildState {
  templates: Template[];
  logChannelId: string | null;
}

type TemplateEvent = MessageEvent | MemberJoinEvent;

/** Templates and log channel per guild, loaded on a guild's first event; every change goes through this worker. */
const guilds = new Map<string, Promise<GuildState>>();
const lastErrorPost = new Map<string, number>();

function state(ctx: TenantContext): Promise<GuildState> {
  let loaded = guilds.get(ctx.tenant.id);
  if (loaded === undefined) {
    loaded = (async () => ({
      templates: await listTemplates(ctx.kv),
      logChannelId: ((await ctx.kv.get<string>(TEMPLATE_LOG_CHANNEL_KEY)) ?? null) as string | null,
    }))();
    loaded.catch(() => guilds.delete(ctx.tenant.id));
    guilds.set(ctx.tenant.id, loaded);
  }
  return loaded;
}

/** Reads a guild's templates and log channel into this worker's cache (a failed read is retried on the next event). */
export async function loadGuildTemplates(ctx: TenantContext): Promise<void> {
  await state(ctx);
}

/** Forgets a dropped guild's cached templates. */
export function forgetGuildTemplates(guildId: string): void {
  guilds.delete(guildId);
  lastErrorPost.delete(guildId);
}

function isTemplateEvent(event: BotEvent): event is TemplateEvent {
  return event.type === 'message' || event.type === 'memberJoin';
}

function text(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new Error(`${what} must be a string of 1 to ${max} characters`);
  }
  return value;
}

function snowflake(value: unknown, what: string): string {
  if (typeof value !== 'string' || !SNOWFLAKE.test(value))
    throw new Error(`${what} must be an id (a snowflake string)`);
  return value;
}

/** Turns what a template returned into the bot's actions (throws on anything else). */
export function templateActions(name: string, value: unknown, event: TemplateEvent): BotAction[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  if (items.length > 5) throw new Error('a template may return at most 5 actions');
  const subject = event.type === 'message' ? event.authorId : event.userId;
  return items.map((item: unknown): BotAction => {
    if (item === null || typeof item !== 'object') throw new Error('an action must be an object with a `type`');
    const action = item as Record<string, unknown>;
    const reason = `template ${name}: ${typeof action.reason === 'string' ? action.reason.slice(0, 200) : 'no reason given'}`;
    switch (action.type) {
      case 'sendMessage': {
        const fallback = event.type === 'message' ? event.channelId : event.defaultChannelId;
        const channelId = action.channelId === undefined ? fallback : snowflake(action.channelId, 'channelId');
        if (channelId === null) throw new Error('sendMessage needs a channelId (the guild has no default channel)');
        return { type: 'sendMessage', channelId, content: text(action.content, 'content', 2000), mentionUserIds: [] };
      }
      case 'deleteMessage':
        if (event.type !== 'message') throw new Error('deleteMessage only works on message events');
        return {
          type: 'deleteMessage',
          channelId: event.channelId,
          messageId: event.messageId,
          userId: subject,
          reason,
        };
      case 'timeout': {
        const durationMs = action.durationMs;
        if (
          typeof durationMs !== 'number' ||
          !Number.isInteger(durationMs) ||
          durationMs < 1000 ||
          durationMs > MAX_TIMEOUT_MS
        ) {
          throw new Error(`timeout needs durationMs, an integer from 1000 to ${MAX_TIMEOUT_MS}`);
        }
        const userId = action.userId === undefined ? subject : snowflake(action.userId, 'userId');
        return { type: 'timeout', userId, durationMs, reason };
      }
      case 'addRole': {
        const userId = action.userId === undefined ? subject : snowflake(action.userId, 'userId');
        return { type: 'addRole', userId, roleId: snowflake(action.roleId, 'roleId'), reason };
      }
      default:
        throw new Error(
          `unknown action type ${JSON.stringify(action.type)} (sendMessage, deleteMessage, timeout, addRole)`,
        );
    }
  });
}

function errorPost(
  guildId: string,
  logChannelId: string | null,
  name: string,
  message: string,
  now: number,
): BotAction[] {
  if (logChannelId === null) return [];
  const last = lastErrorPost.get(guildId);
  if (last !== undefined && now - last < TEMPLATE_ERROR_POST_INTERVAL_MS) return [];
  lastErrorPost.set(guildId, now);
  const content = `Template \`${name}\` failed: ${message}`.slice(0, 2000);
  return [{ type: 'sendMessage', channelId: logChannelId, content, mentionUserIds: [] }];
}

/** The moderator's decision followed by the actions of the guild's matching templates. */
export async function withTemplateActions(event: BotEvent, decision: Decision, ctx: TenantContext): Promise<Decision> {
  if (!isTemplateEvent(event)) return decision;
  let guild: GuildState;
  try {
    guild = await state(ctx);
  } catch {
    // The templates could not be read (the database is down): the built-in decision goes ahead
    // without them, and the next event reads them again.
    return decision;
  }
  if (!guild.templates.some((template) => template.events.includes(event.type))) return decision;
  const outcomes = await templateEngine.runTemplates(event, ctx, { templates: guild.templates });
  const actions = [...decision.actions];
  for (const outcome of outcomes) {
    let failure: string | undefined;
    if (outcome.ok) {
      try {
        actions.push(...templateActions(outcome.name, outcome.value, event));
      } catch (error) {
        failure = `its result is not an action: ${(error as Error).message}`;
      }
    } else {
      failure = `${outcome.error.code}: ${outcome.error.message}`;
    }
    if (failure !== undefined)
      actions.push(...errorPost(event.guildId, guild.logChannelId, outcome.name, failure, Date.now()));
  }
  return { ...decision, actions };
}

function reply(content: string): Decision {
  return { actions: [], reply: { content: content.slice(0, 2000), ephemeral: true } };
}

function sampleEvent(type: string, command: CommandEvent): TemplateEvent {
  if (type === 'memberJoin') {
    return {
      type: 'memberJoin',
      guildId: command.guildId,
      userId: command.userId,
      username: 'test-member',
      bot: false,
      defaultChannelId: command.channelId,
    };
  }
  return {
    type: 'message',
    guildId: command.guildId,
    channelId: command.channelId,
    messageId: '1',
    authorId: command.userId,
    authorIsModerator: false,
    content: 'template test',
    timestamp: Date.now(),
  };
}

function describeOutcome(outcome: TemplateOutcome | undefined, event: TemplateEvent): string {
  if (outcome === undefined) return 'The template did not run.';
  const printed = outcome.console.map((line) => `${line.level}: ${line.message}`).join('\n');
  const output = printed === '' ? '' : `\nConsole:\n${printed}`;
  if (!outcome.ok) return `Failed: ${outcome.error.code}: ${outcome.error.message}${output}`;
  try {
    const actions = templateActions(outcome.name, outcome.value, event);
    return `Returned ${actions.length} action(s) (not carried out): ${JSON.stringify(actions)}${output}`;
  } catch (error) {
    return `Returned something that is not an action: ${(error as Error).message}${output}`;
  }
}

/** `/template add|remove|list|test` (Manage Server only). */
export async function templateCommand(event: CommandEvent, ctx: TenantContext): Promise<Decision> {
  if (!event.canManageGuild) return reply('You need the Manage Server permission to manage templates.');
  const guild = await state(ctx);
  const name = typeof event.options.name === 'string' ? event.options.name : '';
  switch (event.subcommand) {
    case 'add': {
      const events = String(event.options.events ?? '')
        .split(',')
        .map((type) => type.trim())
        .filter((type) => type.length > 0);
      const unknown = events.filter((type) => !(TEMPLATE_EVENTS as readonly string[]).includes(type));
      if (unknown.length > 0)
        return reply(`Unknown event type(s): ${unknown.join(', ')}. Use: ${TEMPLATE_EVENTS.join(', ')}.`);
      let template: Template;
      try {
        template = validateTemplate({ name, code: event.options.code, events });
      } catch (error) {
        return reply(`Not a valid template: ${(error as Error).message}`);
      }
      const others = guild.templates.filter((existing) => existing.name !== template.name);
      if (others.length >= MAX_TEMPLATES) return reply(`This server already has ${MAX_TEMPLATES} templates.`);
      await saveTemplate(ctx.kv, template);
      guild.templates = [...others, template].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const logChannel = event.options.log_channel;
      if (typeof logChannel === 'string') {
        await ctx.kv.set(TEMPLATE_LOG_CHANNEL_KEY, logChannel);
        guild.logChannelId = logChannel;
      }
      return reply(`Template \`${template.name}\` saved; it runs on ${template.events.join(', ')}.`);
    }
    case 'remove': {
      const existed = guild.templates.some((template) => template.name === name);
      if (!existed) return reply(`There is no template \`${name}\`.`);
      await removeTemplate(ctx.kv, name);
      guild.templates = guild.templates.filter((template) => template.name !== name);
      return reply(`Template \`${name}\` removed.`);
    }
    case 'list': {
      if (guild.templates.length === 0) return reply('This server has no templates.');
      const lines = guild.templates.map((template) => `\`${template.name}\` on ${template.events.join(', ')}`);
      const log = guild.logChannelId === null ? 'no log channel' : `errors go to <#${guild.logChannelId}>`;
      return reply(`Templates (${log}):\n${lines.join('\n')}`);
    }
    case 'test': {
      const template = guild.templates.find((candidate) => candidate.name === name);
      if (template === undefined) return reply(`There is no template \`${name}\`.`);
      const type = template.events.find((candidate) => candidate !== '*') ?? 'message';
      const sample = sampleEvent(type, event);
      const [outcome] = await templateEngine.runTemplates(sample, ctx, { templates: [template], type });
      return reply(describeOutcome(outcome, sample));
    }
    default:
      return reply('Unknown subcommand.');
  }
}
