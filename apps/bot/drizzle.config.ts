import { defineConfig } from 'drizzle-kit';

/**
 * drizzle-kit's settings: `pnpm db:generate` writes a migration for what changed in the schema
 * (src/db/schema.ts) to drizzle/, `pnpm db:check` checks the committed migrations. The bot applies
 * them at start (src/db/migrate.ts).
 */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
