// The console's shared pieces: links, state badges, times and durations, tables, log panels, error notes and
// action buttons that call an API and show what it answered.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getText, localPath } from './api.js';

/** The last segment of a resource name. */
export const id = (name: string | undefined) => (name ?? '').split('/').pop() ?? '';

export function link(...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/');
}

const GOOD = new Set(['SUCCEEDED', 'READY', 'ENABLED', 'CONDITION_SUCCEEDED', 'ACTIVE', 'DOES_NOT_NEED_APPROVAL', 'APPROVED']);
const BAD = new Set(['APPROVAL_REJECTED', 'FAILED', 'CONDITION_FAILED', 'REJECTED', 'TERMINATED', 'ABORTED', 'CANCELLED', 'FAILURE', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY']);
const WAIT = new Set(['DISABLED', 'WARNING', 'PENDING_APPROVAL', 'NEEDS_APPROVAL', 'PENDING', 'QUEUED', 'PENDING_RELEASE', 'PENDING_BUILD', 'HALTED']);
const BUSY = new Set(['IN_PROGRESS', 'BUILDING', 'DEPLOYING', 'PROGRESSING', 'CANCELLING', 'TERMINATING', 'RUNNING', 'CONDITION_RECONCILING', 'BUILT']);

/** A state as a coloured badge; the text always says the state (colour is never the only cue). */
export function State({ value }: { value?: string }) {
  const v = value ?? 'STATE_UNSPECIFIED';
  const tone = GOOD.has(v) ? 'good' : BAD.has(v) ? 'bad' : WAIT.has(v) ? 'wait' : BUSY.has(v) ? 'busy' : 'none';
  return <span class={`state ${tone}`}>{v.replace(/^CONDITION_/, '').replace(/_/g, ' ').toLowerCase()}</span>;
}

export function Time({ value }: { value?: string }) {
  if (!value) return <span class="muted">—</span>;
  const d = new Date(value);
  return <time dateTime={value} title={value}>{d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60), h = Math.floor(m / 60);
  return h ? `${h}h ${m % 60}m` : `${m}m ${s % 60}s`;
}

export function Duration({ from, to }: { from?: string; to?: string }) {
  if (!from || !to) return <span class="muted">—</span>;
  return <span>{formatDuration(Date.parse(to) - Date.parse(from))}</span>;
}

export function Page({ title, crumbs, actions, children }: { title: string; crumbs?: [string, string][]; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => { document.title = `${title} · Gantry`; }, [title]);
  return (
    <main id="main" tabIndex={-1}>
      {crumbs?.length ? (
        <nav aria-label="Breadcrumb" class="crumbs">
          <ol>{crumbs.map(([label, href]) => <li><a href={href}>{label}</a></li>)}</ol>
        </nav>
      ) : null}
      <div class="page-head">
        <h1>{title}</h1>
        {actions ? <div class="actions">{actions}</div> : null}
      </div>
      {children}
    </main>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const hid = 'h-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return (
    <section aria-labelledby={hid}>
      <div class="section-head"><h2 id={hid}>{title}</h2>{actions ? <div class="actions">{actions}</div> : null}</div>
      {children}
    </section>
  );
}

/** A table that scrolls sideways on a narrow screen instead of squeezing. */
export function Table({ caption, head, rows, empty }: { caption: string; head: string[]; rows: ComponentChildren[][]; empty: string }) {
  if (!rows.length) return <p class="empty">{empty}</p>;
  return (
    // Focusable, so a keyboard can scroll it sideways on a narrow screen.
    <div class="table-wrap" role="group" aria-label={caption} tabIndex={0}>
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead><tr>{head.map(h => <th scope="col">{h}</th>)}</tr></thead>
        <tbody>{rows.map(r => <tr>{r.map((c, i) => (i === 0 ? <th scope="row">{c}</th> : <td>{c}</td>))}</tr>)}</tbody>
      </table>
    </div>
  );
}

export function Fields({ items }: { items: [string, ComponentChildren][] }) {
  return <dl class="fields">{items.map(([k, v]) => <div><dt>{k}</dt><dd>{v ?? <span class="muted">—</span>}</dd></div>)}</dl>;
}

export function ErrorNote({ message }: { message?: string }) {
  return message ? <p class="error" role="alert">{message}</p> : null;
}

export function Loading<T>({ loaded, children }: { loaded: { data?: T; error?: string; loading: boolean }; children: (data: T) => ComponentChildren }) {
  if (loaded.data !== undefined) return <>{loaded.error ? <ErrorNote message={loaded.error} /> : null}{children(loaded.data)}</>;
  if (loaded.error) return <ErrorNote message={loaded.error} />;
  return <p class="loading" aria-live="polite">Loading…</p>;
}

/**
 * A button that calls an API: disabled while it runs, and its answer (an error's message) announced next to it.
 * `confirm` asks first, for what cannot be undone.
 */
export function Action({ label, run, disabled, confirm: question, kind }: { label: string; run: () => Promise<unknown>; disabled?: boolean; confirm?: string; kind?: 'primary' | 'danger' }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const click = async () => {
    if (question && !window.confirm(question)) return;
    setBusy(true);
    setError('');
    try { await run(); } catch (e) { setError((e as Error).message); } finally { setBusy(false); }
  };
  return (
    <span class="action">
      <button type="button" class={kind ?? ''} disabled={disabled || busy} aria-busy={busy} onClick={click}>{label}</button>
      {error ? <span class="error" role="alert">{error}</span> : null}
    </span>
  );
}

/** A log, loaded from Gantry's log viewer (the same text `logUri` and `buildLogsUri` open), following changes. */
export function LogView({ url, label, refresh }: { url: string; label: string; refresh?: unknown }) {
  const [text, setText] = useState<string | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    getText(localPath(url)).then(t => { if (live) { setText(t); setError(''); } }, (e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, [url, refresh]);
  return (
    <figure class="log">
      <figcaption>{label} <a href={localPath(url)} target="_blank" rel="noopener">open as text</a></figcaption>
      {error ? <ErrorNote message={error} /> : <pre tabIndex={0} aria-label={label}>{text === undefined ? 'Loading…' : text || '(no lines yet)'}</pre>}
    </figure>
  );
}

/** Where a stored `gs://` object (or one under a `gs://` folder) is served: Cloud Storage's media download. */
export function mediaUrl(gs: string, path = ''): string | undefined {
  const m = /^gs:\/\/([^/]+)\/?(.*)$/.exec(gs);
  if (!m) return undefined;
  const object = [m[2].replace(/\/$/, ''), path].filter(Boolean).join('/');
  return object ? `/download/storage/v1/b/${encodeURIComponent(m[1])}/o/${encodeURIComponent(object)}?alt=media` : undefined;
}

/** Gantry's log viewer for a Cloud Logging filter in a project. */
export function viewerUrl(project: string, filter: string): string {
  return `/gantry/v1/logs/viewer?project=${encodeURIComponent(project)}&advancedFilter=${encodeURIComponent(filter)}`;
}

export function Progress({ label, parts, total }: { label: string; parts: [string, number][]; total: number }) {
  const done = parts.reduce((a, [, n]) => a + n, 0);
  return (
    <div class="progress" role="img" aria-label={`${label}: ${parts.filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ') || 'none started'} of ${total}`}>
      {parts.map(([k, n]) => (n ? <span class={`bar ${k}`} style={{ width: `${(100 * n) / Math.max(total, 1)}%` }} /> : null))}
      {done < total ? <span class="bar rest" style={{ width: `${(100 * (total - done)) / Math.max(total, 1)}%` }} /> : null}
    </div>
  );
}

/** A traffic split as a bar: each share as wide as its percent, and its label (what and how much) always in text. */
export function TrafficBar({ label, shares }: { label: string; shares: { name: string; percent: number }[] }) {
  return (
    <div class="split" role="list" aria-label={label}>
      {shares.map(s => <span role="listitem" class="share" style={{ flexBasis: `${s.percent}%` }} title={`${s.name} ${s.percent}%`}>{s.name} {s.percent}%</span>)}
    </div>
  );
}

/**
 * Where a browser on this machine opens a Cloud Run URL: the same host under `.localhost` at this Gantry's port
 * (browsers resolve every `*.localhost` name here, and Gantry routes it by Host as it would the `run.app` name);
 * undefined for anything but an `https://…run.app` URL, so a stored value cannot point the link elsewhere.
 */
export function localRunUrl(url: unknown): string | undefined {
  const m = /^https:\/\/((?:[a-z0-9-]{1,63}\.)+run\.app)\/?$/.exec(String(url));
  return m ? `${location.protocol}//${m[1]}.localhost${location.port ? `:${location.port}` : ''}/` : undefined;
}
