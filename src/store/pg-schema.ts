// PostgreSQL schema migrations, applied in order; `gantry_schema` records how many ran. The shape mirrors SQLite's
// (migrations.ts): one table of JSON documents, with `doc` the same JSON as jsonb for queries (the text stays what
// was written, so answers and snapshots are byte-identical to SQLite's). Text that is compared or ordered is
// COLLATE "C": bytewise, as SQLite compares, whatever the database's locale.
import { INDEXED_FIELDS } from './migrations.js';
import { indexedSortExpr } from './list-pg.js';

export const PG_MIGRATIONS: string[] = [
  `CREATE TABLE resources (
     name text COLLATE "C" PRIMARY KEY,
     kind text COLLATE "C" NOT NULL,
     parent text COLLATE "C" NOT NULL,
     grandparent text COLLATE "C" NOT NULL,
     create_time text COLLATE "C" NOT NULL,
     active boolean NOT NULL DEFAULT false,
     data text NOT NULL,
     doc jsonb GENERATED ALWAYS AS (data::jsonb) STORED,
     -- A value of gantry_versions taken at each write: a cached parse is valid while it is unchanged.
     version bigint NOT NULL,
     -- Insertion order (SQLite's rowid, which an upsert keeps): the order snapshots list rows in.
     ord bigserial NOT NULL
   );
   CREATE SEQUENCE gantry_versions;
   CREATE INDEX resources_order ON resources(ord);
   CREATE INDEX resources_list ON resources(kind, parent, create_time, name);
   CREATE INDEX resources_family ON resources(kind, grandparent, create_time, name);
   CREATE INDEX resources_active ON resources(kind) WHERE active;
   CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
   -- The change feed: every committed put and delete, in commit order (writers hold one lock), which other
   -- instances read after a NOTIFY on gantry_changes.
   CREATE TABLE changes (seq bigserial PRIMARY KEY, kind text NOT NULL, name text NOT NULL, op text NOT NULL, origin text NOT NULL);
   ${INDEXED_FIELDS.rollout.order.map(f =>
    `CREATE INDEX rollouts_by_${f} ON resources(kind, grandparent, ${indexedSortExpr(f)}, name) WHERE kind = 'rollout';`).join('\n   ')}
   CREATE INDEX rollouts_on_target ON resources(kind, (doc->'targetId'), (doc->'state')) WHERE kind = 'rollout';`,
  // Cloud Storage object bytes, by content address, in chunks (pg-blobs.ts).
  `CREATE TABLE blobs (id text COLLATE "C" NOT NULL, chunk integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (id, chunk));`,
  // Statistics of the JSON fields lists filter on: without them the planner takes a target's and state's rollouts to be
  // a handful, sorts all 12,000 of them (60 ms for a page of 50 of 100,000), where walking the sort key's index and
  // skipping the others takes 0.5 ms.
  `CREATE STATISTICS rollout_fields ON (doc->'targetId'), (doc->'state') FROM resources;`,
  // Cloud Logging's entries (pg-log-entries.ts), in write order (`seq`: writers hold the log writers' lock, so it is commit
  // order too), with the instance that wrote each, and the project ids entries were written under by number.
  `CREATE TABLE log_entries (seq bigserial PRIMARY KEY, project text COLLATE "C" NOT NULL, timestamp text COLLATE "C" NOT NULL,
     log text COLLATE "C" NOT NULL, data text NOT NULL, origin text NOT NULL);
   CREATE INDEX log_entries_by_time ON log_entries(project, timestamp, seq);
   CREATE INDEX log_entries_by_log ON log_entries(project, log);
   CREATE TABLE log_projects (number text COLLATE "C" PRIMARY KEY, id text NOT NULL);`,
];
