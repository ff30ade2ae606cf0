// Firebase App Hosting: backends; a backend's traffic split, builds (with their source: a commit or an archive) and
// rollouts, with the running app's local URL (through Gantry, at `{host}.localhost`, the host derived from the
// backend's name); a build's state, source, error and build log.
import { get, list, post, type Json } from './api.js';
import { useLive } from './live.js';
import { Action, Fields, id, link, Loading, LogView, mediaUrl, Page, Section, State, Table, Time, TrafficBar, viewerUrl } from './ui.js';

const V = '/v1beta/';

/**
 * The host name Gantry serves a backend's app at, derived from the backend's name (never its stored `uri`, which a
 * snapshot could set to any host): `{backend}--{project}.{region}.hosted.app`, each part a DNS label; else undefined.
 */
function appHost(name: unknown): string | undefined {
  const m = /^projects\/([a-z0-9-]{1,63})\/locations\/([a-z0-9-]{1,63})\/backends\/([a-z0-9-]{1,63})$/.exec(String(name));
  return m ? `${m[3]}--${m[1]}.${m[2]}.hosted.app` : undefined;
}

/**
 * The app's local URL through this Gantry (browsers resolve every `*.localhost` name to this machine), written out
 * since firebase-tools prints the `hosted.app` one, which does not resolve here; or '—'.
 */
function AppLink({ name }: { name: unknown }) {
  const host = appHost(name);
  if (!host) return <span class="muted">—</span>;
  const url = `${location.protocol}//${host}.localhost${location.port ? `:${location.port}` : ''}/`;
  return <a class="app-url" href={url} target="_blank" rel="noopener" title={`Served here for https://${host}/`}>{url}</a>;
}

/** Where a build's source came from: a commit, an archive in Cloud Storage (linked), or a container image. */
function Source({ build }: { build: Json }) {
  const s = build.source ?? {};
  const c = s.codebase;
  if (c) return <span title={c.commitMessage}>{c.displayName ?? c.hash?.slice(0, 8)} {c.commitMessage ?? ''}</span>;
  const a = s.archive ?? s.locallyBuilt;
  if (a) {
    const uri = String(a.userStorageUri ?? a.externalSignedUri ?? '');
    const href = mediaUrl(uri);
    return (
      <span>{s.archive ? 'archive ' : 'locally built '}{href ? <a href={href} target="_blank" rel="noopener"><code>{uri}</code></a> : <code>{uri}</code>}
        {a.rootDirectory && a.rootDirectory !== '/' ? <span class="muted"> in {a.rootDirectory}</span> : null}
        {a.description ? <span class="muted"> · {a.description}</span> : null}</span>
    );
  }
  if (s.container) return <code>{s.container.image}</code>;
  return <span class="muted">—</span>;
}

function buildLogUrl(project: string, build: Json): string | undefined {
  const m = /\/builds;region=[^/]+\/([^/?]+)/.exec(String(build.buildLogsUri ?? ''));
  return m ? viewerUrl(project, `resource.type="build"\nresource.labels.build_id="${m[1]}"`) : undefined;
}

function Backends({ project }: { project: string }) {
  const data = useLive(async () => {
    const backends = await list(`${V}projects/${project}/locations/-/backends`, 'backends');
    const traffic = await Promise.all(backends.map(b => get(`${V}${b.name}/traffic`).catch(() => ({}) as Json)));
    return { backends, traffic };
  }, [`projects/${project}/`], [project]);
  return (
    <Page title="App Hosting backends" crumbs={[['Gantry', '#/'], [project, link('p', project, 'apphosting')]]}>
      <Loading loaded={data}>{({ backends, traffic }) => (
        <Table caption="Backends" head={['Backend', 'Region', 'Serving', 'App', 'Created']} empty={`No App Hosting backends in ${project}. Create one with firebase apphosting:backends:create.`}
          rows={backends.map((b, i) => {
            const [, , , loc, , bid] = String(b.name).split('/');
            const splits = (traffic[i].current?.splits ?? []) as Json[];
            return [<a href={link('p', project, 'apphosting', loc, bid)}>{bid}</a>, loc, splits.length ? splits.map(s => `${id(s.build)} ${s.percent}%`).join(', ') : <span class="muted">nothing yet</span>,
              <AppLink name={b.name} />, <Time value={b.createTime} />];
          })} />
      )}</Loading>
    </Page>
  );
}

function Backend({ project, loc, bid }: { project: string; loc: string; bid: string }) {
  const name = `projects/${project}/locations/${loc}/backends/${bid}`;
  const data = useLive(async () => {
    const [backend, traffic, builds, rollouts] = await Promise.all([get(`${V}${name}`), get(`${V}${name}/traffic`), list(`${V}${name}/builds?orderBy=createTime desc`, 'builds'), list(`${V}${name}/rollouts?orderBy=createTime desc`, 'rollouts')]);
    return { backend, traffic, builds, rollouts };
  }, [name], [name]);
  return (
    <Page title={bid} crumbs={[['Gantry', '#/'], [project, link('p', project, 'apphosting')], ['Backends', link('p', project, 'apphosting')]]}>
      <Loading loaded={data}>{({ backend, traffic, builds, rollouts }) => {
        const splits = (traffic.current?.splits ?? []) as Json[];
        return (
          <>
            <Fields items={[
              ['App', <AppLink name={backend.name} />],
              ['Cloud Run service', <RunServiceLink project={project} service={backend.managedResources?.[0]?.runService?.service} />],
              ['Repository', backend.codebase?.repository ? id(backend.codebase.repository) : undefined], ['Root directory', backend.codebase?.rootDirectory ?? '/'],
              ['Service account', backend.serviceAccount], ['Created', <Time value={backend.createTime} />],
              ['Automatic rollouts', traffic.rolloutPolicy?.codebaseBranch ? `branch ${traffic.rolloutPolicy.codebaseBranch}${traffic.rolloutPolicy.disabled ? ' (disabled)' : ''}` : 'off'],
            ]} />
            <Section title="Traffic">
              {splits.length ? (
                <TrafficBar label="Traffic split" shares={splits.map(s => ({ name: id(s.build), percent: Number(s.percent) }))} />
              ) : <p class="empty">No build serves traffic yet.</p>}
              {traffic.target ? <p class="muted">Pinned by traffic.target.</p> : null}
            </Section>
            <Section title="Builds">
              <Table caption="Builds" head={['Build', 'State', 'Source', 'Created', 'Error', '']} empty="No builds yet."
                rows={builds.map(b => [<a href={link('p', project, 'apphosting', loc, bid, 'builds', id(b.name))}>{id(b.name)}</a>, <State value={b.state} />,
                  <Source build={b} />,
                  <Time value={b.createTime} />, b.errors?.[0]?.error?.message ? <span class="error-text">{String(b.errors[0].error.message).replace(/ The build log is at .*$/, '')}</span> : '',
                  b.state === 'READY' && !splits.some(s => s.build === b.name) ? <Action label="Roll out" run={() => post(`${V}${name}/rollouts`, { build: b.name })} /> : null])} />
            </Section>
            <Section title="Rollouts">
              <Table caption="Rollouts" head={['Rollout', 'Build', 'State', 'Created', 'Error']} empty="No rollouts yet."
                rows={rollouts.map(r => [id(r.name), id(r.build), <State value={r.state} />, <Time value={r.createTime} />, r.error?.message ?? ''])} />
            </Section>
          </>
        );
      }}</Loading>
    </Page>
  );
}

function Build({ project, loc, bid, build }: { project: string; loc: string; bid: string; build: string }) {
  const name = `projects/${project}/locations/${loc}/backends/${bid}/builds/${build}`;
  const data = useLive(() => get(`${V}${name}`), [name], [name]);
  return (
    <Page title={`Build ${build}`} crumbs={[['Gantry', '#/'], [project, link('p', project, 'apphosting')], [bid, link('p', project, 'apphosting', loc, bid)]]}>
      <Loading loaded={data}>{b => {
        const log = buildLogUrl(project, b);
        const c = b.source?.codebase;
        return (
          <>
            <Fields items={[
              ['State', <State value={b.state} />], ['Source', <Source build={b} />], ['Author', c?.author?.displayName ?? b.source?.archive?.author?.displayName],
              ['Image', b.image ? <code>{b.image}</code> : undefined], ['Created', <Time value={b.createTime} />], ['Updated', <Time value={b.updateTime} />],
              ['Error', b.errors?.length ? <span class="error-text">{b.errors.map((e: Json) => `${e.errorSource}: ${e.error?.message}`).join('; ')}</span> : undefined],
            ]} />
            <Section title="Build log">{log ? <LogView label={`Build log of ${build}`} url={log} refresh={b.etag} /> : <p class="empty">No build log.</p>}</Section>
          </>
        );
      }}</Loading>
    </Page>
  );
}

export function AppHostingPage({ project, path }: { project: string; path: string[] }) {
  const [loc, bid, b, build] = path;
  if (!loc) return <Backends project={project} />;
  if (bid && !b) return <Backend project={project} loc={loc} bid={bid} />;
  if (b === 'builds' && build) return <Build key={build} project={project} loc={loc} bid={bid} build={build} />;
  return <Page title="Not found"><p>No such App Hosting page.</p></Page>;
}

/** The backend's managed Cloud Run service (`managedResources.runService`), linked to its page: the builds are its revisions. */
function RunServiceLink({ project, service }: { project: string; service?: string }) {
  const m = /^projects\/[^/]+\/locations\/([^/]+)\/services\/([^/]+)$/.exec(String(service ?? ''));
  return m ? <a href={link('p', project, 'services', m[1], m[2])}>{m[2]}</a> : <span class="muted">—</span>;
}
