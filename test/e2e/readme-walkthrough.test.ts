// The README's first five minutes, walked as a newcomer walks them: on a fresh clone of this repository, its quick
// start's `npm start` (the first start compiles), then every shell block of "The first five minutes" exactly as
// written, in one shell (a second terminal) that starts in the clone, with "terminal 1" blocks restarting the server
// the way a user does (Ctrl-C, then the block's command). The clone is of the committed HEAD: the README read is the
// committed one. `npm install` is the one step not repeated: the clone links the dependencies this checkout holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, tempDir } from '../helpers/server.js';
import { firebaseBin } from '../helpers/firebase.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Block { terminal: 1 | 2; text: string }

/** The quick start's two lines and the walkthrough's shell blocks, from the README's text. */
function readmeSteps(readme: string): { quickStart: string[]; blocks: Block[] } {
  const section = (title: string) => {
    const start = readme.indexOf(`\n## ${title}\n`);
    assert.ok(start >= 0, `the README has a section "${title}"`);
    const end = readme.indexOf('\n## ', start + 1);
    return readme.slice(start, end < 0 ? undefined : end);
  };
  const shellBlocks = (text: string) => [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map(m => m[1]);
  const quickStart = shellBlocks(section('Quick start'))[0].trim().split('\n');
  const blocks = shellBlocks(section('The first five minutes')).map(text => ({ terminal: /^# terminal 1\b/.test(text) ? 1 as const : 2 as const, text }));
  return { quickStart, blocks };
}

/** A server started as terminal 1 starts it: in its own process group, so Ctrl-C reaches npm and Gantry alike. */
class Terminal1 {
  proc?: ChildProcess;
  out = '';
  constructor(private readonly cwd: string, private readonly env: NodeJS.ProcessEnv) {}

  async start(command: string): Promise<void> {
    this.out = '';
    this.proc = spawn('bash', ['-c', command], { cwd: this.cwd, env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [this.proc.stdout!, this.proc.stderr!]) s.on('data', (d: Buffer) => { this.out += d.toString(); });
    const exited = new Promise<never>((_, reject) => this.proc!.once('exit', code => reject(new Error(`\`${command}\` exited (${code}):\n${this.out}`))));
    // The first start compiles the server and the console: minutes on a busy two-core machine.
    await Promise.race([eventually(() => /^Next: /m.test(this.out), 600_000), exited]);
  }

  /** Ctrl-C: SIGINT to the foreground process group; resolves once every process of it has exited. */
  async interrupt(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>(resolve => p.once('exit', () => resolve()));
    process.kill(-p.pid!, 'SIGINT');
    await Promise.race([gone, new Promise((_, reject) => setTimeout(() => reject(new Error(`Ctrl-C did not stop Gantry within 15 s:\n${this.out}`)), 15_000))]);
    await eventually(() => { try { process.kill(-p.pid!, 0); return false; } catch { return true; } }, 15_000);
  }
}

/** The second terminal: one shell, so `eval` and `cd` carry from block to block; `set -e` ends it at a failure. */
class Terminal2 {
  private readonly sh: ChildProcess;
  private out = '';
  private exited?: number | null;
  private n = 0;
  constructor(cwd: string, env: NodeJS.ProcessEnv, private readonly dir: string) {
    this.sh = spawn('bash', ['--norc', '--noprofile'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    for (const s of [this.sh.stdout!, this.sh.stderr!]) s.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.sh.on('exit', code => { this.exited = code; });
    this.sh.stdin!.write('set -eo pipefail\n');
  }

  /** Runs one block as typed into the shell (sourced, so its `cd` and exports stay); resolves with what it printed. */
  async run(block: string): Promise<string> {
    const n = ++this.n;
    const file = join(this.dir, `block-${n}.sh`);
    writeFileSync(file, block);
    const from = this.out.length;
    const marker = `__block_${n}_done__`;
    this.sh.stdin!.write(`source ${file} </dev/null\necho ${marker}\n`);
    const deadline = Date.now() + 600_000;
    while (!this.out.includes(marker, from)) {
      if (this.exited !== undefined) throw new Error(`the block failed (shell exit ${this.exited}):\n${block}\n--- output ---\n${this.out.slice(from)}`);
      if (Date.now() > deadline) throw new Error(`the block did not finish in 10 minutes:\n${block}\n--- output ---\n${this.out.slice(from)}`);
      await new Promise(r => setTimeout(r, 50));
    }
    return this.out.slice(from, this.out.indexOf(marker, from));
  }

  close(): void { this.sh.stdin!.end(); this.sh.kill(); }
}

test('the README: the quick start and the first five minutes work on a fresh clone, from another directory, through each client', { timeout: 1_500_000 }, async () => {
  const clone = join(tempDir('gantry-readme-'), 'gantry');
  execFileSync('git', ['clone', '-q', ROOT, clone]);
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  const readme = readFileSync(join(clone, 'README.md'), 'utf8');
  const { quickStart, blocks } = readmeSteps(readme);
  assert.deepEqual(quickStart, ['npm install && npm start', 'npm install && npm test'], 'the quick start is two commands');
  assert.ok(blocks.length >= 5 && blocks[0].terminal === 1, 'the walkthrough starts Gantry, then works in a second terminal');

  const home = tempDir('gantry-readme-home-');
  const firebase = await firebaseBin();
  const env: NodeJS.ProcessEnv = {
    PATH: `${join(firebase, '..')}:${process.env.PATH}`, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TZ: 'UTC', LANG: 'C.UTF-8',
    // A newcomer's machine: gcloud with a configuration of its own, nothing of Gantry in the environment but the port
    // (8080 may be taken by another test here).
    CLOUDSDK_CONFIG: join(home, 'gcloud'), CI: '1', NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false',
    GANTRY_PORT: String(await freePort()),
  };
  const server = new Terminal1(clone, env);
  const shell = new Terminal2(clone, env, tempDir('gantry-readme-blocks-'));
  const outputs: string[] = [];
  try {
    for (const block of blocks) {
      if (block.terminal === 1) {
        await server.interrupt();
        // `npm install` was done for the clone (its node_modules link); the rest of the line runs as written.
        const command = block.text.split('\n').filter(l => l.trim() && !l.startsWith('#')).join('\n').replace(/^npm install && /, '');
        await server.start(command);
        assert.match(server.out, /^Executor: /m, 'the banner says which executor runs work');
      } else {
        outputs.push(await shell.run(block.text));
      }
    }
    const url = /listening on (http:\/\/\S+)/.exec(server.out)![1];
    const all = outputs.join('\n');

    // Cloud Deploy: the release went through staging and, approved, to prod; its rendered manifest was shown.
    // The list runs a moment after the approval: staging's rollout (a render and a job of a second each) may still be
    // finishing when gcloud is quick; both end SUCCEEDED.
    assert.match(all, /rel-1-to-staging-0001\s+staging\s+(IN_PROGRESS|SUCCEEDED)\n/);
    assert.match(all, /rel-1-to-prod-0001\s+prod\s+(IN_PROGRESS|SUCCEEDED)\n/);
    const rollouts = `${url}/v1/projects/my-project/locations/us-central1/deliveryPipelines/hello/releases/rel-1/rollouts`;
    const finished = (id: string) => eventually(async () => {
      const r = await (await fetch(`${rollouts}/${id}`)).json() as { state: string; approvalState: string };
      return r.state === 'SUCCEEDED' && r;
    }, 30_000);
    await finished('rel-1-to-staging-0001');
    const prod = await finished('rel-1-to-prod-0001');
    assert.equal(prod.approvalState, 'APPROVED');
    assert.match(all, /kind: Service[\s\S]*name: hello-prod[\s\S]*image: us-docker\.pkg\.dev\/cloudrun\/container\/hello/, 'the rendered prod manifest, its image replaced');

    // Cloud Run: two simulated tasks first, then the same job run for real after the restart.
    assert.match(all, /Simulated task 0, attempt 0: exit 0/);
    assert.match(all, /Simulated task 1, attempt 0: exit 0/);
    assert.match(all, /hello from task 0/);
    assert.match(all, /hello from task 1/);
    // App Hosting: a simulated build served, then the app itself, built and started by the process executor.
    // (A simulated build is a simulated revision of the backend's Cloud Run service: it answers with who it is.)
    assert.match(all, /\{"service":"web","revision":"web-build-\d{4}-\d{2}-\d{2}-\d{3}","image":"us-central1-docker\.pkg\.dev\/my-project\/firebaseapphosting-images\/web@sha256:[0-9a-f]{64}","env":\[\],"path":"\/","simulated":true\}/);
    assert.match(all, /Hello from App Hosting/);
    // The console the walkthrough points at.
    const page = await fetch(`${url}/console`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>/);
  } finally {
    shell.close();
    await server.interrupt().catch(() => undefined);
  }
});
