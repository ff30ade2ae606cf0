// Cloud Run services (through the v2 API): services with their URL as a browser here opens it; a service's traffic
// as a bar (percent per revision), its tags with their URLs, its revisions with readiness and Cloud Run's message,
// and a revision's log (its cloud_run_revision entries: the app's output and the requests it served).
import { useEffect, useState } from 'preact/hooks';
import { get, list, post, type Json } from './api.js';
import { useLive } from './live.js';
import { message } from './logs.js';
import { ErrorNote, Fields, id, link, Loading, localRunUrl, Page, Section, State, Table, Time, TrafficBar } from './ui.js';

const V2 = '/v2/';

/** A service's or revision's readiness, from its Ready condition (v2 `terminalCondition` for a service). */
function readyOf(r: Json): Json | undefined {
  return r.terminalCondition ?? ((r.conditions ?? []) as Json[]).find(c => c.type === 'Ready');
}

/** A Ready condition's state as the Cloud console words it: ready, failed, or still reconciling. */
function Readiness({ ready }: { ready?: Json }) {
  const s = ready?.state;
  return <State value={s === 'CONDITION_SUCCEEDED' ? 'READY' : s === 'CONDITION_FAILED' ? 'FAILED' : s} />;
}

/** The URL a browser on this machine opens (the `.localhost` form), linked, with the Google URL it stands for. */
function RunLink({ url }: { url: unknown }) {
  const local = localRunUrl(url);
  if (!local) return <span class="muted">—</span>;
  return <a class="app-url" href={local} target="_blank" rel="noopener" title={`Served here for ${String(url)}`}>{local}</a>;
}

/**
 * Who gets the service's requests: `trafficStatuses` (what serves now) with a LATEST entry resolved to the latest
 * ready revision, each revision once (percentages of one revision add up).
 */
function sharesOf(svc: Json): { name: string; percent: number }[] {
  const latest = id(svc.latestReadyRevision);
  const by = new Map<string, number>();
  for (const t of (svc.trafficStatuses ?? []) as Json[]) {
    const rev = t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' ? latest : id(t.revision);
    if (t.percent) by.set(rev || 'latest', (by.get(rev || 'latest') ?? 0) + Number(t.percent));
  }
  return [...by].map(([name, percent]) => ({ name, percent }));
}

const tagsOf = (svc: Json): Json[] => ((svc.trafficStatuses ?? []) as Json[]).filter(t => t.tag);

function Services({ project }: { project: string }) {
  const data = useLive(() => list(`${V2}projects/${project}/locations/-/services`, 'services'), [`projects/${project}/`], [project]);
  return (
    <Page title="Cloud Run services" crumbs={[['Gantry', '#/'], [project, link('p', project, 'services')]]}>
      <Loading loaded={data}>{services => (
        <Table caption="Services" head={['Service', 'Region', 'Ready', 'URL', 'Serving', 'Updated']} empty={`No Cloud Run services in ${project}. Deploy one with gcloud run deploy.`}
          rows={services.map(s => {
            const [, , , loc, , sid] = String(s.name).split('/');
            const shares = sharesOf(s);
            return [<a href={link('p', project, 'services', loc, sid)}>{sid}</a>, loc, <Readiness ready={readyOf(s)} />, <RunLink url={s.urls?.[0] ?? s.uri} />,
              shares.length ? shares.map(x => `${x.name} ${x.percent}%`).join(', ') : <span class="muted">nothing yet</span>, <Time value={s.updateTime} />];
          })} />
      )}</Loading>
    </Page>
  );
}

/** One log line of a revision: a request as Cloud Run logs it (method, status, URL, latency), else the app's text. */
function lineOf(e: Json): string {
  const h = e.httpRequest;
  const text = h ? `${h.requestMethod ?? ''} ${h.status ?? ''} ${h.requestUrl ?? ''} ${h.latency ?? ''}` : message(e);
  return `${String(e.timestamp ?? '').replace('T', ' ').replace(/\.\d+Z$/, 'Z')} ${(e.severity ?? 'DEFAULT').padEnd(7)} ${text}`;
}

/** A revision's newest 200 entries (Cloud Logging's `entries:list`, as `gcloud logging read` asks), oldest first. */
function RevisionLog({ project, loc, sid, rev }: { project: string; loc: string; sid: string; rev: string }) {
  const [lines, setLines] = useState<string[] | undefined>();
  const [error, setError] = useState('');
  const [asked, setAsked] = useState(0);
  const filter = `resource.type="cloud_run_revision" AND resource.labels.location="${loc}" AND resource.labels.service_name="${sid}" AND resource.labels.revision_name="${rev}"`;
  useEffect(() => {
    let live = true;
    post<{ entries?: Json[] }>(`${V2}entries:list`, { resourceNames: [`projects/${project}`], filter, orderBy: 'timestamp desc', pageSize: 200 }).then(
      r => { if (live) { setLines((r.entries ?? []).reverse().map(lineOf)); setError(''); } },
      (e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, [filter, asked]);
  const label = `Log of revision ${rev}`;
  return (
    <figure class="log">
      <figcaption>{label} <button type="button" onClick={() => setAsked(n => n + 1)}>Reload</button></figcaption>
      {error ? <ErrorNote message={error} /> : <pre tabIndex={0} aria-label={label}>{lines === undefined ? 'Loading…' : lines.join('\n') || '(no entries yet)'}</pre>}
    </figure>
  );
}

function Service({ project, loc, sid }: { project: string; loc: string; sid: string }) {
  const name = `projects/${project}/locations/${loc}/services/${sid}`;
  // Revisions are stored per region (`…/locations/L/revisions/R`), not under their service: the feed names them so.
  const data = useLive(async () => {
    const [service, revisions] = await Promise.all([get(`${V2}${name}`), list(`${V2}${name}/revisions`, 'revisions')]);
    return { service, revisions: revisions.sort((a, b) => String(b.createTime).localeCompare(String(a.createTime))) };
  }, [name, `projects/${project}/locations/${loc}/revisions/${sid}-`], [name]);
  const [open, setOpen] = useState<string | undefined>();
  return (
    <Page title={sid} crumbs={[['Gantry', '#/'], [project, link('p', project, 'services')], ['Services', link('p', project, 'services')]]}>
      <Loading loaded={data}>{({ service, revisions }) => {
        const shares = sharesOf(service), tags = tagsOf(service), ready = readyOf(service);
        const c = service.template?.containers?.[0] ?? {};
        const percentOf = (rev: string) => shares.find(s => s.name === rev)?.percent ?? 0;
        return (
          <>
            <Fields items={[
              ['URL', <RunLink url={service.urls?.[0] ?? service.uri} />], ['Ready', <Readiness ready={ready} />],
              ['Message', ready?.message ? <span class={ready.state === 'CONDITION_FAILED' ? 'error-text' : ''}>{ready.message}</span> : undefined],
              ['Image', c.image ? <code>{c.image}</code> : undefined], ['Latest ready', id(service.latestReadyRevision) || undefined],
              ['Created', <Time value={service.createTime} />], ['Updated', <Time value={service.updateTime} />],
            ]} />
            <Section title="Traffic">
              {shares.length ? <TrafficBar label={`Traffic of ${sid}`} shares={shares} /> : <p class="empty">No revision serves traffic yet.</p>}
              {tags.length ? (
                <Table caption="Tags" head={['Tag', 'Revision', 'URL']} empty=""
                  rows={tags.map(t => [t.tag, t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' ? `${id(service.latestReadyRevision)} (latest)` : id(t.revision), <RunLink url={t.uri} />])} />
              ) : null}
            </Section>
            <Section title="Revisions">
              <Table caption="Revisions" head={['Revision', 'Ready', 'Traffic', 'Tags', 'Image', 'Created', 'Message', 'Log']} empty="No revisions yet."
                rows={revisions.map(r => {
                  const rid = id(r.name), rr = readyOf(r);
                  return [rid, <Readiness ready={rr} />, `${percentOf(rid)}%`, tags.filter(t => id(t.revision) === rid).map(t => <span class="chip">{t.tag}</span>),
                    <code>{r.containers?.[0]?.image}</code>, <Time value={r.createTime} />,
                    rr?.message ? <span class={rr.state === 'CONDITION_FAILED' ? 'error-text' : 'muted'}>{rr.message}</span> : '',
                    <button type="button" aria-expanded={open === rid} onClick={() => setOpen(open === rid ? undefined : rid)}>{open === rid ? 'Hide log' : 'Show log'}<span class="sr-only"> of {rid}</span></button>];
                })} />
              {open ? <RevisionLog key={open} project={project} loc={loc} sid={sid} rev={open} /> : null}
            </Section>
          </>
        );
      }}</Loading>
    </Page>
  );
}

export function ServicesPage({ project, path }: { project: string; path: string[] }) {
  const [loc, sid, rest] = path;
  if (!loc) return <Services project={project} />;
  if (sid && !rest) return <Service key={`${loc}/${sid}`} project={project} loc={loc} sid={sid} />;
  return <Page title="Not found"><p>No such Cloud Run page.</p></Page>;
}
