// The part of pg-native (node-postgres's libpq binding) the PostgreSQL store uses; the package ships no types.
declare module 'pg-native' {
  import { EventEmitter } from 'node:events';

  type Value = string | null;
  type ResultRow = Record<string, unknown>;

  class Client extends EventEmitter {
    constructor(config?: { arrayMode?: boolean });
    connectSync(conninfo: string): void;
    connect(conninfo: string, cb: (err?: Error) => void): void;
    querySync(text: string, values?: Value[]): ResultRow[];
    prepareSync(name: string, text: string, nParams: number): void;
    executeSync(name: string, values: Value[]): ResultRow[];
    query(text: string, values: Value[], cb: (err: Error | null, rows: ResultRow[]) => void): void;
    query(text: string, cb: (err: Error | null, rows: ResultRow[]) => void): void;
    prepare(name: string, text: string, nParams: number, cb: (err?: Error) => void): void;
    execute(name: string, values: Value[], cb: (err: Error | null, rows: ResultRow[]) => void): void;
    end(cb?: () => void): void;
    getTransactionStatus(): 'I' | 'T' | 'E' | null;
    // Internals read when the socket watcher has dropped an error (postgres.ts nudgeFeed): whether the client is
    // waiting for an answer, its read step, and libpq's connection.
    _reading: boolean;
    _read(): void;
    pq: { consumeInput(): boolean; errorMessage(): string };
    on(event: 'notification', listener: (n: { relname: string; extra: string; be_pid: number }) => void): this;
    on(event: 'error', listener: (e: Error) => void): this;
  }
  export = Client;
}
