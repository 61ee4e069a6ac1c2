import { createHash } from 'node:crypto';
import type { REST } from 'discord.js';
import { Routes } from 'discord.js';
import type { BanAction, BotAction, DeleteMessageAction } from '../protocol.js';
import { AUDITED_ACTIONS } from '../protocol.js';
import type { AuditSink } from './AuditOutbox.js';
import type { RequestBudget } from './RequestBudget.js';

/** What happened to one action. */
export interface ActionOutcome {
  readonly action: BotAction;
  readonly ok: boolean;
  /** Discord's refusal (or the network error), when `ok` is false. */
  readonly error: unknown;
}

function details(action: BotAction): Record<string, unknown> {
  switch (action.type) {
    case 'timeout':
      return { durationMs: action.durationMs };
    case 'ban':
      return { deleteMessageSeconds: action.deleteMessageSeconds };
    case 'deleteMessage':
      return { channelId: action.channelId, messageId: action.messageId };
    case 'addRole':
      return { roleId: action.roleId };
    case 'sendMessage':
      return { channelId: action.channelId };
  }
}

/** Discord's "Missing Permissions". */
const MISSING_PERMISSIONS = 50013;

function targetOf(action: BotAction): string {
  return action.type === 'sendMessage' ? (action.mentionUserIds[0] ?? '') : action.userId;
}

/** The distinct reasons of a bulk request's actions, as one audit-log reason (Discord keeps 512 characters). */
function joinedReason(actions: readonly { readonly reason: string }[]): string {
  const reasons = [...new Set(actions.map((action) => action.reason))].join('; ');
  return reasons.length > 512 ? `${reasons.slice(0, 511)}…` : reasons;
}

/**
 * Carries out the workers' decisions through Discord's REST API with the main thread's client,
 * and hands every moderation action, failed ones included, to the audit sink (the bot's
 * `AuditOutbox`, which writes it to the audit table).
 */
export class ActionRunner {
  readonly #rest: REST;
  readonly #audit: AuditSink;
  readonly #budget: RequestBudget | undefined;
  /** Guilds whose bulk ban Discord refused for a missing permission: their bans go one by one. */
  readonly #bulkBanRefused = new Set<string>();

  /**
   * @param budget - the share of the global rate limit the actions take (each request, a
   *   bulk-delete included, waits for its turn); without one, discord.js alone paces them.
   */
  constructor(rest: REST, audit: AuditSink, budget?: RequestBudget) {
    this.#rest = rest;
    this.#audit = audit;
    this.#budget = budget;
  }

  /**
   * Carries out one action in `guildId`; never rejects (Discord's refusals are in the outcome).
   * `key` names the action for good (the event and the action's place in its decision): a message
   * sent again under the same key within minutes — the same decision carried out twice after a
   * crash — is Discord's first one (`enforce_nonce`), not a second message.
   */
  async run(guildId: string, action: BotAction, key?: string): Promise<ActionOutcome> {
    let error: unknown;
    try {
      await this.#budget?.acquire();
      await this.#request(guildId, action, key);
    } catch (caught) {
      error = caught ?? new Error('The request failed.');
    }
    const ok = error === undefined;
    if (AUDITED_ACTIONS.has(action.type)) {
      this.#audit.add({
        guildId,
        userId: targetOf(action),
        action: action.type,
        reason: 'reason' in action ? action.reason : '',
        details: details(action),
        ok,
        error: ok ? null : error instanceof Error ? error.message : String(error),
        createdAt: new Date(),
      });
    }
    return { action, ok, error };
  }

  /**
   * Deletes 2 to 100 messages of one channel (younger than 14 days) with one
   * `POST /channels/:channel/messages/bulk-delete`, and audits each message as its own row with
   * the request's outcome. Never rejects.
   */
  async bulkDelete(
    guildId: string,
    channelId: string,
    actions: readonly DeleteMessageAction[],
  ): Promise<ActionOutcome[]> {
    let error: unknown;
    try {
      await this.#budget?.acquire();
      await this.#rest.post(Routes.channelBulkDelete(channelId), {
        body: { messages: actions.map((action) => action.messageId) },
        reason: joinedReason(actions),
      });
    } catch (caught) {
      error = caught ?? new Error('The request failed.');
    }
    return this.#auditBulk(guildId, actions, () => error);
  }

  /**
   * Bans 2 to 200 members of one guild, all with the same `deleteMessageSeconds`, with one
   * `POST /guilds/:guild/bulk-ban`, and audits each member as its own row: carried out when Discord
   * lists them in `banned_users`, refused (with the reason) when in `failed_users` or when the
   * request failed (Discord answers 500000 when it banned nobody). Never rejects.
   *
   * The bulk ban needs Manage Server besides Ban Members: when Discord refuses it for a missing
   * permission (50013), the members are banned one by one instead, and so are the guild's later
   * bans.
   */
  async bulkBan(guildId: string, actions: readonly BanAction[]): Promise<ActionOutcome[]> {
    if (this.#bulkBanRefused.has(guildId)) return this.#oneByOne(guildId, actions);
    let error: unknown;
    let result: { banned_users?: unknown; failed_users?: unknown } | undefined;
    try {
      await this.#budget?.acquire();
      result = (await this.#rest.post(Routes.guildBulkBan(guildId), {
        body: {
          user_ids: actions.map((action) => action.userId),
          delete_message_seconds: actions[0]!.deleteMessageSeconds,
        },
        reason: joinedReason(actions),
      })) as typeof result;
    } catch (caught) {
      if ((caught as { code?: unknown } | null)?.code === MISSING_PERMISSIONS) {
        this.#bulkBanRefused.add(guildId);
        return this.#oneByOne(guildId, actions);
      }
      error = caught ?? new Error('The request failed.');
    }
    const banned = new Set(Array.isArray(result?.banned_users) ? result.banned_users.map(String) : []);
    return this.#auditBulk(
      guildId,
      actions,
      (action) =>
        error ??
        (banned.has(action.userId)
          ? undefined
          : new Error('Discord did not ban this user (failed_users of the bulk ban).')),
    );
  }

  /** Audits each action of one bulk request as its own row; `failureOf` says why one failed (`undefined`: carried out). */
  #auditBulk<A extends DeleteMessageAction | BanAction>(
    guildId: string,
    actions: readonly A[],
    failureOf: (action: A) => unknown,
  ): ActionOutcome[] {
    const at = new Date();
    return actions.map((action) => {
      const failure = failureOf(action);
      const ok = failure === undefined;
      this.#audit.add({
        guildId,
        userId: action.userId,
        action: action.type,
        reason: action.reason,
        details: { ...details(action), bulk: actions.length },
        ok,
        error: ok ? null : failure instanceof Error ? failure.message : String(failure),
        createdAt: at,
      });
      return { action, ok, error: failure };
    });
  }

  async #oneByOne(guildId: string, actions: readonly BanAction[]): Promise<ActionOutcome[]> {
    const outcomes: ActionOutcome[] = [];
    for (const action of actions) outcomes.push(await this.run(guildId, action));
    return outcomes;
  }

  #request(guildId: string, action: BotAction, key: string | undefined): Promise<unknown> {
    switch (action.type) {
      case 'timeout':
        return this.#rest.patch(Routes.guildMember(guildId, action.userId), {
          body: { communication_disabled_until: new Date(Date.now() + action.durationMs).toISOString() },
          reason: action.reason,
        });
      case 'ban':
        return this.#rest.put(Routes.guildBan(guildId, action.userId), {
          body: { delete_message_seconds: action.deleteMessageSeconds },
          reason: action.reason,
        });
      case 'deleteMessage':
        return this.#rest.delete(Routes.channelMessage(action.channelId, action.messageId), { reason: action.reason });
      case 'addRole':
        return this.#rest.put(Routes.guildMemberRole(guildId, action.userId, action.roleId), { reason: action.reason });
      case 'sendMessage':
        return this.#rest.post(Routes.channelMessages(action.channelId), {
          body: {
            content: action.content,
            allowed_mentions: { parse: [], users: [...action.mentionUserIds] },
            ...(key === undefined ? {} : { nonce: nonceFor(key), enforce_nonce: true }),
          },
        });
    }
  }
}

/** A Discord message nonce (at most 25 characters) that stands for `key`. */
export function nonceFor(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 25);
}
