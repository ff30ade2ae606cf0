// The work lease's slots on a real PostgreSQL: an instance alone takes them all, a second gets its share as the first
// hands idle slots over (never a busy one), no slot is ever held by two, and a stopped instance's slots are taken.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore, endClient } from '../../src/store/postgres.js';
import { PgWorkSlots } from '../../src/store/pg-work-slots.js';
import { WORK_SLOTS, projectOfName, slotOfName, slotOfProject } from '../../src/engine/work-lease.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { createRequire } from 'node:module';
import type PgClient from 'pg-native';

const Client = createRequire(import.meta.url)('pg-native') as typeof PgClient;

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

/** An instance: its store, and its lease ticked by hand (the interval is too long to fire in a test). */
async function instance(url: string) {
  const store = new PostgresStore(url);
  await store.listen();
  const lease = await store.workLease(3_600_000) as PgWorkSlots;
  const events: string[] = [];
  lease.onTaken(s => events.push(`took ${s.join(',')}`));
  lease.onLost((s, handedOver) => events.push(`${handedOver ? 'handed' : 'lost'} ${s.join(',')}`));
  return { store, lease, events };
}

test('slots are split among instances: all to one alone, idle ones handed to a newcomer, a stopped one\'s taken over', async () => {
  const url = pg.database();
  const a = await instance(url);
  assert.equal(a.lease.slots().length, WORK_SLOTS, 'alone, an instance holds every slot');
  const b = await instance(url);
  assert.deepEqual(b.lease.slots(), [], 'every slot is held: a newcomer waits for some to be handed over');

  // a's slot 0 and 1 are busy: they are never handed over, whatever the share says.
  a.lease.busyWith(slot => slot < 2);
  const disjoint = () => {
    const held = [...a.lease.slots(), ...b.lease.slots()];
    assert.equal(new Set(held).size, held.length, 'no slot held twice');
    return held.length;
  };
  for (let i = 0; i < 4; i++) {
    await a.lease.tick();
    disjoint();
    await b.lease.tick();
    disjoint();
  }
  assert.equal(a.lease.slots().length, WORK_SLOTS / 2);
  assert.equal(b.lease.slots().length, WORK_SLOTS / 2);
  assert.ok(a.lease.slots().includes(0) && a.lease.slots().includes(1), 'busy slots stay');
  assert.equal(a.events.filter(e => e.startsWith('handed')).flatMap(e => e.split(' ')[1].split(',')).length, WORK_SLOTS / 2);
  assert.deepEqual(b.events.flatMap(e => e.split(' ')[1].split(',')).map(Number).sort((x, y) => x - y), b.lease.slots());

  // Each name is worked on by exactly one of them.
  for (const name of ['projects/p1/locations/l/targets/t', 'projects/other/x', 'operations/abc']) {
    assert.equal(Number(a.lease.works(name)) + Number(b.lease.works(name)), 1, name);
    assert.equal(slotOfName(name), slotOfProject(projectOfName(name)));
  }
  assert.equal(b.lease.holderOf(b.lease.slots().map(s => nameIn(s))[0]), undefined, 'its own slots have no other holder');

  // a stops: once PostgreSQL has ended its session, b takes everything at its next look.
  a.lease.close();
  a.store.close();
  await waitFor(async () => { await b.lease.tick(); return b.lease.slots().length === WORK_SLOTS; });
  b.lease.close();
  b.store.close();
});

test('the database restarting loses every slot at once (the work stops), and they are taken again once it answers', async () => {
  const url = pg.database();
  const a = await instance(url);
  assert.equal(a.lease.slots().length, WORK_SLOTS);
  await pg.restart();
  await waitFor(() => a.lease.slots().length === 0);
  assert.ok(a.events.includes(`lost ${[...Array(WORK_SLOTS).keys()].join(',')}`), a.events.join('; '));
  // The feed is opened again within a second or so; the next look takes every slot back.
  await waitFor(async () => { await a.lease.tick(); return a.lease.slots().length === WORK_SLOTS; });
  a.lease.close();
  a.store.close();
});

test('a lease whose session ended unnoticed stops that work at its next look, and takes slots again on its new session', async () => {
  const url = pg.database();
  // The lease's queries go to whichever session `current` is: swapping it without telling the lease is the connection
  // replaced before its loss was heard.
  const open = () => { const c = new Client(); c.connectSync(url); return c; };
  let current = open();
  const first = current;
  const q = (text: string, values?: (string | null)[]) => new Promise<Record<string, unknown>[]>((resolve, reject) =>
    current.query(text, values ?? [], (e, rows) => (e ? reject(e) : resolve(rows))));
  const lease = new PgWorkSlots({ query: q, connected: () => true, getMeta: () => undefined, onConnectionLost: () => undefined }, 3_600_000);
  const events: string[] = [];
  lease.onTaken(s => events.push(`took ${s.length}`));
  lease.onLost((s, handedOver) => events.push(`${handedOver ? 'handed' : 'lost'} ${s.length}`));
  const b = await instance(url);
  try {
    b.lease.close();
    assert.equal(b.lease.slots().length, WORK_SLOTS, 'b came first and holds every slot');
    // b's session ends unnoticed: its lease still believes it holds every slot.
    await lease.tick();
    assert.deepEqual(lease.slots(), [], 'nothing is free while b\'s session lives');
    b.store.close();
    await waitFor(async () => { await lease.tick(); return lease.slots().length === WORK_SLOTS; });
    assert.deepEqual(events, [`took ${WORK_SLOTS}`]);

    // This lease's own session is swapped unnoticed, the old one still open and holding every lock.
    current = open();
    await lease.tick();
    assert.deepEqual(lease.slots(), [], 'slots its session does not hold are dropped');
    assert.deepEqual(events, [`took ${WORK_SLOTS}`, `lost ${WORK_SLOTS}`], 'and their work stopped, as on a loss');
    endClient(first);
    await waitFor(async () => { await lease.tick(); return lease.slots().length === WORK_SLOTS; });
    assert.deepEqual(events, [`took ${WORK_SLOTS}`, `lost ${WORK_SLOTS}`, `took ${WORK_SLOTS}`]);

    // A lock its session holds that it does not know of (an answer it never saw) is given back, not kept unseen.
    const slot = lease.slots()[0];
    await q(`SELECT pg_advisory_unlock(${0x67616e7472790010n + BigInt(slot)})`);
    await q(`SELECT pg_advisory_lock(${0x67616e7472790010n + BigInt(slot)})`);
    (lease as unknown as { held: Set<number> }).held.delete(slot);
    await lease.tick();
    const locks = await q(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objid::bigint = ${Number(0x67616e7472790010n & 0xffffffffn) + slot}`);
    assert.equal(locks[0].n, 0);
  } finally {
    lease.close();
    endClient(current);
  }
});

test('a feed connection cut again and again, even while it opens, leaves one feed session and a lease that works', async () => {
  const url = pg.database();
  const db = new URL(url).pathname.slice(1);
  const a = await instance(url);
  const admin = new Client();
  admin.connectSync(url);
  const sessions = () => admin.querySync(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name = 'gantry'`, [db]);
  try {
    // Cuts every other session for 3 s, so some cuts land between a reconnection's connect and its LISTEN.
    for (const end = Date.now() + 3000; Date.now() < end;) {
      admin.querySync(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name = 'gantry'`, [db]);
      await new Promise(r => setTimeout(r, Math.floor(Math.random() * 40)));
    }
    await waitFor(async () => { await a.lease.tick(); return a.lease.slots().length === WORK_SLOTS; });
    // Settled: the feed, and at most the main connection (opened again at its next query).
    await new Promise(r => setTimeout(r, 2500));
    assert.ok(sessions().length <= 2, `sessions left open: ${sessions().length}`);
    const held = admin.querySync(`SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = $1)`, [db]);
    assert.equal(held[0].n, 1, 'every lock on one session');
  } finally {
    a.lease.close();
    a.store.close();
    endClient(admin);
  }
});

test('slots spread projects: 1,000 project ids land in every slot', () => {
  const counts = new Array<number>(WORK_SLOTS).fill(0);
  for (let i = 0; i < 1000; i++) counts[slotOfProject(`project-${i}`)]++;
  assert.ok(counts.every(n => n > 1000 / WORK_SLOTS / 2), counts.join(','));
  assert.equal(projectOfName('projects/p/locations/l'), 'p');
  assert.equal(projectOfName('projects/p'), 'p');
  assert.equal(projectOfName('operations/x'), '');
});

/** A resource name whose project falls in `slot`. */
function nameIn(slot: number): string {
  for (let i = 0; ; i++) if (slotOfProject(`p${i}`) === slot) return `projects/p${i}/locations/l/targets/t`;
}

async function waitFor(ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !(await ok());) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise(r => setTimeout(r, 50));
  }
}
