// Whether a store URL names PostgreSQL: kept apart from the store, which loads a native module, so the CLI can check
// its flags without it.
export function isPostgresUrl(s: string): boolean { return /^postgres(ql)?:\/\/./.test(s); }
