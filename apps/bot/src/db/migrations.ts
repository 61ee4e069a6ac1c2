import { fileURLToPath } from 'node:url';
import type { MigrationConfig } from 'drizzle-orm/migrator';

/**
 * The migrations drizzle-kit generated from src/db/schema.ts (`pnpm db:generate`), committed in the
 * package's drizzle/ folder: two levels above dist/db/ and src/db/ alike.
 */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** The table, in the bot's own schema, where drizzle records the migrations applied. */
export const MIGRATIONS_TABLE = '__drizzle_migrations';

/**
 * The advisory lock key that serialises the migrations of one schema between bots starting at once.
 * @internal
 */
export function migrationLockKey(schemaName: string): string {
  return `switchyard-bot:${schemaName}`;
}

/**
 * drizzle's migrator configuration for the bot's schema.
 * @internal
 */
export function migrationConfig(schemaName: string): MigrationConfig {
  return { migrationsFolder: MIGRATIONS_FOLDER, migrationsSchema: schemaName, migrationsTable: MIGRATIONS_TABLE };
}

/**
 * The messages of an error and its causes, without drizzle's wrappers ("Failed query: <the SQL>"),
 * which repeat the statement around the driver's reason.
 * @internal
 */
export function causeMessages(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current !== undefined && messages.length < 5;) {
    const message = current instanceof Error ? current.message : String(current);
    if (!message.startsWith('Failed query:')) messages.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return messages.join(': ');
}
