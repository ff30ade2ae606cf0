// The worker thread of request-logs.ts: makes Cloud Run's request entries (the same producer and row code the main
// thread uses) and stores each batch in one transaction, with its own connection to logs.db (WAL lets the main
// thread read and write beside it; a busy timeout waits out its transactions).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { cloudRunRequestEntry } from './producers.js';
import { entryRow, insertIds } from './entry-row.js';
import type { RequestBatch, RequestBatchDone } from './request-logs.js';

const { file, prefix } = workerData as { file: string; prefix: string };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare('INSERT INTO entries (project, timestamp, log, data) VALUES (?, ?, ?, ?)');
const insertId = insertIds(prefix);

const store = db.transaction((b: RequestBatch) => {
  for (const r of b.records) {
    const row = entryRow(cloudRunRequestEntry(r), { project: r.project, number: b.numbers[r.project] ?? '', timestamp: r.time, now: b.now, insertId }, false);
    insert.run(row.project, row.timestamp, row.log, row.json);
  }
});

parentPort!.on('message', (m: RequestBatch | 'close') => {
  if (m === 'close') { db.close(); parentPort!.close(); return; }
  let done: RequestBatchDone;
  try { store(m); done = { stored: m.records.length }; } catch (e) { done = { stored: 0, error: (e as Error).message }; }
  parentPort!.postMessage(done);
});
