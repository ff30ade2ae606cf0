// Packages only some requests need, loaded on their first use instead of at start-up: `yaml` (renders, manifests,
// apphosting.yaml: 72 modules) and `cron-parser` (timed promotion rules: with luxon, 17). Together about 30 ms of a
// start-up budgeted at 300 ms. Both are CommonJS, so `require` loads them synchronously where they are first needed
// (the same module objects an ESM import would give).
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type * as CronParser from 'cron-parser';

const require = createRequire(import.meta.url);
let yamlModule: typeof Yaml | undefined;
let cronModule: typeof CronParser | undefined;

/** The `yaml` package. */
export function yaml(): typeof Yaml {
  return yamlModule ??= require('yaml') as typeof Yaml;
}

/** `cron-parser`'s parser of cron expressions. */
export function cronParser(): typeof CronParser.CronExpressionParser {
  return (cronModule ??= require('cron-parser') as typeof CronParser).CronExpressionParser;
}
