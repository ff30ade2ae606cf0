// Deploy policy time windows and selectors, evaluated in each policy's own time zone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inWindows, violations } from '../../../src/apis/clouddeploy/policy-check.js';
import { SqliteStore } from '../../../src/store/sqlite.js';

const at = (iso: string) => Date.parse(iso);

test('weekly windows: days and times in the policy\'s zone, end exclusive, 24:00 allowed, no times = whole day', () => {
  const weekend = { timeZone: 'America/New_York', weeklyWindows: [{ daysOfWeek: ['SATURDAY', 'SUNDAY'], startTime: { hours: 0 }, endTime: { hours: 24 } }] };
  assert.equal(inWindows(weekend, at('2026-12-05T12:00:00Z')), true, 'Saturday noon UTC is Saturday in New York');
  assert.equal(inWindows(weekend, at('2026-12-05T03:00:00Z')), false, 'Saturday 03:00 UTC is still Friday in New York');
  assert.equal(inWindows(weekend, at('2026-12-08T04:59:59Z')), false, 'Monday 23:59 in New York is Monday');
  const evenings = { timeZone: 'Europe/Paris', weeklyWindows: [{ startTime: { hours: 18 }, endTime: { hours: 20 } }] };
  assert.equal(inWindows(evenings, at('2026-12-02T17:00:00Z')), true, '18:00 in Paris (winter, UTC+1) starts the window');
  assert.equal(inWindows(evenings, at('2026-12-02T19:00:00Z')), false, '20:00 in Paris: the end is exclusive');
  assert.equal(inWindows(evenings, at('2026-07-02T16:30:00Z')), true, '18:30 in Paris in summer (UTC+2)');
  const allDay = { timeZone: 'UTC', weeklyWindows: [{ daysOfWeek: ['WEDNESDAY'] }] };
  assert.equal(inWindows(allDay, at('2026-12-02T23:59:00Z')), true);
  assert.equal(inWindows(allDay, at('2026-12-03T00:00:00Z')), false);
});

test('one-time windows: start inclusive, end exclusive, in the zone', () => {
  const holidays = { timeZone: 'Asia/Tokyo', oneTimeWindows: [{ startDate: { year: 2026, month: 12, day: 24 }, startTime: { hours: 17 }, endDate: { year: 2027, month: 1, day: 2 }, endTime: { hours: 9 } }] };
  assert.equal(inWindows(holidays, at('2026-12-24T08:00:00Z')), true, '17:00 in Tokyo');
  assert.equal(inWindows(holidays, at('2026-12-24T07:59:00Z')), false);
  assert.equal(inWindows(holidays, at('2027-01-01T23:59:00Z')), true, '08:59 on Jan 2 in Tokyo');
  assert.equal(inWindows(holidays, at('2027-01-02T00:00:00Z')), false, '09:00 on Jan 2: the end is exclusive');
});

test('selectors, actions, invokers, suspension and overrides decide which restrictions apply', () => {
  const store = new SqliteStore(':memory:');
  const L = 'projects/p/locations/us-central1';
  const put = (id: string, policy: Record<string, unknown>) => store.tx(w => w.put('deployPolicy', `${L}/deployPolicies/${id}`, L, { name: `${L}/deployPolicies/${id}`, ...policy }, '2026-01-01T00:00:00Z', false));
  const always = { timeZone: 'UTC', weeklyWindows: [{}] };
  put('prod-approve', { selectors: [{ target: { labels: { tier: 'prod' } } }], rules: [{ rolloutRestriction: { id: 'r1', actions: ['APPROVE'], invokers: ['USER'], timeWindows: always } }] });
  put('web-all', { selectors: [{ deliveryPipeline: { id: 'web' }, target: { id: '*' } }], rules: [{ rolloutRestriction: { id: 'r2', timeWindows: always } }] });
  put('off', { suspended: true, selectors: [{ deliveryPipeline: { id: '*' } }], rules: [{ rolloutRestriction: { id: 'r3', timeWindows: always } }] });
  const web = { name: `${L}/deliveryPipelines/web` }, api = { name: `${L}/deliveryPipelines/api` };
  const prod = { name: `${L}/targets/prod`, labels: { tier: 'prod' } }, dev = { name: `${L}/targets/dev` };
  const now = at('2026-12-02T12:00:00Z');
  const ids = (v: { ruleId: string }[]) => v.map(x => x.ruleId).sort();
  assert.deepEqual(ids(violations(store, L, api, prod, 'APPROVE', 'USER', now)), ['r1']);
  assert.deepEqual(ids(violations(store, L, api, prod, 'APPROVE', 'DEPLOY_AUTOMATION', now)), []);
  assert.deepEqual(ids(violations(store, L, api, dev, 'APPROVE', 'USER', now)), []);
  assert.deepEqual(ids(violations(store, L, web, prod, 'CREATE', 'USER', now)), ['r2']);
  assert.deepEqual(ids(violations(store, L, web, prod, 'APPROVE', 'USER', now)), ['r1', 'r2']);
  assert.deepEqual(ids(violations(store, L, web, prod, 'APPROVE', 'USER', now, [`${L}/deployPolicies/web-all`])), ['r1']);
  assert.deepEqual(ids(violations(store, L, web, prod, 'APPROVE', 'USER', now, ['prod-approve', 'web-all'])), []);
  store.close();
});
