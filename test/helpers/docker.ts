// A private Docker engine for container-executor tests: dockerd with every path under a temp dir, no
// bridge and no iptables (tasks run with --network none), and a busybox image imported from the
// busybox-static package (no registry is reachable). CI installs docker.io and busybox-static.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { tempDir } from './server.js';

export const TEST_IMAGE = 'gantry-test/busybox:1';

export interface TestDocker { socket: string; stop(): Promise<void> }

/** Why no engine can be had here, or undefined when one can. */
export function dockerUnavailable(): string | undefined {
  const which = (bin: string) => { try { execFileSync('which', [bin], { stdio: 'ignore' }); return true; } catch { return false; } };
  if (!which('dockerd')) return 'dockerd is not installed (apt-get install docker.io)';
  if (!existsSync('/bin/busybox')) return 'busybox is not installed (apt-get install busybox-static)';
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  return undefined;
}

export async function startDocker(): Promise<TestDocker> {
  const dir = tempDir('gantry-dockerd-');
  const socket = join(dir, 'docker.sock');
  const proc: ChildProcess = spawn('dockerd', ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${socket}`,
    '--pidfile', join(dir, 'docker.pid'), '--iptables=false', '--ip6tables=false', '--bridge=none'], { stdio: 'ignore' });
  const docker = new Docker({ socketPath: socket });
  const until = Date.now() + 20_000;
  for (;;) {
    try { await docker.ping(); break; } catch { /* not yet */ }
    if (Date.now() > until) { proc.kill('SIGKILL'); throw new Error('dockerd did not start within 20 s'); }
    await new Promise(r => setTimeout(r, 100));
  }
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'tmp'));
  cpSync('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'echo', 'cat', 'test', 'env', 'sleep', 'grep', 'sort', 'ls', 'true', 'false']) symlinkSync('busybox', join(root, 'bin', applet));
  execFileSync('sh', ['-c', `tar -C '${root}' -c . | docker -H 'unix://${socket}' import - ${TEST_IMAGE}`], { stdio: 'ignore' });
  return {
    socket,
    stop: () => new Promise<void>(r => { proc.once('exit', () => r()); proc.kill('SIGTERM'); }),
  };
}

export const NODE_IMAGE = 'gantry-test/node:local';

/**
 * A Node.js image made from this machine's own node and npm (no registry is reachable): the binary and the shared
 * libraries it links, npm, and busybox for a shell. Enough to install, build and serve a dependency-free app.
 */
export function importNodeImage(socket: string): string {
  const root = tempDir('gantry-node-rootfs-');
  const node = execFileSync('readlink', ['-f', execFileSync('which', ['node'], { encoding: 'utf8' }).trim()], { encoding: 'utf8' }).trim();
  const libs = execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n').map(l => /(\/\S+) \(0x/.exec(l)?.[1]).filter((p): p is string => !!p);
  for (const f of [node, ...libs]) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    cpSync(execFileSync('readlink', ['-f', f], { encoding: 'utf8' }).trim(), join(root, f));
  }
  if (node !== '/usr/bin/node') { mkdirSync(join(root, 'usr/bin'), { recursive: true }); symlinkSync(node, join(root, 'usr/bin/node')); }
  const npmDir = execFileSync('readlink', ['-f', join(node, '..', '..', 'lib', 'node_modules', 'npm')], { encoding: 'utf8' }).trim();
  cpSync(existsSync(npmDir) ? npmDir : '/usr/lib/node_modules/npm', join(root, 'usr/lib/node_modules/npm'), { recursive: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  for (const d of ['tmp', 'root', 'etc']) mkdirSync(join(root, d), { recursive: true });
  cpSync('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'env', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'echo', 'true']) symlinkSync('busybox', join(root, 'bin', applet));
  symlinkSync('../../bin/busybox', join(root, 'usr/bin/env'));
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/bin/npm'));
  execFileSync('sh', ['-c', `tar -C '${root}' -c . | docker -H 'unix://${socket}' import --change 'ENV PATH=/usr/bin:/bin' --change 'ENV HOME=/root' - ${NODE_IMAGE}`], { stdio: 'ignore' });
  return NODE_IMAGE;
}

/** A web server image whose own command serves `/www` on $PORT (busybox httpd): a ready-made App Hosting source. */
export function importWebImage(socket: string): string {
  const image = 'gantry-test/web:1';
  const root = tempDir('gantry-web-rootfs-');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'www'), { recursive: true });
  cpSync('/bin/busybox', join(root, 'bin', 'busybox'));
  symlinkSync('busybox', join(root, 'bin', 'sh'));
  writeFileSync(join(root, 'www', 'index.html'), 'hello from an image\n');
  execFileSync('sh', ['-c', `tar -C '${root}' -c . | docker -H 'unix://${socket}' import --change 'CMD ["/bin/sh","-c","exec /bin/busybox httpd -f -p 127.0.0.1:$PORT -h /www"]' - ${image}`], { stdio: 'ignore' });
  return image;
}
