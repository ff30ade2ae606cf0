// `--image-dir IMAGE=DIR`: which images a directory stands for, the entrypoint a buildpack would give it, and the
// process executor running a task of a mapped image that has no command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { ImageDirs, parseImageDirs } from '../../src/executors/image-dirs.js';
import { ProcessExecutor } from '../../src/executors/process.js';
import { tempDir, writeTree } from '../helpers/server.js';

test('parsing: IMAGE=DIR entries, repeated or comma-separated; bad ones are named', () => {
  assert.deepEqual(parseImageDirs(['gcr.io/p/a=/srv/a,gcr.io/p/b:v2=/srv/b/', 'busybox=/srv/c']),
    [{ image: 'gcr.io/p/a', path: '/srv/a' }, { image: 'gcr.io/p/b:v2', path: '/srv/b' }, { image: 'busybox', path: '/srv/c' }]);
  assert.throws(() => parseImageDirs(['gcr.io/p/a']), /"gcr.io\/p\/a" is not IMAGE=DIR/);
  assert.throws(() => parseImageDirs(['=/srv/a']), /is not IMAGE=DIR/);
  assert.throws(() => parseImageDirs(['gcr.io/p/a=rel']), /"rel" is not an absolute path/);
  assert.throws(() => parseImageDirs(['gcr.io/p a=/srv/a']), /is not an image reference/);
  assert.throws(() => parseImageDirs(['x=/a', 'x=/b']), /x is mapped twice/);
});

test('an image without a tag stands for every tag and digest of its repository; one with a tag for that tag only', () => {
  const dirs = new ImageDirs(parseImageDirs(['gcr.io/p/job=/srv/job', 'localhost:5000/app:v1=/srv/v1', 'localhost:5000/app=/srv/any']));
  assert.equal(dirs.dirOf('gcr.io/p/job'), '/srv/job');
  assert.equal(dirs.dirOf('gcr.io/p/job:latest'), '/srv/job');
  assert.equal(dirs.dirOf(`gcr.io/p/job@sha256:${'a'.repeat(64)}`), '/srv/job');
  assert.equal(dirs.dirOf('gcr.io/p/job2'), undefined);
  assert.equal(dirs.dirOf('gcr.io/p'), undefined);
  assert.equal(dirs.dirOf('localhost:5000/app:v1'), '/srv/v1');
  assert.equal(dirs.dirOf('localhost:5000/app:v2'), '/srv/any');
  assert.equal(dirs.dirOf('localhost:5000/app'), '/srv/any');
  assert.equal(new ImageDirs(parseImageDirs(['gcr.io/p/job:v1=/srv/v1'])).dirOf('gcr.io/p/job:v2'), undefined);
  assert.equal(dirs.dirOf(undefined), undefined);
});

test('the entrypoint: the Procfile\'s web process with the args after it, else npm start, else why there is none', () => {
  const dirs = new ImageDirs();
  const procfile = writeTree(tempDir(), { Procfile: '# comment\nworker: node w.js\nweb:   node index.js --x  \r\n', 'package.json': '{}' });
  assert.deepEqual(dirs.entrypoint(procfile, ['a', 'b c']), ['/bin/sh', '-c', 'node index.js --x "$@"', 'sh', 'a', 'b c']);
  const noWeb = writeTree(tempDir(), { Procfile: 'worker: node w.js\n', 'package.json': '{"scripts":{"start":"node s.js"}}' });
  assert.deepEqual(dirs.entrypoint(noWeb, []), ['npm', 'start']);
  assert.deepEqual(dirs.entrypoint(noWeb, ['--flag']), ['npm', 'start', '--', '--flag']);
  const empty = tempDir();
  assert.match(dirs.entrypoint(empty, []) as string, /has neither a Procfile with a web process nor a package\.json/);
});

test('the process executor runs a mapped image without a command in its directory, as its Procfile says', async () => {
  const dir = realpathSync(writeTree(tempDir(), { Procfile: 'web: echo "web in $(pwd) task $CLOUD_RUN_TASK_INDEX:"\n' }));
  const ex = new ProcessExecutor(tempDir(), new ImageDirs(parseImageDirs([`gcr.io/p/job=${dir}`])));
  let out = '';
  const r = await ex.start({ image: 'gcr.io/p/job:latest', command: [], args: ['one', 'two'], env: { CLOUD_RUN_TASK_INDEX: '4' }, timeoutMs: 10_000 }, (_s, c) => { out += c; }).done;
  assert.deepEqual(r, { kind: 'exited', code: 0 });
  assert.equal(out, `web in ${dir} task 4: one two\n`);
  // A command of its own runs in the image's directory too.
  out = '';
  await ex.start({ image: 'gcr.io/p/job', command: ['pwd'], args: [], env: {}, timeoutMs: 10_000 }, (_s, c) => { out += c; }).done;
  assert.equal(out, `${dir}\n`);
  // An image nobody mapped: nothing runs, and the message says how it could.
  const none = await ex.start({ image: 'gcr.io/p/other', command: [], args: [], env: {}, timeoutMs: 10_000 }, () => {}).done;
  assert.equal(none.kind, 'failedToStart');
  assert.match((none as { message: string }).message, /ignores the image "gcr.io\/p\/other" unless the operator maps it to a directory: gantry --image-dir IMAGE=DIR/);
  // A mapped directory naming no entrypoint says so.
  const bare = new ProcessExecutor(tempDir(), new ImageDirs(parseImageDirs([`gcr.io/p/bare=${tempDir()}`])));
  const why = await bare.start({ image: 'gcr.io/p/bare', command: [], args: [], env: {}, timeoutMs: 10_000 }, () => {}).done;
  assert.match((why as { message: string }).message, /has neither a Procfile with a web process nor a package\.json/);
});
