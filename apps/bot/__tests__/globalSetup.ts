import { defaultPgliteTemplate, openPglite } from '../src/db/pglite.js';

/**
 * Before the test files start (in parallel): make sure the PGlite template exists, so that every
 * file's database loads it instead of running initdb at the same time as the others. Only the
 * first run on a machine pays for initdb. (With DATABASE_URL the bot's tests use the server, but
 * the PGlite template's own tests still need it.)
 */
export async function setup(): Promise<void> {
  const db = await openPglite(undefined, defaultPgliteTemplate());
  await db.close();
}
