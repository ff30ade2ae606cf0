// Secret Manager: a project's secrets, and a secret's versions with their states. Values stay on the server: a
// version's value is fetched (`:access`, as `gcloud secrets versions access` does) only when the user asks to reveal
// it, shown until hidden, and never kept.
import { useState } from 'preact/hooks';
import { get, list, type Json } from './api.js';
import { useLive } from './live.js';
import { ErrorNote, Fields, id, link, Loading, Page, Section, State, Table, Time } from './ui.js';

const V = '/v1/';

function Secrets({ project }: { project: string }) {
  const data = useLive(() => list(`${V}projects/${project}/secrets`, 'secrets'), [`projects/${project}/`], [project]);
  return (
    <Page title="Secrets" crumbs={[['Gantry', '#/'], [project, link('p', project, 'secrets')]]}>
      <Loading loaded={data}>{secrets => (
        <Table caption="Secrets" head={['Secret', 'Replication', 'Labels', 'Created']} empty={`No secrets in ${project}. Create one with gcloud secrets create.`}
          rows={secrets.map(s => [<a href={link('p', project, 'secrets', id(s.name))}>{id(s.name)}</a>, s.replication?.userManaged ? 'user-managed' : 'automatic',
            Object.entries((s.labels ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(', '), <Time value={s.createTime} />])} />
      )}</Loading>
    </Page>
  );
}

/** A version's value, fetched when asked for and dropped when hidden. */
function Reveal({ version }: { version: Json }) {
  const [value, setValue] = useState<string | undefined>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const vid = id(version.name);
  if (version.state !== 'ENABLED') return <span class="muted">—</span>;
  if (value !== undefined) {
    return (
      <span class="action">
        <code class="secret-value" aria-label={`Value of version ${vid}`}>{value}</code>
        <button type="button" onClick={() => setValue(undefined)}>Hide<span class="sr-only"> version {vid}</span></button>
      </span>
    );
  }
  const reveal = async () => {
    setBusy(true);
    setError('');
    try {
      const r = await get(`${V}${version.name}:access`);
      const bytes = Uint8Array.from(atob(String(r.payload?.data ?? '')), c => c.charCodeAt(0));
      setValue(new TextDecoder().decode(bytes));
    } catch (e) { setError((e as Error).message); } finally { setBusy(false); }
  };
  return (
    <span class="action">
      <button type="button" disabled={busy} aria-busy={busy} onClick={reveal}>Reveal<span class="sr-only"> version {vid}</span></button>
      {error ? <ErrorNote message={error} /> : null}
    </span>
  );
}

function Secret({ project, sid }: { project: string; sid: string }) {
  const name = `projects/${project}/secrets/${sid}`;
  const data = useLive(async () => {
    const [secret, versions] = await Promise.all([get(`${V}${name}`), list(`${V}${name}/versions`, 'versions')]);
    return { secret, versions: versions.sort((a, b) => Number(id(b.name)) - Number(id(a.name))) };
  }, [`projects/${project}/`], [name]);
  return (
    <Page title={`Secret ${sid}`} crumbs={[['Gantry', '#/'], [project, link('p', project, 'secrets')], ['Secrets', link('p', project, 'secrets')]]}>
      <Loading loaded={data}>{({ secret, versions }) => (
        <>
          <Fields items={[
            ['Name', <code>{secret.name}</code>], ['Created', <Time value={secret.createTime} />],
            ['Replication', secret.replication?.userManaged ? 'user-managed' : 'automatic'], ['Versions', versions.length],
          ]} />
          <Section title="Versions">
            <p class="muted">Values are not shown until you reveal one; revealing reads it as <code>gcloud secrets versions access</code> does.</p>
            <Table caption="Versions" head={['Version', 'State', 'Created', 'Destroyed', 'Value']} empty="No versions yet: gcloud secrets versions add."
              rows={versions.map(v => [id(v.name), <State value={v.state} />, <Time value={v.createTime} />, <Time value={v.destroyTime} />, <Reveal key={v.name} version={v} />])} />
          </Section>
        </>
      )}</Loading>
    </Page>
  );
}

export function SecretsPage({ project, path }: { project: string; path: string[] }) {
  const [sid, more] = path;
  if (!sid) return <Secrets project={project} />;
  if (!more) return <Secret key={sid} project={project} sid={sid} />;
  return <Page title="Not found"><p>No such Secret Manager page.</p></Page>;
}
