// Versioned schema migrations, applied in order; the database's user_version records progress.
// `grandparent` serves wildcard-parent lists (…/releases/-/rollouts = every rollout of a pipeline) from an index.

/**
 * The JSON fields expression indexes cover, by kind: list queries write exactly these into their SQL as literals (the
 * planner must see them to use the index); every other path a client names is a bound parameter (sqlite.ts).
 */
export const INDEXED_FIELDS: Record<string, { order: readonly string[]; equal: readonly string[] }> = {
  rollout: { order: ['deployEndTime', 'enqueueTime', 'deployStartTime', 'approveTime'], equal: ['targetId', 'state'] },
};

export const MIGRATIONS: string[] = [
  `CREATE TABLE resources (
     name TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     parent TEXT NOT NULL,
     grandparent TEXT NOT NULL,
     create_time TEXT NOT NULL,
     active INTEGER NOT NULL DEFAULT 0,
     data TEXT NOT NULL
   );
   CREATE INDEX resources_list ON resources(kind, parent, create_time, name);
   CREATE INDEX resources_family ON resources(kind, grandparent, create_time, name);
   CREATE INDEX resources_active ON resources(kind) WHERE active = 1;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // Sort keys clients order rollouts by (gcloud: DeployEndTime desc, EnqueueTime desc): a page is an index walk.
  INDEXED_FIELDS.rollout.order.map(f =>
    `CREATE INDEX rollouts_by_${f} ON resources(kind, grandparent, coalesce(json_extract(data, '$.${f}'), ''), name) WHERE kind = 'rollout';`).join('\n'),
  // The rollouts on one target in one state (the per-target queue the rollout controller reads on every step).
  `CREATE INDEX rollouts_on_target ON resources(kind, json_extract(data, '$.targetId'), json_extract(data, '$.state')) WHERE kind = 'rollout';`,
  // The same, in queue order: the head of a target's queue (its PENDING rollouts by enqueueTime) is an index walk,
  // where the index above fetched and sorted the whole queue on every look.
  `DROP INDEX rollouts_on_target;
   CREATE INDEX rollouts_on_target ON resources(kind, json_extract(data, '$.targetId'), json_extract(data, '$.state'), coalesce(json_extract(data, '$.enqueueTime'), ''), name) WHERE kind = 'rollout';`,
];
