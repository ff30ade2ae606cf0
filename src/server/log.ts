// Plain one-line logs on stderr, at a level the user can turn down (--log-level).
export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  level: Level;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(level: Level, write: (line: string) => void = l => process.stderr.write(l + '\n')): Logger {
  const at = (l: Level) => (msg: string) => { if (RANK[l] >= RANK[logger.level]) write(`${new Date().toISOString()} ${l.toUpperCase()} ${msg}`); };
  const logger: Logger = { level, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return logger;
}
