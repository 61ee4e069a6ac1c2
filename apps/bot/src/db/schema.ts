import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { BotActionType } from '../protocol.js';

/** PostgreSQL `bytea`: the drivers read it as a `Uint8Array` (a `Buffer` with `pg`). */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

/**
 * `text COLLATE "C"`: sorts and compares by code point (byte order in UTF-8), whatever the
 * database's locale, so that a key range scan means the same on every server.
 */
export const textC = customType<{ data: string; driverData: string }>({
  dataType: () => 'text COLLATE "C"',
});

/**
 * Every tenant's key-value storage (`ctx.kv` in the workers). Values are `v8.serialize`d, so
 * whatever structured clone carries (`Map`, `Set`, `Date`, `BigInt`, typed arrays, `Error`s,
 * nested and cyclic objects) comes back as it went in. Keys sort by code point (`COLLATE "C"`).
 */
export const tenantKv = pgTable(
  'tenant_kv',
  {
    tenantKind: text('tenant_kind').$type<'guild' | 'user'>().notNull(),
    tenantId: text('tenant_id').notNull(),
    key: textC('key').notNull(),
    value: bytea('value').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'tenant_kv_pkey', columns: [table.tenantKind, table.tenantId, table.key] }),
    check('tenant_kv_tenant_kind_check', sql`${table.tenantKind} IN ('guild', 'user')`),
  ],
);

/** The audit trail: one row per moderation action the main thread carried out (or failed to). */
export const moderationActions = pgTable(
  'moderation_actions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    guildId: text('guild_id').notNull(),
    /** The member acted upon. */
    userId: text('user_id').notNull(),
    action: text('action').$type<BotActionType>().notNull(),
    reason: text('reason').notNull(),
    /** The rest of the action: channel and message ids, duration, role id... */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    /** Whether Discord accepted the request. */
    ok: boolean('ok').notNull(),
    /** Why Discord refused, when it did. */
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * The action's id, unique: a write retried after a lost connection (whose first attempt may
     * have committed) adds no second row. `null` in rows written before it existed.
     */
    actionKey: text('action_key'),
  },
  (table) => [
    index('moderation_actions_guild_created_idx').on(table.guildId, table.createdAt),
    uniqueIndex('moderation_actions_action_key_idx').on(table.actionKey),
  ],
);

/** The tables, as drizzle's `schema` option. */
export const schema = { tenantKv, moderationActions };

/** A row of {@link moderationActions}. */
export type ModerationActionRow = typeof moderationActions.$inferSelect;
