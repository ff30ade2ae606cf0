// `gantry migrate`: applies this version's schema to a PostgreSQL store ahead of starting instances on it (each
// instance also migrates at start, one at a time; a database of a newer schema is refused by both).
import { isPostgresUrl } from '../store/postgres-url.js';
import { parseFlags, UsageError } from './args.js';

const HELP = `Usage: gantry migrate [--store URL]

Applies the schema this Gantry knows to the PostgreSQL database at URL (GANTRY_STORE, else DATABASE_URL), and
says which version it found and which it left. A database of a newer schema is refused: run a newer Gantry.
The embedded SQLite store needs no command: it is migrated when Gantry opens it.`;

/** The --store flag, else GANTRY_STORE, else a PostgreSQL DATABASE_URL; undefined for the embedded SQLite store. */
export function storeUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const url = flag ?? (env.GANTRY_STORE || undefined) ?? (env.DATABASE_URL && isPostgresUrl(env.DATABASE_URL) ? env.DATABASE_URL : undefined);
  if (url !== undefined && !isPostgresUrl(url)) {
    throw new Error(`invalid ${flag !== undefined ? '--store' : 'GANTRY_STORE'} "${url}": a store is a PostgreSQL URL, postgres://USER@HOST:PORT/DATABASE`);
  }
  return url;
}

export async function migrateCommand(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { values } = parseFlags(args, { store: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return HELP + '\n';
  let url: string | undefined;
  try { url = storeUrl(values.store, env); } catch (e) { throw new UsageError((e as Error).message); }
  if (url === undefined) throw new UsageError('no store to migrate: give --store postgres://… (or GANTRY_STORE)');
  const { migratePostgres } = await import('../store/postgres.js');
  const { current, known } = migratePostgres(url);
  return current === known ? `schema is at version ${known}: nothing to do\n` : `schema migrated from version ${current} to ${known}\n`;
}
