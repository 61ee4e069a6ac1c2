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
}

/** The most rows {@link ModerationLog} writes in one `INSERT` (7 parameters a row, far below PostgreSQL's 65,535). */
export const MODERATION_LOG_BATCH_ROWS = 500;

type NewModerationActionRow = typeof moderationActions.$inferInsert;

interface PendingRow {
  readonly row: NewModerationActionRow;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The `moderation_actions` audit table: the main thread writes a row for every moderation action
 * it carries out (timeouts, bans, deleted messages, roles given), failed ones included.
 *
 * Rows recorded while a write is in flight are written together by the next one, as one
 * multi-row `INSERT` (group commit, no timer): under load this costs the database one round trip
 * per batch instead of one per action, which matters with PGlite, whose single-threaded
 * WebAssembly runs in the main thread. Rows keep the order of the `record` calls.
 */
export class ModerationLog {
  readonly #database: BotDatabase;
  #pending: PendingRow[] = [];
  #writing = false;

  constructor(database: BotDatabase) {
    if (database === null || typeof database !== 'object' || typeof (database as Partial<BotDatabase>).run !== 'function') {
      throw new InvalidArgumentError(`Expected \`database\` to be a BotDatabase from openDatabase(), got ${database === null ? 'null' : typeof database}.`);
    }
    this.#database = database;
  }

  /**
   * Writes one row; resolves once it is stored. When it shares its `INSERT` with other rows and
   * that write fails, every row of the batch is refused with the same `DatabaseError`.
   */
  record(entry: ModerationEntry): Promise<void> {
    const row: NewModerationActionRow = {
      guildId: entry.guildId,
      userId: entry.userId,
      action: entry.action,
      reason: entry.reason,
      details: { ...entry.details },
      ok: entry.ok,
      error: entry.error,
    };
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ row, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  /** Writes the pending rows, a batch at a time, until none is left. */
  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, MODERATION_LOG_BATCH_ROWS);
        try {
          await this.#database.run('write the moderation log', (db) => db.insert(moderationActions).values(batch.map((pending) => pending.row)));
          for (const pending of batch) pending.resolve();
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.#writing = false;
    }
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
