// `gantry exec [options] -- CMD …`: CMD runs with the environment `gantry env` prints, pointed at a Gantry started for
// it; its exit status becomes gantry's (as `firebase emulators:exec`). How a CI job uses Gantry.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { clientEnvironment, type EnvTarget } from './env.js';

/** The serving flags before `--`, the command after it. */
export function splitExecArgs(args: string[]): { flags: string[]; command: string[] } {
  const dash = args.indexOf('--');
  const command = dash < 0 ? [] : args.slice(dash + 1);
  const flags = dash < 0 ? args : args.slice(0, dash);
  if (!command.length && (flags.includes('--help') || flags.includes('-h'))) return { flags, command };
  if (!command.length) throw new Error('give the command after --, e.g. gantry exec -- npm test');
  return { flags, command };
}

/** Runs the command to its end with Gantry's client environment; resolves to its exit status (128 + N when killed by
 *  signal N, 127 when it cannot be started). SIGINT and SIGTERM sent to gantry are passed on to it. */
export function runUnderGantry(command: string[], target: EnvTarget): Promise<number> {
  return new Promise(resolve => {
    const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, ...Object.fromEntries(clientEnvironment(target)) } });
    const pass = (sig: NodeJS.Signals) => () => { child.kill(sig); };
    const handlers = (['SIGINT', 'SIGTERM'] as const).map(sig => [sig, pass(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const done = (status: number) => { for (const [sig, h] of handlers) process.off(sig, h); resolve(status); };
    child.once('error', e => {
      process.stderr.write(`gantry exec: cannot run ${command[0]}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such command' : e.message}\n`);
      done(127);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
