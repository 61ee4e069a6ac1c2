import { InvalidArgumentError } from '@switchyard/core';
import { asc, eq } from 'drizzle-orm';
import type { BotActionType } from '../protocol.js';
import type { BotDatabase } from './Database.js';
import type { ModerationActionRow } from './schema.js';
import { moderationActions } from './schema.js';

/** One moderation action as the main thread carried it out. */
export interface ModerationEntry {
  readonly guildId: string;
  readonly userId: string;
  readonly action: BotActionType;
  readonly reason: string;
  /** The rest of the action (channel and message ids, duration, role id). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Whether Discord accepted it. */
  readonly ok: boolean;
  /** Why it failed, when it did. */
  readonly error: string | null;
  /**
   * When the action was carried out (the row may be written later, see `AuditOutbox`).
   * @default the time of the write
   */
  readonly createdAt?: Date;
  /**
   * The action's unique id: writing an entry whose key is already in the table adds nothing, so
   * a retried write never doubles a row.
   * @default none (every write adds a row)
   */
  readonly key?: string;
}

function rowOf(entry: ModerationEntry): typeof moderationActions.$inferInsert {
  return {
    guildId: entry.guildId,
    userId: entry.userId,
    action: entry.action,
    reason: entry.reason,
    details: { ...entry.details },
    ok: entry.ok,
    error: entry.error,
    ...(entry.createdAt === undefined ? {} : { createdAt: entry.createdAt }),
    ...(entry.key === undefined ? {} : { actionKey: entry.key }),
  };
}

/**
 * The `moderation_actions` audit table: the main thread writes a row for every moderation action
 * it carries out (timeouts, bans, deleted messages, roles given), failed ones included.
 */
export class ModerationLog {
  readonly #database: BotDatabase;

  constructor(database: BotDatabase) {
    if (
      database === null ||
      typeof database !== 'object' ||
      typeof (database as Partial<BotDatabase>).run !== 'function'
    ) {
      throw new InvalidArgumentError(
        `Expected \`database\` to be a BotDatabase from openDatabase(), got ${database === null ? 'null' : typeof database}.`,
      );
    }
    this.#database = database;
  }

  /** Writes one row. */
  async record(entry: ModerationEntry): Promise<void> {
    await this.recordMany([entry]);
  }

  /** Writes rows in one statement (all or none), in the order given; entries whose `key` is already in the table are skipped. */
  async recordMany(entries: readonly ModerationEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.#database.run('write the moderation log', (db) =>
      db
        .insert(moderationActions)
        .values(entries.map(rowOf))
        .onConflictDoNothing({ target: moderationActions.actionKey }),
    );
  }

  /** The rows, oldest first; of one guild when `guildId` is given. */
  async list(options: { guildId?: string } = {}): Promise<ModerationActionRow[]> {
    const { guildId } = options;
    return this.#database.run('read the moderation log', (db) =>
      db
        .select()
        .from(moderationActions)
        .where(guildId === undefined ? undefined : eq(moderationActions.guildId, guildId))
        .orderBy(asc(moderationActions.id)),
    );
  }
}
