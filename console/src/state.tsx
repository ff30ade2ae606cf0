// Gantry's state as a whole (the control API): a snapshot downloaded as the NDJSON `gantry snapshot` writes, and a
// reset that empties a project, or everything, after the user confirms.
import { useState } from 'preact/hooks';
import { authHeaders, call } from './api.js';
import { Action, Section } from './ui.js';

/** Fetches the snapshot (with the token, if any) and hands it to the browser as a file. */
async function download(project?: string): Promise<void> {
  const r = await fetch(`/gantry/v1/snapshot${project ? `?project=${encodeURIComponent(project)}` : ''}`, { headers: authHeaders() });
  if (!r.ok) throw new Error(`HTTP ${r.status}: ${(await r.text()).slice(0, 200)}`);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `gantry-${project ?? 'all'}-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function StateSection({ project }: { project?: string }) {
  const [done, setDone] = useState('');
  const reset = async (p?: string) => {
    const r = await call<Record<string, unknown>>('POST', '/gantry/v1/reset', p ? { project: p } : {});
    setDone(`Reset ${p ?? 'every project'}${typeof r.resources === 'number' ? `: ${r.resources} resources deleted` : ''}.`);
  };
  return (
    <Section title="State">
      <p class="muted">A snapshot holds every resource as NDJSON (<code>gantry snapshot</code>); import it with <code>POST /gantry/v1/snapshot:import</code>. A reset deletes resources and cannot be undone.</p>
      <div class="actions">
        {project ? <Action label={`Download snapshot of ${project}`} run={() => download(project)} /> : null}
        <Action label="Download snapshot of everything" run={() => download()} />
        {project ? <Action label={`Reset ${project}`} kind="danger" confirm={`Delete everything stored in project ${project}? This cannot be undone.`} run={() => reset(project)} /> : null}
        <Action label="Reset everything" kind="danger" confirm="Delete everything Gantry stores, in every project? This cannot be undone." run={() => reset()} />
      </div>
      {done ? <p role="status" class="note">{done}</p> : null}
    </Section>
  );
}
