// Policy etags are bytes: the base64 text a client sends back may use either alphabet (gcloud's apitools encodes
// bytes URL-safe), and must still match the etag Gantry gave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameEtag } from '../../src/google/iam.js';

test('a policy etag matches in either base64 alphabet, and only its own bytes', () => {
  const etag = Buffer.from([0xfb, 0xff, 0xbf, 0x01, 0x02, 0x03]).toString('base64');
  assert.match(etag, /[+/]/, 'the standard alphabet has + or / here');
  const urlSafe = etag.replace(/\+/g, '-').replace(/\//g, '_');
  assert.ok(sameEtag(urlSafe, etag));
  assert.ok(sameEtag(etag, etag));
  assert.ok(!sameEtag(Buffer.from([0xfb, 0xff, 0xbf, 0x01, 0x02, 0x04]).toString('base64'), etag));
  assert.ok(!sameEtag('ACAC', 'ACAB'));
});
