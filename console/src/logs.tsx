// Cloud Logging: a project's entries, newest first, for a filter in the Logging query language (the same
// `entries:list` call `gcloud logging read` makes). Following polls for what arrived since the newest shown, every
// two seconds while the page is open.
import { useEffect, useRef, useState } from 'preact/hooks';
import { post, type Json } from './api.js';
import { ErrorNote, id, link, Page, Section, State, Table, Time } from './ui.js';

/** Most entries the page holds: the oldest fall off as new ones arrive. */
const KEEP = 500;
const POLL_MS = 2000;

export function message(e: Json): string {
  if (typeof e.textPayload === 'string') return e.textPayload;
  const j = e.jsonPayload;
  if (j) return typeof j.message === 'string' ? j.message : JSON.stringify(j);
  if (e.protoPayload) return JSON.stringify(e.protoPayload);
  return '';
}

function resourceOf(e: Json): string {
  const r = e.resource ?? {};
  const labels = Object.entries((r.labels ?? {}) as Record<string, string>).filter(([k]) => k !== 'project_id').map(([, v]) => v);
  return [r.type, ...labels].filter(Boolean).join(' ');
}

export function LogsPage({ project }: { project: string }) {
  const [draft, setDraft] = useState('');
  const [filter, setFilter] = useState('');
  const [entries, setEntries] = useState<Json[] | undefined>();
  const [error, setError] = useState('');
  const [follow, setFollow] = useState(false);
  const newest = useRef<string | undefined>();
  const query = (extra?: string) => post<{ entries?: Json[] }>('/v2/entries:list', {
    resourceNames: [`projects/${project}`], orderBy: 'timestamp desc', pageSize: 200,
    filter: [filter.trim() && `(${filter.trim()})`, extra].filter(Boolean).join(' AND '),
  });
  useEffect(() => {
    let live = true;
    setEntries(undefined);
    setError('');
    newest.current = undefined;
    query().then(r => {
      if (!live) return;
      const got = r.entries ?? [];
      newest.current = got[0]?.timestamp;
      setEntries(got);
    }, (e: Error) => { if (live) { setError(e.message); setEntries([]); } });
    return () => { live = false; };
  }, [project, filter]);
  useEffect(() => {
    if (!follow) return;
    let busy = false;
    const timer = setInterval(() => {
      if (busy || entries === undefined) return;
      busy = true;
      const since = newest.current;
      // From the newest shown on (entries can share a timestamp), less those already shown.
      query(since ? `timestamp>="${since}"` : undefined).then(r => {
        setEntries(old => {
          const seen = new Set((old ?? []).filter(e => e.timestamp === since).map(e => e.insertId));
          const got = (r.entries ?? []).filter(e => !seen.has(e.insertId));
          if (!got.length) return old;
          newest.current = got[0].timestamp;
          return [...got, ...(old ?? [])].slice(0, KEEP);
        });
        setError('');
      }, (e: Error) => setError(e.message)).finally(() => { busy = false; });
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [follow, project, filter, entries === undefined]);
  return (
    <Page title="Logs" crumbs={[['Gantry', '#/'], [project, link('p', project, 'logs')]]}>
      <Section title="Query">
        <form class="stack" onSubmit={e => { e.preventDefault(); setFilter(draft); }}>
          <label>Filter (the Logging query language; empty for every entry of {project})
            <textarea rows={3} value={draft} onInput={e => setDraft((e.target as HTMLTextAreaElement).value)} placeholder={'resource.type="cloud_run_job"\nseverity>=WARNING'} />
          </label>
          <div class="actions">
            <button type="submit" class="primary">Run query</button>
            <label class="check"><input type="checkbox" checked={follow} onChange={e => setFollow((e.target as HTMLInputElement).checked)} /> Follow new entries</label>
          </div>
        </form>
      </Section>
      <Section title="Entries">
        <ErrorNote message={error} />
        {entries === undefined ? <p class="loading" aria-live="polite">Loading…</p> : (
          <div aria-live={follow ? 'polite' : undefined}>
            <Table caption="Log entries" head={['Time', 'Severity', 'Log', 'Resource', 'Message']} empty="No entries match."
              rows={entries.map(e => [<Time value={e.timestamp} />, <State value={e.severity ?? 'DEFAULT'} />, decodeURIComponent(id(e.logName)), resourceOf(e), <span class="log-text">{message(e)}</span>])} />
          </div>
        )}
      </Section>
    </Page>
  );
}
