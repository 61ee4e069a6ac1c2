import type { SimEngine } from '../sim/SimEngine.js';
import type { GuildState } from '../world/GuildState.js';
import { Permission } from '../world/permissions.js';
import type { ApiAttachment, ApiChannel, ApiEmbed, ApiGuildMember, ApiMessage } from '../world/types.js';
import { THREAD_TYPES } from '../world/World.js';
import { requirePermissions } from './guards.js';
import { apiError, ApiErrorCode, RouteResult, unknown } from './responses.js';
import { checkAutocompleteResult, checkMessage, checkModal, FormErrors } from './validation.js';

/** A file part of a multipart request. */
export interface Upload {
  /** The form field, e.g. `files[0]`. */
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** What a route handler gets. */
export interface RouteContext {
  readonly method: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  /** The files the request uploaded (multipart `files[n]` parts), with their bytes. */
  readonly uploads: readonly Upload[];
  readonly reason: string | null;
  readonly now: number;
  readonly engine: SimEngine;
  readonly gateway: {
    readonly url: string;
    readonly recommendedShards: number;
    readonly maxConcurrency: number;
    readonly sessionStartTotal: number;
    /** Where the simulator serves attachments, e.g. `http://127.0.0.1:40123/attachments`. */
    readonly attachmentsUrl: string;
  };
}

/** One REST route of the simulator. */
export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The template, with `:name` parameters. */
  readonly route: string;
  /** Whether `Authorization: Bot <token>` is required (interaction and webhook token routes do not need it). */
  readonly auth: boolean;
  handle(context: RouteContext): RouteResult;
}

export const TWO_WEEKS_MS = 14 * 24 * 60 * 60 * 1000;
export const MAX_TIMEOUT_MS = 28 * 24 * 60 * 60 * 1000;
export const EPHEMERAL = 1 << 6;
export const LOADING = 1 << 7;

export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function guildOf(context: RouteContext): GuildState | RouteResult {
  return context.engine.world.guilds.get(context.params.guild_id as string) ?? unknown('Guild');
}

export function channelOf(context: RouteContext): { channel: ApiChannel; guild: GuildState | null } | RouteResult {
  return context.engine.world.channels.get(context.params.channel_id as string) ?? unknown('Channel');
}

/**
 * The channel of the route, if the bot may do what `needed` says there (View Channel always, in a
 * guild): 50001 when it cannot see the channel, 50013 when it lacks a permission.
 */
export function channelFor(
  context: RouteContext,
  needed: bigint = 0n,
): { channel: ApiChannel; guild: GuildState | null } | RouteResult {
  const entry = channelOf(context);
  if (isResult(entry)) return entry;
  return requirePermissions(context.engine, entry.guild, needed | Permission.ViewChannel, entry.channel) ?? entry;
}

/** Sending in a thread takes Send Messages in Threads instead of Send Messages. */
export function sendPermission(channel: ApiChannel): bigint {
  return THREAD_TYPES.has(channel.type) ? Permission.SendMessagesInThreads : Permission.SendMessages;
}

export function userIdOf(context: RouteContext): string {
  const id = context.params.user_id as string;
  return id === '@me' ? context.engine.world.bot.id : id;
}

export function isResult(value: unknown): value is RouteResult {
  return value instanceof RouteResult;
}

export function isTextBased(channel: ApiChannel): boolean {
  return (
    channel.type === 0 ||
    channel.type === 1 ||
    channel.type === 2 ||
    channel.type === 5 ||
    channel.type === 10 ||
    channel.type === 11 ||
    channel.type === 12
  );
}

/** Checks a message body (sends, edits, interaction replies), answering Discord's 50035 with the field paths under `prefix`. */
export function validateMessageBody(
  body: Record<string, unknown>,
  requireContent: boolean,
  prefix: readonly string[] = [],
  uploads = 0,
): RouteResult | undefined {
  const errors = new FormErrors();
  checkMessage(errors, body, prefix);
  const invalid = errors.result();
  if (invalid) return invalid;
  if (requireContent) {
    const hasContent = typeof body.content === 'string' && body.content.length > 0;
    const hasOther =
      (Array.isArray(body.embeds) && body.embeds.length > 0) ||
      (Array.isArray(body.components) && body.components.length > 0) ||
      (Array.isArray(body.sticker_ids) && body.sticker_ids.length > 0) ||
      (Array.isArray(body.attachments) && body.attachments.length > 0) ||
      uploads > 0 ||
      body.poll !== undefined;
    if (!hasContent && !hasOther)
      return apiError(400, ApiErrorCode.CannotSendEmptyMessage, 'Cannot send an empty message');
  }
  return undefined;
}

export function validateAutocomplete(data: Record<string, unknown>): RouteResult | undefined {
  const errors = new FormErrors();
  checkAutocompleteResult(errors, data);
  return errors.result();
}

export function validateModal(data: Record<string, unknown>): RouteResult | undefined {
  const errors = new FormErrors();
  checkModal(errors, data);
  return errors.result();
}

/** Applies an edit body to a message, as `PATCH` of a message or of a webhook message does. */
export function applyEdit(message: ApiMessage, body: Record<string, unknown>, now: number): void {
  if (typeof body.content === 'string') message.content = body.content;
  else if (body.content === null) message.content = '';
  if (Array.isArray(body.embeds)) message.embeds = body.embeds as ApiEmbed[];
  if (Array.isArray(body.components)) message.components = body.components;
  if (typeof body.flags === 'number') message.flags = (message.flags & ~LOADING) | (body.flags & ~LOADING);
  else message.flags &= ~LOADING;
  message.edited_timestamp = new Date(now).toISOString().replace('Z', '+00:00');
}

export function messageOf(context: RouteContext, channelId: string): ApiMessage | RouteResult {
  return context.engine.world.getMessage(channelId, context.params.message_id as string) ?? unknown('Message');
}

export function memberOf(context: RouteContext, guild: GuildState): ApiGuildMember | RouteResult {
  return guild.members.get(userIdOf(context)) ?? unknown('Member');
}

/**
 * The attachments of a message being sent or edited: each uploaded file (matched to the body's
 * `attachments` entries by `files[id]`, for their filename and description) stored and given a URL
 * the simulator serves, plus the `existing` ones the body's `attachments` keeps (edits).
 */
export function attachmentsFor(
  context: RouteContext,
  channelId: string,
  body: Record<string, unknown>,
  existing: readonly ApiAttachment[] = [],
): ApiAttachment[] {
  const { world } = context.engine;
  const listed = Array.isArray(body.attachments) ? (body.attachments as Record<string, unknown>[]) : null;
  const kept =
    listed === null
      ? [...existing]
      : existing.filter((attachment) => listed.some((entry) => String(entry.id) === attachment.id));
  for (const [index, upload] of context.uploads.entries()) {
    const fieldId = /^files\[(\w+)\]$/.exec(upload.field)?.[1] ?? String(index);
    const entry = listed?.find((candidate) => String(candidate.id) === fieldId);
    const filename = typeof entry?.filename === 'string' ? entry.filename : upload.filename;
    const id = world.ids.next(context.now);
    world.storeAttachment(id, { filename, contentType: upload.contentType, data: upload.data });
    const url = `${context.gateway.attachmentsUrl}/${channelId}/${id}/${encodeURIComponent(filename)}`;
    const attachment: ApiAttachment = { id, filename, size: upload.data.length, url, proxy_url: url };
    if (upload.contentType !== '') attachment.content_type = upload.contentType;
    if (typeof entry?.description === 'string') attachment.description = entry.description;
    kept.push(attachment);
  }
  return kept;
}
