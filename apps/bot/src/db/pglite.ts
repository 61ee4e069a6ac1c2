import { existsSync, readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

let version: string | undefined;

/** The installed PGlite version (a data directory is only valid for the version that made it). */
export function pgliteVersion(): string {
  if (version === undefined) {
    // The package does not export its package.json: find it next to the resolved entry.
    let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (parsed.name === '@electric-sql/pglite' && typeof parsed.version === 'string') {
          version = parsed.version;
          break;
        }
      }
      const parent = dirname(dir);
      if (parent === dir) {
        version = 'unknown';
        break;
      }
      dir = parent;
    }
  }
  return version;
}

/** Where the initialized data directory is cached by default: the system's temporary directory. */
export function defaultPgliteTemplate(): string {
  return join(tmpdir(), `switchyard-bot-pglite-${pgliteVersion()}.tar.gz`);
}

/**
 * Opens PGlite in memory (`dataDir` undefined) or on disk. A new database needs `initdb`, which
 * takes several seconds of WebAssembly (tens on a loaded machine); so the first new database
 * dumps its pristine data directory to `template`, and later new databases start from that
 * tarball instead, in a fraction of the time. Existing data directories open as they are. The
 * cache is best effort: an unreadable or unloadable template is deleted and `initdb` runs.
 */
export async function openPglite(dataDir: string | undefined, template: string | false): Promise<PGlite> {
  const fresh = dataDir === undefined || !existsSync(join(dataDir, 'PG_VERSION'));
  if (!fresh || template === false) return ready(new PGlite(dataDir));
  if (existsSync(template)) {
    try {
      const tarball = await readFile(template);
      return await ready(
        new PGlite({ ...(dataDir === undefined ? {} : { dataDir }), loadDataDir: new Blob([tarball]) }),
      );
    } catch {
      await rm(template, { force: true });
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    }
  }
  const db = await ready(new PGlite(dataDir));
  const partial = `${template}.${process.pid}.partial`;
  try {
    const dump = await db.dumpDataDir('gzip');
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, template);
  } catch {
    // Without a cache the next start runs initdb again; nothing else depends on it.
    await rm(partial, { force: true }).catch(() => undefined);
  }
  return db;
}

async function ready(db: PGlite): Promise<PGlite> {
  try {
    await db.waitReady;
    return db;
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
