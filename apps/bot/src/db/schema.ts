import {
  bigint,
  boolean,
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
 * Every tenant's key-value storage (`ctx.kv` in the workers). Values are `v8.serialize`d, so
 * whatever structured clone carries (`Map`, `Set`, `Date`, `BigInt`, typed arrays, `Error`s,
 * nested and cyclic objects) comes back as it went in. Keys sort by code point (`COLLATE "C"`).
 */
export const tenantKv = pgTable(
  'tenant_kv',
  {
    tenantKind: text('tenant_kind').$type<'guild' | 'user'>().notNull(),
    tenantId: text('tenant_id').notNull(),
    key: text('key').notNull(),
    value: bytea('value').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ name: 'tenant_kv_pkey', columns: [table.tenantKind, table.tenantId, table.key] })],
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

/**
 * The SQL that creates the tables of {@link schema}, idempotent (`IF NOT EXISTS`): run at every
 * start, so no migration tool is needed at run time.
 */
export const CREATE_TABLES: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS tenant_kv (
    tenant_kind text NOT NULL CHECK (tenant_kind IN ('guild', 'user')),
    tenant_id text NOT NULL,
    key text COLLATE "C" NOT NULL,
    value bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_kv_pkey PRIMARY KEY (tenant_kind, tenant_id, key)
  )`,
  `CREATE TABLE IF NOT EXISTS moderation_actions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id text NOT NULL,
    user_id text NOT NULL,
    action text NOT NULL,
    reason text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    ok boolean NOT NULL,
    error text,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  'CREATE INDEX IF NOT EXISTS moderation_actions_guild_created_idx ON moderation_actions (guild_id, created_at)',
  'ALTER TABLE moderation_actions ADD COLUMN IF NOT EXISTS action_key text',
  'CREATE UNIQUE INDEX IF NOT EXISTS moderation_actions_action_key_idx ON moderation_actions (action_key)',
];
