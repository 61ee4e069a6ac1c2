/**
 * The worker thread's entry (built to `dist/worker.js`, loaded by `@switchyard/pool-thread`):
 * one {@link GuildModerator} per guild, created from the guild's stored configuration on its first
 * event. It decides what to do; the main thread, which holds the token and the database, acts.
 */
import { defineWorker } from '@switchyard/core';
import type { BotEvent } from './protocol.js';
import { GuildModerator } from './worker/GuildModerator.js';
import {
  forgetGuildTemplates,
  loadGuildTemplates,
  templateCommand,
  templateEngine,
  withTemplateActions,
} from './worker/GuildTemplates.js';

export const worker = defineWorker({
  // The guild's templates are read with its configuration, so a database outage later never
  // holds up the moderator's decisions behind a template lookup.
  createTenant: async (_tenant, ctx) => {
    const [moderator] = await Promise.all([
      GuildModerator.load(ctx.kv),
      loadGuildTemplates(ctx).catch(() => undefined),
    ]);
    return moderator;
  },
  onEvent: async (moderator: GuildModerator, event: BotEvent, ctx) => {
    if (event.type === 'command' && event.command === 'template') return templateCommand(event, ctx);
    return withTemplateActions(event, await moderator.handle(event), ctx);
  },
  dropTenant: (_moderator, ctx) => forgetGuildTemplates(ctx.tenant.id),
  scriptEngine: templateEngine,
});
