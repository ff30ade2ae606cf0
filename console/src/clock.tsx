// The clock (Gantry's time: real, or virtual and moved only by advances) in the header and on its own page, with the
// scenarios: outcome rules that script what work in every API does.
import { useEffect, useState } from 'preact/hooks';
import { call, get, post } from './api.js';
import { onEvent, useLive } from './live.js';
import { StateSection } from './state.js';
import { Action, ErrorNote, link, Loading, Page, Section, Table } from './ui.js';

interface ClockView { mode: 'real' | 'virtual'; now: string }
let clock: { view?: ClockView; readAt: number } = { readAt: 0 };
const clockListeners = new Set<() => void>();

export async function refreshClock(): Promise<void> {
  const view = await get<ClockView>('/gantry/v1/clock');
  clock = { view, readAt: Date.now() };
  for (const l of clockListeners) l();
}

/** Gantry's time now: a running clock is read once and then ticks here; a virtual one stands where it was read. */
function nowOf(c: typeof clock): number | undefined {
  if (!c.view) return undefined;
  const at = Date.parse(c.view.now);
  return c.view.mode === 'real' ? at + (Date.now() - c.readAt) : at;
}

function useClock(): { view?: ClockView; now?: number } {
  const [, tick] = useState(0);
  useEffect(() => {
    const update = () => tick(n => n + 1);
    clockListeners.add(update);
    if (!clock.view) void refreshClock().catch(() => undefined);
    // A real clock ticks each second; events (advances made elsewhere) and a slow poll keep a virtual one current.
    const second = setInterval(() => { if (clock.view?.mode === 'real') update(); }, 1000);
    const poll = setInterval(() => void refreshClock().catch(() => undefined), 10_000);
    let pending: ReturnType<typeof setTimeout> | undefined;
    const off = onEvent(() => {
      if (clock.view?.mode !== 'virtual' || pending) return;
      pending = setTimeout(() => { pending = undefined; void refreshClock().catch(() => undefined); }, 200);
    });
    return () => { clockListeners.delete(update); clearInterval(second); clearInterval(poll); off(); if (pending) clearTimeout(pending); };
  }, []);
  return { view: clock.view, now: nowOf(clock) };
}

const show = (ms?: number) => (ms === undefined ? '…' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

/** The clock page, keeping the project chosen. */
export const clockLink = (project?: string) => (project ? link('p', project, 'clock') : '#/clock');

export function ClockBadge({ project }: { project?: string }) {
  const { view, now } = useClock();
  return (
    <a class={`clock ${view?.mode ?? ''}`} href={clockLink(project)} title="Gantry's clock">
      <span class="sr-only">Clock, </span>{view?.mode === 'virtual' ? 'virtual ' : ''}<time>{show(now)}</time>
    </a>
  );
}

const STEPS = ['1m', '10m', '1h'];

function ClockPanel() {
  const { view, now } = useClock();
  const [duration, setDuration] = useState('90s');
  const [to, setTo] = useState('');
  const [error, setError] = useState('');
  const act = async (path: string, body: unknown = {}) => {
    setError('');
    try { await post(path, body); } catch (e) { setError((e as Error).message); }
    await refreshClock();
  };
  const virtual = view?.mode === 'virtual';
  return (
    <Section title="Clock">
      <p class="clock-now"><span class={`mode ${view?.mode ?? ''}`}>{view?.mode ?? '…'}</span> <time aria-live="polite">{show(now)}</time></p>
      <p class="muted">{virtual
        ? 'Time stands still until you advance it; every render, job, task and build waits for it, and an advance returns once everything it set off has settled.'
        : 'Time runs with the wall clock. Freeze it to step through work exactly.'}</p>
      <div class="actions">
        {virtual
          ? <Action label="Unfreeze (run in real time)" run={() => act('/gantry/v1/clock:unfreeze')} />
          : <Action label="Freeze" run={() => act('/gantry/v1/clock:freeze')} />}
        {STEPS.map(d => <Action label={`Advance ${d}`} disabled={!virtual} run={() => act('/gantry/v1/clock:advance', { duration: d })} />)}
      </div>
      <form class="inline" onSubmit={e => { e.preventDefault(); void act('/gantry/v1/clock:advance', { duration }); }}>
        <label>Advance by <input value={duration} onInput={e => setDuration((e.target as HTMLInputElement).value)} size={8} aria-describedby="duration-help" /></label>
        <button type="submit" disabled={!virtual}>Advance</button>
        <span id="duration-help" class="muted">e.g. 90s, 10m, 1h30m or 600s</span>
      </form>
      <form class="inline" onSubmit={e => { e.preventDefault(); void act('/gantry/v1/clock:advance', { to }); }}>
        <label>Advance to <input value={to} placeholder={show(now).replace(' ', 'T')} onInput={e => setTo((e.target as HTMLInputElement).value)} size={22} aria-describedby="to-help" /></label>
        <button type="submit" disabled={!virtual}>Advance to</button>
        <span id="to-help" class="muted">an RFC 3339 instant, e.g. 2030-01-01T09:00:00Z</span>
      </form>
      <ErrorNote message={error} />
    </Section>
  );
}

interface Script { name: string; scope: string; rules: string }

function Scenarios() {
  const scripts = useLive(async () => (await get<{ outcomes?: Script[] }>('/gantry/v1/outcomes')).outcomes ?? [], [], []);
  const [scope, setScope] = useState('');
  const [rules, setRules] = useState('');
  const [error, setError] = useState('');
  const add = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await post('/gantry/v1/outcomes', { scope, rules });
      setRules('');
      scripts.reload();
    } catch (x) { setError((x as Error).message); }
  };
  return (
    <Section title="Scenarios">
      <p class="muted">Outcome rules script what work does, matched by resource name prefix: Cloud Deploy jobs
        (<code>stable/verify=fail:EXECUTION_FAILED"smoke test failed"@1</code>), Cloud Run tasks (<code>1=fail:137~30s</code>)
        and App Hosting builds (<code>build=fail"npm ERR!"</code>).</p>
      <Loading loaded={scripts}>{list => (
        <Table caption="Outcome rules" head={['Scope', 'Rules', '']} empty="No outcome rules: every piece of work succeeds."
          rows={list.map(s => [<code>{s.scope || '(everything)'}</code>, <code>{s.rules}</code>,
            <Action label="Remove" kind="danger" run={async () => { await call('DELETE', `/gantry/v1/${s.name}`); scripts.reload(); }} />])} />
      )}</Loading>
      <form class="stack" onSubmit={add} aria-labelledby="add-rules">
        <h3 id="add-rules">Add rules</h3>
        <label>Scope (a resource name or prefix; empty for everything)
          <input value={scope} onInput={e => setScope((e.target as HTMLInputElement).value)} placeholder="projects/my-project/locations/us-central1/deliveryPipelines/web" />
        </label>
        <label>Rules (separated by ;)
          <input value={rules} required onInput={e => setRules((e.target as HTMLInputElement).value)} placeholder="stable/verify=fail:EXECUTION_FAILED@1" />
        </label>
        <div><button type="submit" class="primary">Add</button></div>
        <ErrorNote message={error} />
      </form>
    </Section>
  );
}

export function ClockPage({ project }: { project?: string }) {
  return (
    <Page title="Clock & scenarios" crumbs={[['Gantry', '#/']]}>
      <ClockPanel />
      <Scenarios />
      <StateSection project={project} />
    </Page>
  );
}
