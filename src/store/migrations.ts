// Versioned schema migrations, applied in order; the database's user_version records progress.
export const MIGRATIONS: string[] = [
  `CREATE TABLE resources (
     name TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     parent TEXT NOT NULL,
     create_time TEXT NOT NULL,
     active INTEGER NOT NULL DEFAULT 0,
     data TEXT NOT NULL
   );
   CREATE INDEX resources_list ON resources(kind, parent, create_time, name);
   CREATE INDEX resources_active ON resources(kind) WHERE active = 1;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];
