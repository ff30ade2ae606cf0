// The worker thread of sqlite-checkpointer.ts: copies the WAL's committed pages into the database file (a PASSIVE
// checkpoint, which never blocks the writer) on its own connection, off the thread that serves requests.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file } = workerData as { file: string };
const db = new Database(file);
db.pragma('busy_timeout = 1000');

parentPort!.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') { db.close(); parentPort!.close(); return; }
  let error: string | undefined;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { error = (e as Error).message; }
  parentPort!.postMessage({ error });
});
